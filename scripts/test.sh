#!/usr/bin/env bash
# The README's test command: sets up the venv by itself, then lints and runs the test suite.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/venv.sh"
cd "$ROOT"
ruff check nnunet_semantic tests benchmarks
ruff format --check nnunet_semantic  # the package is laid out by the formatter (nnU-Net-like line lengths)
python -m pytest -n "${NNUNET_SEMANTIC_TEST_WORKERS:-2}" --dist loadgroup --no-loadscope-reorder "$@"
