#!/usr/bin/env bash
# Distributed training (torchrun; multi-node and CPU notes in dist_launch.sh):
#   tools/dist_train.sh CONFIG GPUS [tools/train.py arguments]
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 CONFIG GPUS [train.py arguments]" >&2
  exit 2
fi
exec "$(dirname "$0")/dist_launch.sh" train.py "$2" "$1" "${@:3}"
