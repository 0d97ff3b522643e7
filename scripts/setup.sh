#!/usr/bin/env bash
# Set up the Python environment in .venv. Idempotent: a second run with nothing changed returns at once.
#   scripts/setup.sh           runtime only: the daemon, the tools, the demo (no torch; about 450 MB)
#   scripts/setup.sh --test    plus lint/type/test tools, CPU torch for the OCR training tests, and the
#                              system packages the tests start (Mosquitto, ffmpeg, GStreamer's RTSP server)
#                              and a Cyrillic font (fonts-dejavu-core)
#   scripts/setup.sh --train   plus the OCR training extras (CPU torch, onnx, matplotlib) and the Cyrillic font
#   scripts/setup.sh --paddle  plus the second reader's model (RapidOCR's PP-OCR; anpr-edge eval --engine)
# Runtime packages are pinned by constraints.txt (what install.sh and the wheelhouse use). System packages
# are installed only when run as root on Debian/Ubuntu; otherwise install those named above yourself.
set -euo pipefail
cd "$(dirname "$0")/.."

mode="${1:-runtime}"
case "$mode" in
  runtime | --test | --train | --paddle) ;;
  -h | --help) sed -n '2,9p' "$0"; exit 0 ;;
  *) echo "setup.sh: unknown option $mode (see --help)" >&2; exit 1 ;;
esac

packages=""
extras=""
paddle=0
case "$mode" in
  --test)
    packages="libsystemd-dev pkg-config mosquitto mosquitto-clients ffmpeg openssl python3-gi gir1.2-gst-rtsp-server-1.0 \
gstreamer1.0-plugins-good gstreamer1.0-plugins-bad fonts-dejavu-core"
    extras="dev,train"
    paddle=1 ;;
  --train) packages="fonts-dejavu-core"; extras="train" ;;  # Cyrillic boards (training/signs.py)
  --paddle) paddle=1 ;;
esac

if [ -n "$packages" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  need=""
  for p in $packages; do
    dpkg -s "$p" >/dev/null 2>&1 || need="$need $p"
  done
  if [ -n "$need" ]; then
    echo "installing system packages:$need"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null \
      || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null; }
  fi
fi

python3 -c 'import sys; sys.exit(sys.version_info < (3, 10))' || { echo "Python >= 3.10 required" >&2; exit 1; }
[ -x .venv/bin/python ] || python3 -m venv .venv || {
  echo "could not create .venv: install the venv module (apt-get install -y python3-venv)" >&2
  exit 1
}
# systemd-python (journald fields) builds from source: only where its headers are.
if [ "$mode" = --test ] && pkg-config --exists libsystemd 2>/dev/null; then extras="$extras,systemd"; fi

# Skip pip when .venv was set up from the same pyproject.toml and constraints.txt for this mode or a larger
# one (make demo after make test starts at once). The stamp's name lists what was installed.
sum="$(cat pyproject.toml constraints.txt | sha256sum | cut -c1-16)"
stamp=".venv/.anpr-edge-setup${extras:+-$extras}$([ "$paddle" = 0 ] || echo -paddle)"
covered() { # stamp file: it has this sum, every wanted extra, and paddle if wanted
  local name
  [ "$(cat "$1" 2>/dev/null)" = "$sum" ] || return 1
  name="${1#.venv/.anpr-edge-setup}"
  if [ "$paddle" = 1 ]; then [[ "$name" == *-paddle ]] || return 1; fi
  name="${name%-paddle}"
  for e in ${extras//,/ }; do [[ ",${name#-}," == *",$e,"* ]] || return 1; done
}
for f in .venv/.anpr-edge-setup*; do
  if covered "$f" && .venv/bin/python -c 'import anpr_edge' 2>/dev/null; then
    echo "environment ready: .venv (${f##*/.anpr-edge-setup}; unchanged)"
    exit 0
  fi
done
pip=(.venv/bin/python -m pip install -q --no-warn-conflicts -c constraints.txt)
if [[ ",$extras," == *,train,* ]]; then
  # The CPU build of torch, from the local wheel (a plain 'torch' would pull a CUDA build of ~5 GB).
  .venv/bin/python -c 'import torch' 2>/dev/null || "${pip[@]}" torch==2.13.0
fi
"${pip[@]}" -e ".${extras:+[$extras]}"
if [ "$paddle" = 1 ]; then
  # RapidOCR's wheel carries the PP-OCR models; only the model file is used (run by our own runtime), so
  # none of its dependencies is installed: its opencv-python would overwrite opencv-python-headless's cv2
  # and needs libGL. That is why this is a step here and not a pip extra of pyproject.toml.
  "${pip[@]}" --no-deps rapidocr_onnxruntime==1.4.4
fi
# OpenVINO telemetry off for this user (the daemon never sends it either).
.venv/bin/opt_in_out --opt_out >/dev/null 2>&1 || true
echo "$sum" > "$stamp"
echo "environment ready: .venv (${extras:-runtime}$([ "$paddle" = 0 ] || echo ", paddle"))"
