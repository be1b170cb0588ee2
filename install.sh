#!/usr/bin/env bash
# Create .venv beside this script and install the package with the given extras (e.g. workflow,test).
set -euo pipefail
cd "$(dirname "$0")"
python3 -m venv .venv
.venv/bin/pip install -q --upgrade pip
.venv/bin/pip install -q -e ".[${1:-workflow}]"
