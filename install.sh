#!/usr/bin/env bash
# Create .venv beside this script and install the package with the given extras
# (default: cpu,workflow). TensorFlow comes from exactly one of the extras `cpu` or `gpu`.
set -euo pipefail
cd "$(dirname "$0")"
extras=${1:-cpu,workflow}
if [[ ",$extras," == *,cpu,* && ",$extras," == *,gpu,* ]]; then
    echo "install.sh: choose one of the extras cpu or gpu, not both" >&2
    exit 2
fi
python3 -m venv .venv
.venv/bin/pip install -q --upgrade pip
.venv/bin/pip install -q -e ".[$extras]"
