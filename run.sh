#!/usr/bin/env bash
# Install the package and its workflow tools in .venv, then run the whole pipeline on the
# default config (config/config.yaml). Extra arguments go to snakemake.
set -euo pipefail
cd "$(dirname "$0")"
python3 -m venv .venv
.venv/bin/pip install -q --upgrade pip
.venv/bin/pip install -q -e ".[workflow]"
export PATH="$PWD/.venv/bin:$PATH"
snakemake --cores all "$@"
