#!/usr/bin/env bash
# Install the package with its workflow and test extras in .venv, then run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash install.sh cpu,workflow,test
export PATH="$PWD/.venv/bin:$PATH"
.venv/bin/python -m pytest -q "$@"
