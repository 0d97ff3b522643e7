#!/usr/bin/env bash
# Install anpr-edge as a systemd service. Idempotent: running it again changes nothing.
#
#   sudo ./install.sh                       # /opt/anpr-edge, user anpr-edge, enable + start the service
#   sudo ./install.sh --wheels ./wheelhouse # offline (air-gapped): wheels from scripts/build-wheelhouse.sh
#   ./install.sh --root /tmp/stage --no-start --no-venv   # stage the tree only (packaging, tests)
#   sudo ./install.sh --uninstall [--purge] # remove; keeps config and data unless --purge
#
# Options: --prefix DIR (default /opt/anpr-edge), --root DIR (install into a staging root),
# --wheels DIR, --no-start, --no-venv (skip creating the Python environment), --uninstall, --purge.
set -euo pipefail

PREFIX=/opt/anpr-edge
ROOT=""
WHEELS=""
START=1
VENV=1
UNINSTALL=0
PURGE=0
SRC="$(cd "$(dirname "$0")" && pwd)"

die() { echo "install.sh: error: $*" >&2; exit 1; }
say() { echo "install.sh: $*"; }

while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) PREFIX="${2:?--prefix needs a directory}"; shift 2 ;;
    --root) ROOT="${2:?--root needs a directory}"; shift 2 ;;
    --wheels) WHEELS="${2:?--wheels needs a directory}"; shift 2 ;;
    --no-start) START=0; shift ;;
    --no-venv) VENV=0; shift ;;
    --uninstall) UNINSTALL=1; shift ;;
    --purge) PURGE=1; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done
