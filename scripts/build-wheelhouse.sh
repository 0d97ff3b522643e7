#!/usr/bin/env bash
# Build a folder of wheels for an offline (air-gapped) install: ./install.sh --wheels DIR
#   scripts/build-wheelhouse.sh [DIR]   (default ./wheelhouse; run on a machine with PyPI access,
#   same Python version and architecture as the target; systemd-python is built from source here)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-wheelhouse}"
mkdir -p "$out"
python3 -m pip wheel -q -w "$out" -c constraints.txt ".[systemd]"
echo "wheels in $out: $(ls "$out" | wc -l) files; copy it with the source tree and run ./install.sh --wheels $out"
