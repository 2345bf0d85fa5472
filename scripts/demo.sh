#!/usr/bin/env bash
# The README's main command: sets up the venv by itself, then runs `nnunet-semantic demo`.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/venv.sh"
cd "$ROOT"
exec nnunet-semantic demo "$@"
