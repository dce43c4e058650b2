#!/usr/bin/env bash
# Shared by slurm_train.sh and slurm_test.sh: one Slurm task per GPU running tools/SCRIPT
# with --launcher slurm (as MMDetection's slurm scripts):
#   tools/slurm_launch.sh SCRIPT PARTITION JOB_NAME [SCRIPT arguments]
# GPUS (8), GPUS_PER_NODE (8), CPUS_PER_TASK (5) and SRUN_ARGS come from the environment.
# GRES (default gpu:$GPUS_PER_NODE) is the resources each node is asked for; GRES= (empty)
# asks for none, for nodes without GPUs, where the tasks train on CPU with gloo.
set -euo pipefail
SCRIPT=$1
PARTITION=$2
JOB_NAME=$3
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
GRES=${GRES-gpu:$GPUS_PER_NODE}
SRUN_ARGS=${SRUN_ARGS:-}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/tools/find_python.sh"
PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}" exec srun -p "$PARTITION" \
  --job-name="$JOB_NAME" ${GRES:+--gres="$GRES"} --ntasks="$GPUS" \
  --ntasks-per-node="$GPUS_PER_NODE" --cpus-per-task="$CPUS_PER_TASK" \
  --kill-on-bad-exit=1 $SRUN_ARGS \
  "$PYTHON" -u "$ROOT/tools/$SCRIPT" "${@:4}" --launcher=slurm
