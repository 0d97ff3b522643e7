"""Daemon-side sub-commands: ``run``, ``check-config``, ``status``, ``barrier``."""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path
from typing import Any

from anpr_edge.errors import AnprError, ConfigError

DEFAULT_CONFIG = Path("/etc/anpr-edge/config.yaml")


def cmd_run(args: argparse.Namespace) -> int:
    from anpr_edge.config.load import load
    from anpr_edge.daemon.app import Daemon
    from anpr_edge.logs import configure

    cfg = load(args.config)
    configure(getattr(logging, cfg.logging.level))
    return Daemon(args.config).run()


def cmd_check_config(args: argparse.Namespace) -> int:
    from anpr_edge.config.checks import check
    from anpr_edge.config.load import load_loaded

    loaded = load_loaded(args.config)
    problems = check(loaded, probe=args.probe)
    if problems:
        raise ConfigError("\n".join(p.line(loaded) for p in problems))
    cfg = loaded.config
    hint = cfg.performance_hint()
    performance = hint if cfg.models.performance == hint else f"{cfg.models.performance}: {hint}"
    print(f"{args.config}: OK ({len(cfg.cameras)} camera(s), device_id {cfg.device_id}, performance {performance})")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from anpr_edge.config.load import load
    from anpr_edge.daemon.status import STATUS_FILE

    cfg = load(args.config)
    path = cfg.storage.state_dir / STATUS_FILE
    try:
        data: dict[str, Any] = json.loads(path.read_text())
    except FileNotFoundError:
        raise AnprError(f"{path}: no status file: is the daemon running?") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise AnprError(f"{path}: unreadable status ({exc})") from None
    age = time.time() - float(data.get("updated", 0))
    if args.json:
        print(json.dumps({**data, "age_s": round(age, 1)}, indent=1))
    else:
        state = "running" if age < 10 else f"STALE ({age:.0f} s old: daemon stopped or hung)"
        print(
            f"anpr-edge pid {data.get('pid')} {state}, uptime {data.get('uptime_s', 0):.0f} s, "
            f"events {data.get('events', 0)}, performance {data.get('performance', '?')}"
        )
        for name, c in data.get("cameras", {}).items():
            print(
                f"  {name:<16} {c['state']:<12} in {c['fps_in']:5.1f} fps  out {c['fps_out']:5.1f} fps  "
                f"idle {c.get('idle', 0)}  dropped {c['dropped']}  reconnects {c['reconnects']}  events {c['events']}"
            )
        if "mqtt" in data:
            m = data["mqtt"]
            print(
                f"  mqtt {'connected' if m['connected'] else 'DISCONNECTED'}  outbox {m['outbox']}  "
                f"published {m['published']}  dropped {m['outbox_dropped']}"
            )
    return 0 if age < 10 else 1


def cmd_barrier(args: argparse.Namespace) -> int:
    from anpr_edge.tools.barrier import run_barrier

    return run_barrier(args)


def add_daemon_commands(sub: Any) -> None:
    r = sub.add_parser("run", help="run the daemon (cameras → events → CSV / MQTT)")
    r.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    r.set_defaults(func=cmd_run)

    c = sub.add_parser("check-config", help="validate a configuration file without starting")
    c.add_argument("config", type=Path)
    c.add_argument("--probe", action="store_true", help="also open every enabled camera and read a frame")
    c.set_defaults(func=cmd_check_config)

    s = sub.add_parser("status", help="state of the running daemon (from its status file)")
    s.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_status)

    b = sub.add_parser("barrier", help="reference barrier controller: opens for allowed plates")
    b.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="the daemon's config (MQTT settings)")
    b.add_argument("--allow", type=Path, required=True, help="allow-list file, one plate per line")
    b.add_argument("--command-topic", default=None, help="default <prefix>/barrier/command")
    b.add_argument(
        "--partial", action="store_true", help="open for a read with '#' that matches one allowed plate only"
    )
    b.set_defaults(func=cmd_barrier)
