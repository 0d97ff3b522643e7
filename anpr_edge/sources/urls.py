"""Camera URLs: credentials split off (at the last ``@``), percent-encoded for FFmpeg, never logged.

A password may hold ``@``, ``/``, ``:`` or a space, written raw or percent-encoded in the config:
``rtsp://admin:p@ss/w rd@10.0.0.5/stream`` and ``rtsp://admin:p%40ss%2Fw%20rd@10.0.0.5/stream`` are the
same camera. :func:`for_ffmpeg` gives the URL FFmpeg can parse, :func:`redact_url` the one a log may show.
Passwords of configured cameras are also registered (:func:`register_secret`), so they are cut from any
text (:func:`redact`), whatever surrounds them.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from urllib.parse import quote, unquote

_SCHEME = re.compile(r"^(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*)://(?P<rest>.*)$", re.DOTALL)
#: In free text, where the URL's end is unknown: the userinfo runs to the last ``@`` of the word.
_CRED_IN_TEXT = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^\s]*@")
MASK = "***"

_secrets: set[str] = set()
_secrets_lock = threading.Lock()


@dataclass(frozen=True, slots=True)
class CameraUrl:
    scheme: str
    user: str  # decoded
    password: str  # decoded
    location: str  # host[:port]/path?query, as written

    @property
    def has_credentials(self) -> bool:
        return bool(self.user or self.password)


def split_url(url: str) -> CameraUrl | None:
    """Split ``scheme://user:password@host/path`` at the last ``@`` (None: not a URL)."""
    m = _SCHEME.match(url.strip())
    if m is None:
        return None
    rest = m["rest"]
    userinfo, at, location = rest.rpartition("@")
    if not at:
        return CameraUrl(m["scheme"], "", "", rest)
    user, _, password = userinfo.partition(":")
    return CameraUrl(m["scheme"], unquote(user), unquote(password), location)


def for_ffmpeg(url: str) -> str:
    """The URL with its user and password percent-encoded (FFmpeg decodes them), so ``@ / : space`` in
    a password no longer change where FFmpeg thinks the host starts."""
    parts = split_url(url)
    if parts is None or not parts.has_credentials:
        return url
    user = quote(parts.user, safe="")
    password = f":{quote(parts.password, safe='')}" if parts.password else ""
    return f"{parts.scheme}://{user}{password}@{parts.location}"


def redact_url(url: str) -> str:
    """``rtsp://admin:secret@10.0.0.5/stream`` → ``rtsp://***@10.0.0.5/stream``."""
    parts = split_url(url)
    if parts is None or not parts.has_credentials:
        return redact(url)
    return f"{parts.scheme}://{MASK}@{parts.location}"


def register_secret(url: str) -> None:
    """Remember the password of a camera URL so :func:`redact` cuts it from any text (not a URL: nothing)."""
    parts = split_url(url)
    if parts is not None and parts.password:
        raw = url.strip().split("://", 1)[1].rpartition("@")[0].partition(":")[2]
        register_password(parts.password, raw)


def register_password(password: str, *written: str) -> None:
    """Remember a password (and the ways it was written) so :func:`redact` cuts it from any text."""
    forms = {password, quote(password, safe=""), quote(password), *written}
    with _secrets_lock:
        _secrets.update(f for f in forms if len(f) >= 2)


def redact(text: str) -> str:
    """Registered passwords and ``user:password@`` of any URL in ``text`` replaced by ``***``."""
    with _secrets_lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for s in secrets:
        if s in text:
            text = _standalone(s).sub(MASK, text)
    return _CRED_IN_TEXT.sub(rf"\g<scheme>{MASK}@", text)


def _standalone(secret: str) -> re.Pattern[str]:
    """``secret`` where it is not part of a longer word: a password "password" is cut from
    ``user:password@host`` but leaves the key ``password_file`` alone."""
    before = r"(?<!\w)" if re.match(r"\w", secret) else ""
    after = r"(?!\w)" if re.search(r"\w$", secret) else ""
    return re.compile(before + re.escape(secret) + after)