case "$PREFIX" in /*) ;; *) die "--prefix must be absolute, got $PREFIX" ;; esac
if [ -n "$ROOT" ]; then ROOT="$(mkdir -p "$ROOT" && cd "$ROOT" && pwd)"; START=0; fi

DEST="$ROOT$PREFIX"
ETC="$ROOT/etc/anpr-edge"
STATE="$ROOT/var/lib/anpr-edge"
UNIT="$ROOT/etc/systemd/system/anpr-edge.service"
USER_NAME=anpr-edge
LIVE=0; [ -z "$ROOT" ] && LIVE=1

if [ "$LIVE" = 1 ] && [ "$(id -u)" != 0 ]; then die "run as root (or use --root DIR to stage into a folder)"; fi
have_systemctl() { [ "$LIVE" = 1 ] && command -v systemctl >/dev/null && [ -d /run/systemd/system ]; }

# Copy a file only when its content differs (keeps the second run a no-op).
put() { # src dst mode
  if ! cmp -s "$1" "$2"; then install -D -m "$3" "$1" "$2"; say "installed $2"; fi
}

if [ "$UNINSTALL" = 1 ]; then
  if have_systemctl; then systemctl disable --now anpr-edge.service 2>/dev/null || true; fi
  rm -f "$UNIT"
  have_systemctl && systemctl daemon-reload || true
  rm -rf "$DEST"
  say "removed $DEST and the unit"
  if [ "$PURGE" = 1 ]; then
    rm -rf "$ETC" "$STATE" "$ROOT/var/log/anpr-edge"
    [ "$LIVE" = 1 ] && id "$USER_NAME" >/dev/null 2>&1 && userdel "$USER_NAME" || true
    say "purged configuration and data"
  else
    say "kept $ETC and $STATE (use --purge to remove them)"
  fi
  exit 0
fi

# Prerequisites.
command -v python3 >/dev/null || die "python3 not found (apt-get install -y python3 python3-venv)"
python3 -c 'import sys; sys.exit(sys.version_info < (3, 10))' \
  || die "Python >= 3.10 required, found $(python3 -V 2>&1)"
if [ "$VENV" = 1 ]; then
  python3 -c 'import venv, ensurepip' 2>/dev/null || die "the venv module is missing (apt-get install -y python3-venv)"
fi
[ -f "$SRC/models/plate_detector.xml" ] && [ -f "$SRC/models/plate_ocr.xml" ] || die "models missing in $SRC/models"
[ -z "$WHEELS" ] || [ -d "$WHEELS" ] || die "--wheels: $WHEELS is not a directory"

# Service user (live installs only), in video (USB cameras) and render (Intel iGPU) groups.
if [ "$LIVE" = 1 ] && ! id "$USER_NAME" >/dev/null 2>&1; then
  useradd --system --home-dir /var/lib/anpr-edge --no-create-home --shell /usr/sbin/nologin "$USER_NAME"
  say "created user $USER_NAME"
fi
if [ "$LIVE" = 1 ]; then
  for g in video render; do getent group "$g" >/dev/null && usermod -aG "$g" "$USER_NAME"; done
fi

# Program: models, docs, the Python environment with pinned dependencies.
mkdir -p "$DEST/models"
for f in "$SRC"/models/plate_detector.* "$SRC"/models/plate_ocr.* "$SRC/models/README.md"; do
  [ -f "$f" ] && put "$f" "$DEST/models/$(basename "$f")" 0644
done
put "$SRC/README.md" "$DEST/README.md" 0644
put "$SRC/constraints.txt" "$DEST/constraints.txt" 0644
if [ "$VENV" = 1 ]; then
  [ -x "$DEST/venv/bin/python" ] || { python3 -m venv "$DEST/venv" && say "created $DEST/venv"; }
  extras=""
  if pkg-config --exists libsystemd 2>/dev/null || [ -n "$WHEELS" ]; then extras="[systemd]"; fi
  if [ -n "$WHEELS" ]; then
    "$DEST/venv/bin/pip" install -q --no-index --find-links "$WHEELS" -c "$SRC/constraints.txt" "anpr-edge$extras"
  else
    "$DEST/venv/bin/pip" install -q -c "$SRC/constraints.txt" "$SRC$extras"
  fi
  say "python environment ready in $DEST/venv"
fi

# Configuration: installed once; an edited config is never overwritten, the new default lands as .new.
tmp="$(mktemp)"; trap 'rm -f "$tmp"' EXIT
sed -e "s#/opt/anpr-edge/models#$PREFIX/models#" "$SRC/config/anpr-edge.yaml" > "$tmp"
if [ ! -f "$ETC/config.yaml" ]; then
  install -D -m 0640 "$tmp" "$ETC/config.yaml"; say "installed $ETC/config.yaml"
elif ! cmp -s "$tmp" "$ETC/config.yaml"; then
  put "$tmp" "$ETC/config.yaml.new" 0640
fi
# The MQTT password credential (LoadCredential= needs the file; empty means no password).
[ -f "$ETC/mqtt_password" ] || { install -D -m 0600 /dev/null "$ETC/mqtt_password"; say "created $ETC/mqtt_password"; }

# State: OpenVINO telemetry opted out for the service user (HOME=/var/lib/anpr-edge).
mkdir -p "$STATE/intel"
[ -f "$STATE/intel/openvino_telemetry" ] || echo 0 > "$STATE/intel/openvino_telemetry"
if [ "$LIVE" = 1 ]; then chown -R "$USER_NAME:$USER_NAME" "$STATE"; chgrp "$USER_NAME" "$ETC/config.yaml"; fi

# The unit, with the prefix substituted.
sed -e "s#/opt/anpr-edge#$PREFIX#g" "$SRC/systemd/anpr-edge.service" > "$tmp"
put "$tmp" "$UNIT" 0644
if have_systemctl; then
  systemctl daemon-reload
  systemctl enable anpr-edge.service >/dev/null 2>&1 && say "enabled anpr-edge.service"
  if [ "$START" = 1 ]; then systemctl restart anpr-edge.service && say "started anpr-edge.service"; fi
elif [ "$LIVE" = 1 ]; then
  say "systemd not running here: start it yourself with $PREFIX/venv/bin/anpr-edge run --config /etc/anpr-edge/config.yaml"
fi
cat <<EOF
install.sh: done. Edit /etc/anpr-edge/config.yaml (cameras, MQTT), then: systemctl reload anpr-edge
install.sh: Intel iGPU: install the GPU compute runtime (apt-get install -y intel-opencl-icd) and set
install.sh: models.device: auto or gpu; the service user is in the 'render' group for /dev/dri.
EOF
