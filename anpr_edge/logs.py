"""Logging set up once, at the entry point: the journal under systemd, stderr elsewhere.

Under systemd (``JOURNAL_STREAM`` set and systemd-python importable) records go to journald with
structured fields (``CAMERA=``, ``PLATE=``, ``EVENT_ID=`` when a record carries them via ``extra``);
without systemd-python they go to stderr, which systemd also journals, without those fields.
:func:`target` says which (the daemon's start-up line names it).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from typing import Any

FIELDS = ("camera", "plate", "event_id")


class _Redact(logging.Filter):
    """Strip ``user:password@`` from URLs and every camera password from each message and traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        from anpr_edge.sources.urls import redact

        if record.args:
            record.msg = redact(record.getMessage())
            record.args = None
        else:
            record.msg = redact(str(record.msg))
        if record.exc_info and not record.exc_text:  # the formatter uses exc_text when it is set
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        record.exc_info = None  # journald would add it raw (EXCEPTION_INFO); exc_text carries the traceback
        return True


def _journal_handler(sender: Callable[..., Any] | None = None) -> logging.Handler | None:
    """journald's handler with our fields, or None (not under systemd, or no systemd-python). ``sender``
    replaces ``systemd.journal.send`` (tests)."""
    if not os.environ.get("JOURNAL_STREAM"):
        return None
    try:
        from systemd import journal  # type: ignore[attr-defined]
    except ImportError:
        return None

    class JournalFields(journal.JournalHandler):  # type: ignore[misc,name-defined]
        journal_fields = True

        def emit(self, record: logging.LogRecord) -> None:
            for f in FIELDS:
                value = getattr(record, f, None)
                if value is not None:
                    setattr(record, f.upper(), value)
            super().emit(record)

    return JournalFields(  # type: ignore[no-any-return]
        sender_function=sender or journal.send, SYSLOG_IDENTIFIER="anpr-edge"
    )


def configure(level: int = logging.INFO) -> None:
    root = logging.getLogger("anpr_edge")
    root.setLevel(level)
    root.propagate = False
    for h in list(root.handlers):
        root.removeHandler(h)
    handler = _journal_handler()
    if handler is None:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(_Redact())
    root.addHandler(handler)


def target() -> str:
    """Where the package's records go: ``journald`` (systemd-python, with fields) or ``stderr``."""
    handlers = logging.getLogger("anpr_edge").handlers
    return "journald" if any(getattr(h, "journal_fields", False) for h in handlers) else "stderr"
