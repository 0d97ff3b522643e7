#!/usr/bin/env bash
# Set up a development environment in .venv: system packages (when root), the package with its
# dev and training extras. Idempotent; offline-friendly (torch comes from the local CPU wheel).
#   scripts/setup.sh          what the daemon and the tools need
#   scripts/setup.sh --test   plus what the tests start: Mosquitto, GStreamer's RTSP server, ffmpeg
set -euo pipefail
cd "$(dirname "$0")/.."
packages="libsystemd-dev pkg-config"
if [ "${1:-}" = "--test" ]; then
  packages="$packages mosquitto ffmpeg openssl python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-good \
gstreamer1.0-plugins-bad"
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
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
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install -q --upgrade pip 2>/dev/null
# CPU torch for the OCR training tools and their tests (plain 'torch' would pull a CUDA build).
.venv/bin/python -c 'import torch' 2>/dev/null || .venv/bin/pip install -q torch==2.13.0
extras="dev,train"
if pkg-config --exists libsystemd 2>/dev/null; then extras="$extras,systemd"; fi
.venv/bin/pip install -q -e ".[$extras]"
# OpenVINO telemetry off for this user (the daemon never sends it either).
.venv/bin/opt_in_out --opt_out >/dev/null 2>&1 || true
echo "environment ready: .venv (extras: $extras)"
