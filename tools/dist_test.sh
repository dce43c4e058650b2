#!/usr/bin/env bash
# Distributed testing (torchrun; multi-node and CPU notes in dist_launch.sh):
#   tools/dist_test.sh CONFIG CHECKPOINT GPUS [tools/test.py arguments]
set -euo pipefail
if [ $# -lt 3 ]; then
  echo "usage: $0 CONFIG CHECKPOINT GPUS [test.py arguments]" >&2
  exit 2
fi
exec "$(dirname "$0")/dist_launch.sh" test.py "$3" "$1" "$2" "${@:4}"
