#!/usr/bin/env bash
# Install anpr-edge as a systemd service. Idempotent: running it again changes nothing.
#
#   sudo ./install.sh                       # /opt/anpr-edge, user anpr-edge, anpr-edge on the PATH, service enabled
#   sudo ./install.sh --wheels ./wheelhouse # offline (air-gapped): wheels from scripts/build-wheelhouse.sh
#   ./install.sh --root /tmp/stage --no-venv   # stage the tree into a folder only (packaging, tests)
#   sudo ./install.sh --uninstall [--purge] # remove; keeps config and data (events, outbox) unless --purge
#
# The service is enabled, and started only once /etc/anpr-edge/config.yaml names a real camera (until then
# the next steps are printed). Options: --prefix DIR (default /opt/anpr-edge), --bindir DIR (where the
# anpr-edge command goes, default /usr/local/bin), --root DIR (install into a staging root), --wheels DIR,
# --paddle (also the second OCR engine), --no-start, --no-venv (no Python environment), --uninstall, --purge.
set -euo pipefail

PREFIX=/opt/anpr-edge
BINDIR=/usr/local/bin
ROOT=""
WHEELS=""
START=1
VENV=1
PADDLE=0
UNINSTALL=0
PURGE=0
SRC="$(cd "$(dirname "$0")" && pwd)"
# The camera of the shipped config: a service pointed at it would only log reconnects.
PLACEHOLDER="rtsp://user:password@192.168.1.64:554/Streaming/Channels/101"
RAPIDOCR="rapidocr_onnxruntime==1.4.4"

die() { echo "install.sh: error: $*" >&2; exit 1; }
say() { echo "install.sh: $*"; }

while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) PREFIX="${2:?--prefix needs a directory}"; shift 2 ;;
    --bindir) BINDIR="${2:?--bindir needs a directory}"; shift 2 ;;
    --root) ROOT="${2:?--root needs a directory}"; shift 2 ;;
    --wheels) WHEELS="${2:?--wheels needs a directory}"; shift 2 ;;
    --paddle) PADDLE=1; shift ;;
    --no-start) START=0; shift ;;
    --no-venv) VENV=0; shift ;;
    --uninstall) UNINSTALL=1; shift ;;
    --purge) PURGE=1; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done
