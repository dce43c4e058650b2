#!/usr/bin/env bash
# Start a throw-away one-node Slurm cluster (munge + slurmctld + slurmd) on
# this machine, without systemd, so tests can run real `srun` jobs.
# Idempotent: returns at once when the cluster already runs jobs.
set -euo pipefail

NODE=$(hostname -s)
NCPU=$(nproc)
CONF=/etc/slurm/slurm.conf
LOGDIR=/var/log/slurm
WAIT_S=${SLURM_START_WAIT_S:-60}

# Daemons run as root (SlurmUser=root) so no ownership juggling is needed;
# linuxproc/none plugins avoid cgroups, which containers rarely delegate;
# OverSubscribe=FORCE lets separate jobs share the 2 cores.
CONF_TEXT=$(cat <<EOF
ClusterName=mmrethink
SlurmctldHost=$NODE
SlurmUser=root
AuthType=auth/munge
MpiDefault=none
MailProg=/bin/true
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=$LOGDIR/slurmctld.log
SlurmdLogFile=$LOGDIR/slurmd.log
NodeName=$NODE CPUs=$NCPU State=UNKNOWN
PartitionName=debug Nodes=$NODE Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE
EOF
)

up() { timeout 20 srun -N1 -n1 true >/dev/null 2>&1; }
alive() { [[ -f $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null; }
conf_current() { [[ -f $CONF && $(cat "$CONF") == "$CONF_TEXT" ]]; }

# The pid-file checks keep a cold start from waiting on srun's timeout.
if conf_current && alive /run/slurmctld.pid && alive /run/slurmd.pid && up; then
    echo "slurm: already up (node $NODE), logs in $LOGDIR"
    exit 0
fi

if ! command -v slurmctld >/dev/null; then
    # Without systemd the packages' service starts cannot work; a
    # policy-rc.d returning 101 tells the postinst scripts not to try.
    own_policy=0
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod +x /usr/sbin/policy-rc.d
        own_policy=1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends slurm-wlm munge
    if ((own_policy)); then rm -f /usr/sbin/policy-rc.d; fi
fi

mkdir -p /etc/slurm "$LOGDIR" /var/spool/slurmctld /var/spool/slurmd
if ! conf_current; then
    # Daemons started with another config would disagree with the new one.
    bash "$(dirname "$0")/stop_slurm.sh" >/dev/null 2>&1 || true
    printf '%s\n' "$CONF_TEXT" >"$CONF"
fi

# munged refuses keys/dirs that are not private to the munge user.
if [[ ! -s /etc/munge/munge.key ]]; then
    mungekey --create --keyfile=/etc/munge/munge.key
fi
mkdir -p /run/munge /var/lib/munge /var/log/munge
chown munge:munge /etc/munge/munge.key /run/munge /var/lib/munge /var/log/munge
chmod 0400 /etc/munge/munge.key
chmod 0700 /etc/munge /var/lib/munge /var/log/munge
chmod 0755 /run/munge
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    runuser -u munge -- /usr/sbin/munged
fi

alive /run/slurmctld.pid || slurmctld
alive /run/slurmd.pid || slurmd

fail() {
    echo "slurm: $*" >&2
    for f in "$LOGDIR"/slurmctld.log "$LOGDIR"/slurmd.log /var/log/munge/munged.log; do
        echo "--- tail $f" >&2; tail -n 20 "$f" >&2 || true
    done
    exit 1
}

# Client calls block for long retries when a daemon is missing, so each one
# gets its own timeout and the whole wait is bounded by wall time.
resumed=0
state=
deadline=$((SECONDS + WAIT_S))
while ((SECONDS < deadline)); do
    state=$(timeout 5 sinfo -h -N -n "$NODE" -o %t 2>/dev/null || true)
    case $state in
        idle | mix | alloc) break ;;
        # A node left "down" by an earlier unclean stop needs one resume.
        down | drain) if ((resumed == 0)); then
            timeout 5 scontrol update NodeName="$NODE" State=RESUME || true; resumed=1
        fi ;;
    esac
    sleep 1
done
[[ $state =~ ^(idle|mix|alloc)$ ]] || fail "node $NODE not idle after ${WAIT_S}s (state '${state}')"
up || fail "node $NODE is $state but 'srun -N1 -n1 true' failed"
echo "slurm: up (node $NODE, $NCPU CPUs, partition debug), logs in $LOGDIR"
