"""Camera URL helpers: credentials never reach a log line."""

from __future__ import annotations

import re

_CRED = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]+@")


def redact(text: str) -> str:
    """``rtsp://admin:secret@10.0.0.5/stream`` → ``rtsp://***@10.0.0.5/stream`` (anywhere in text)."""
    return _CRED.sub(r"\g<scheme>***@", text)
