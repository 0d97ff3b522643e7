#!/usr/bin/env bash
# Build a folder of wheels for an offline (air-gapped) install: ./install.sh --wheels DIR [--paddle]
#   scripts/build-wheelhouse.sh [DIR]   (default ./wheelhouse; run on a machine with PyPI access,
#   same Python version and architecture as the target; systemd-python is built from source here)
# It also holds RapidOCR's wheel, for the second reader (install.sh --paddle installs it without its
# dependencies: only its PP-OCR model file is used).
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-wheelhouse}"
mkdir -p "$out"
python3 -m pip wheel -q -w "$out" -c constraints.txt ".[systemd]"
python3 -m pip download -q --no-deps -d "$out" rapidocr_onnxruntime==1.4.4
echo "wheels in $out: $(ls "$out" | wc -l) files; copy it with the source tree and run ./install.sh --wheels $out"
