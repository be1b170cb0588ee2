#!/usr/bin/env bash
# Install the package and its workflow tools in .venv, then run the whole pipeline on the
# default config (config/config.yaml). Extra arguments go to snakemake.
set -euo pipefail
cd "$(dirname "$0")"
bash install.sh cpu,workflow
export PATH="$PWD/.venv/bin:$PATH"
snakemake --cores all "$@"
