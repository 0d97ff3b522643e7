"""``GET /healthz`` and ``GET /metrics`` on loopback: a stdlib threading HTTP server in a named thread.

``/healthz`` answers 200 with a small JSON when every camera delivered a frame recently and every sink
is healthy, 503 with the same JSON naming what is not (:mod:`anpr_edge.daemon.health`); ``/metrics`` is
the daemon's Prometheus registry in text format (:mod:`anpr_edge.daemon.metrics`).
"""

from __future__ import annotations

import json
import logging
import socket
import socketserver
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from anpr_edge.config.schema import parse_listen
from anpr_edge.daemon.health import Health
from anpr_edge.errors import ConfigError

logger = logging.getLogger(__name__)

#: Prometheus text format 0.0.4: what every Prometheus version parses (our names need no 1.0.0 escaping).
METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a slow client never holds up the daemon's stop
    health: Callable[[], Health]
    metrics: Callable[[], bytes]

    def server_bind(self) -> None:
        # HTTPServer.server_bind asks DNS for the host's FQDN: on an offline box that can hang the start.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), int(self.server_address[1])


class _Server6(_Server):
    address_family = socket.AF_INET6


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    timeout = 10  # seconds a client may take to send its request
    server_version = "anpr-edge"

    def do_GET(self) -> None:
        try:
            self._route(self.path.split("?", 1)[0])
        except Exception:  # the loop boundary of a request: the server goes on
            logger.exception("http: %s failed", self.path)
            self._reply(500, "text/plain; charset=utf-8", b"internal error: see the daemon's log\n")

    def _route(self, path: str) -> None:
        if path == "/healthz":
            health = self.server.health()
            body = json.dumps(health.to_json()).encode()
            self._reply(200 if health.healthy else 503, "application/json", body)
        elif path == "/metrics":
            self._reply(200, METRICS_CONTENT_TYPE, self.server.metrics())
        else:
            self._reply(404, "text/plain; charset=utf-8", b"not found: try /healthz or /metrics\n")

    def _reply(self, code: int, content_type: str, body: bytes) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        logger.debug("http %s: " + format, self.client_address[0], *args)


class HttpServer:
    """Serves until :meth:`stop`; ``start`` raises :class:`ConfigError` naming ``http.listen`` if it cannot bind."""

    def __init__(self, listen: str, health: Callable[[], Health], metrics: Callable[[], bytes]) -> None:
        self.listen = listen
        self._health, self._metrics = health, metrics
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> str:
        """``host:port`` actually bound (the port chosen by the kernel for port 0)."""
        if self._server is None:
            return self.listen
        host, port = str(self._server.server_address[0]), int(self._server.server_address[1])
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"

    def start(self) -> None:
        host, port = parse_listen(self.listen)
        try:
            server = (_Server6 if ":" in host else _Server)((host, port), _Handler)
        except OSError as exc:
            raise ConfigError(f"http.listen: cannot listen on {self.listen} ({exc.strerror or exc})") from None
        server.health, server.metrics = self._health, self._metrics
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, args=(0.5,), name="http", daemon=True)
        self._thread.start()
        logger.info("http: /healthz and /metrics on http://%s", self.address)

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()  # waits for serve_forever to return (at most its 0.5 s poll)
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=2)
        self._server = self._thread = None