case "$PREFIX" in /*) ;; *) die "--prefix must be absolute, got $PREFIX" ;; esac
case "$BINDIR" in /*) ;; *) die "--bindir must be absolute, got $BINDIR" ;; esac
if [ -n "$ROOT" ]; then ROOT="$(mkdir -p "$ROOT" && cd "$ROOT" && pwd)"; START=0; fi

DEST="$ROOT$PREFIX"
ETC="$ROOT/etc/anpr-edge"
STATE="$ROOT/var/lib/anpr-edge"
LOGS="$ROOT/var/log/anpr-edge"
UNIT="$ROOT/etc/systemd/system/anpr-edge.service"
WANTS="$ROOT/etc/systemd/system/multi-user.target.wants/anpr-edge.service"
LOGROTATE="$ROOT/etc/logrotate.d/anpr-edge"
LINK="$ROOT$BINDIR/anpr-edge"
USER_NAME=anpr-edge
LIVE=0; [ -z "$ROOT" ] && LIVE=1

if [ "$LIVE" = 1 ] && [ "$(id -u)" != 0 ]; then die "run as root (or use --root DIR to stage into a folder)"; fi
have_systemctl() { [ "$LIVE" = 1 ] && command -v systemctl >/dev/null && [ -d /run/systemd/system ]; }

# Copy a file only when its content differs (keeps the second run a no-op).
put() { # src dst mode
  if ! cmp -s "$1" "$2"; then install -D -m "$3" "$1" "$2"; say "installed $2"; fi
}
# A symlink, made only when it does not already point there.
link() { # target link
  if [ "$(readlink "$2" 2>/dev/null)" != "$1" ]; then
    mkdir -p "$(dirname "$2")"; ln -sfn "$1" "$2"; say "linked $2 -> $1"
  fi
}

if [ "$UNINSTALL" = 1 ]; then
  if have_systemctl; then systemctl disable --now anpr-edge.service 2>/dev/null || true; fi
  rm -f "$UNIT" "$WANTS" "$LOGROTATE"
  # The PATH entry, only if it is ours (a link into this prefix).
  case "$(readlink "$LINK" 2>/dev/null)" in *"$PREFIX/venv/bin/anpr-edge") rm -f "$LINK" ;; esac
  if have_systemctl; then systemctl daemon-reload || true; fi
  rm -rf "$DEST"
  say "removed $DEST, $LINK, the unit and the logrotate snippet"
  if [ "$PURGE" = 1 ]; then
    rm -rf "$ETC" "$STATE" "$LOGS"
    if [ "$LIVE" = 1 ] && id "$USER_NAME" >/dev/null 2>&1; then userdel "$USER_NAME" || true; fi
    say "purged configuration, data and logs"
  else
    say "kept $ETC (configuration) and $STATE (events, outbox); --purge removes them"
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
mkdir -p "$DEST/models/camera"  # the opt-in camera detector (models.dir: .../models/camera)
for f in "$SRC"/models/camera/plate_*; do
  [ -f "$f" ] && put "$f" "$DEST/models/camera/$(basename "$f")" 0644
done
put "$SRC/README.md" "$DEST/README.md" 0644
for f in "$SRC"/docs/*.md "$SRC"/docs/*.json; do
  case "$(basename "$f")" in preregistration.md) continue ;; esac  # research rules, not user docs
  [ -f "$f" ] && put "$f" "$DEST/docs/$(basename "$f")" 0644
done
put "$SRC/constraints.txt" "$DEST/constraints.txt" 0644
if [ "$VENV" = 1 ]; then
  [ -x "$DEST/venv/bin/python" ] || { python3 -m venv "$DEST/venv" && say "created $DEST/venv"; }
  extras=""
  if pkg-config --exists libsystemd 2>/dev/null || [ -n "$WHEELS" ]; then extras="[systemd]"; fi
  pip=("$DEST/venv/bin/pip" install -q -c "$SRC/constraints.txt")
  if [ -n "$WHEELS" ]; then
    pip+=(--no-index --find-links "$WHEELS")
    "${pip[@]}" "anpr-edge$extras"
  else
    "${pip[@]}" "$SRC$extras"
  fi
  # The second OCR engine: only the model file of RapidOCR's wheel is used, so none of its dependencies.
  if [ "$PADDLE" = 1 ]; then "${pip[@]}" --no-deps "$RAPIDOCR"; fi
  say "python environment ready in $DEST/venv"
fi
# The command on the PATH: a relative link, so it also resolves inside a staging root.
link "$(realpath -sm --relative-to="$BINDIR" "$PREFIX/venv/bin/anpr-edge")" "$LINK"

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

# Log rotation for the files under /var/log/anpr-edge (the journal rotates itself).
if [ -f "$SRC/systemd/anpr-edge.logrotate" ]; then
  put "$SRC/systemd/anpr-edge.logrotate" "$LOGROTATE" 0644
else
  say "no systemd/anpr-edge.logrotate in $SRC: skipping the logrotate snippet"
fi

# The unit, with the prefix substituted, enabled (a staged root gets the link systemctl enable would make).
sed -e "s#/opt/anpr-edge#$PREFIX#g" "$SRC/systemd/anpr-edge.service" > "$tmp"
put "$tmp" "$UNIT" 0644
placeholder=0
grep -qF "$PLACEHOLDER" "$ETC/config.yaml" && placeholder=1
if have_systemctl; then
  systemctl daemon-reload
  if ! systemctl is-enabled --quiet anpr-edge.service 2>/dev/null; then
    systemctl enable anpr-edge.service >/dev/null 2>&1 && say "enabled anpr-edge.service"
  fi
  if [ "$START" = 1 ] && [ "$placeholder" = 0 ]; then
    systemctl restart anpr-edge.service && say "started anpr-edge.service"
  fi
else
  link /etc/systemd/system/anpr-edge.service "$WANTS"
fi

if [ "$placeholder" = 1 ]; then
  cat <<EOF
install.sh: the service is enabled but not started: /etc/anpr-edge/config.yaml still names the placeholder camera.
install.sh: next steps:
  1. sudoedit /etc/anpr-edge/config.yaml                       # cameras: your camera's source (RTSP URL, /dev/video0)
  2. sudo anpr-edge check-config /etc/anpr-edge/config.yaml    # one line per problem, naming the key
  3. sudo systemctl start anpr-edge                            # then: anpr-edge status, journalctl -u anpr-edge -f
EOF
elif [ "$LIVE" = 1 ] && ! have_systemctl; then
  say "systemd is not running here: start it yourself with $BINDIR/anpr-edge run --config /etc/anpr-edge/config.yaml"
elif [ "$LIVE" = 0 ]; then
  say "staged into $ROOT; on the target: systemctl start anpr-edge"
else
  say "done; after editing /etc/anpr-edge/config.yaml: sudo systemctl reload anpr-edge"
fi
say "docs: $PREFIX/README.md and $PREFIX/docs/ (install.md: Intel iGPU, NVIDIA, offline installs)"
