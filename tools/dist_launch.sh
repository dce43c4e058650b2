#!/usr/bin/env bash
# Shared by dist_train.sh and dist_test.sh: run tools/SCRIPT in NPROC processes per node
# through torchrun (PyTorch's own launcher) with --launcher pytorch:
#   tools/dist_launch.sh SCRIPT NPROC [SCRIPT arguments]
# One node: PORT defaults to a free port, so two runs on one machine do not clash.
# Several nodes: set NNODES, NODE_RANK, MASTER_ADDR and the same PORT on every node.
# Without GPUs the processes run on CPU with the gloo backend.
set -euo pipefail
SCRIPT=$1
NPROC=$2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
MASTER_ADDR=${MASTER_ADDR:-127.0.0.1}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/tools/find_python.sh"
if [ -z "${PORT:-}" ]; then
  if [ "$NNODES" -gt 1 ]; then
    echo "$0: set PORT (the same on every node) for a multi-node run" >&2
    exit 2
  fi
  PORT=$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("", 0)); print(s.getsockname()[1])')
fi
PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}" exec "$PYTHON" -m torch.distributed.run \
  --nnodes="$NNODES" --node_rank="$NODE_RANK" --master_addr="$MASTER_ADDR" \
  --nproc_per_node="$NPROC" --master_port="$PORT" \
  "$ROOT/tools/$SCRIPT" "${@:3}" --launcher pytorch
