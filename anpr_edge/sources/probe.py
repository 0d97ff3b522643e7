"""Is a network camera there? An RTSP ``OPTIONS`` (or HTTP ``GET``) answered within a timeout.

OpenCV opens every FFmpeg stream under one process-wide lock, so a camera that accepts the connection
and never answers would hold up the opening of every other camera for its whole open timeout. Each
capture thread asks first, on its own socket and with its own timeout; only a camera that answers is
handed to OpenCV. ``check-config --probe`` asks the same question.
"""

from __future__ import annotations

import socket
import ssl
from urllib.parse import urlsplit

from anpr_edge.sources.urls import split_url

DEFAULT_PORTS = {"rtsp": 554, "rtsps": 322, "http": 80, "https": 443}
STATUS_LINE = {"rtsp": b"RTSP/1.", "rtsps": b"RTSP/1.", "http": b"HTTP/1.", "https": b"HTTP/1."}


def url_problem(url: str) -> str | None:
    """What makes ``url`` unusable as a camera URL (None: nothing), in words for the config error."""
    parts = split_url(url)
    if parts is None:
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        return f"unsupported scheme {scheme}:// (use rtsp://, rtsps://, http:// or https://)"
    try:
        split = urlsplit(f"{scheme}://{parts.location}")
        port = split.port
    except ValueError as exc:
        return f"bad host or port ({exc})"
    if not split.hostname:
        return f"no host in {scheme}://{parts.location} (write {scheme}://HOST[:PORT]/PATH)"
    if port == 0:
        return "port 0 (use 1-65535)"
    return None


def probe(url: str, timeout_s: float) -> None:
    """Raise ``OSError`` naming what failed unless the server answers an RTSP/HTTP request in time.
    Other sources (files, devices) pass."""
    parts = split_url(url)
    if parts is None or parts.scheme.lower() not in DEFAULT_PORTS:
        return
    problem = url_problem(url)
    if problem:
        raise OSError(problem)
    scheme = parts.scheme.lower()
    split = urlsplit(f"{scheme}://{parts.location}")
    host, port = split.hostname or "", split.port or DEFAULT_PORTS[scheme]
    target = f"{scheme}://{parts.location}"  # never the credentials
    if scheme.startswith("rtsp"):
        request = f"OPTIONS {target} RTSP/1.0\r\nCSeq: 1\r\nUser-Agent: anpr-edge\r\n\r\n"
    else:
        request = f"GET {split.path or '/'} HTTP/1.0\r\nHost: {host}\r\nUser-Agent: anpr-edge\r\n\r\n"
    try:
        with socket.create_connection((host, port), timeout=timeout_s) as raw:
            raw.settimeout(timeout_s)
            sock: socket.socket = raw
            if scheme in ("rtsps", "https"):
                ctx = ssl.create_default_context()
                ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE  # reachability only
                sock = ctx.wrap_socket(raw, server_hostname=host)
            sock.sendall(request.encode())
            answer = sock.recv(64)
    except TimeoutError:
        raise OSError(f"no answer from {host}:{port} within {timeout_s:g} s") from None
    except OSError as exc:
        raise OSError(f"cannot reach {host}:{port} ({exc.strerror or exc})") from None
    if not answer.startswith(STATUS_LINE[scheme]):
        raise OSError(f"{host}:{port} did not answer as an {scheme.upper()} server")
