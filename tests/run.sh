#!/usr/bin/env bash
# Install the package with its workflow and test extras in .venv, then run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/pip install -q --upgrade pip
.venv/bin/pip install -q -e ".[workflow,test]"
export PATH="$PWD/.venv/bin:$PATH"
.venv/bin/python -m pytest -q "$@"
