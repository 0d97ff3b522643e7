"""#21.7: a password with ``@``, ``/``, ``:`` or a space never reaches a log line or an error, and the URL
still opens (split at the last ``@``, percent-encoded for FFmpeg). The daemon-level proof, against a real
RTSP server that asks for the password, is in tests/daemon/test_daemon_rtsp.py."""

from __future__ import annotations

import io
import logging

import pytest

from anpr_edge.logs import configure
from anpr_edge.sources.urls import for_ffmpeg, redact, redact_url, register_secret, split_url

PASSWORDS = ["p@ss/w rd", "a:b@c", "sp ace", "sl/ash", "p%40ss"]


@pytest.mark.parametrize("password", PASSWORDS)
def test_split_at_the_last_at_sign(password: str) -> None:
    url = f"rtsp://admin:{password}@10.0.0.5:554/Streaming/101"
    parts = split_url(url)
    assert parts is not None
    assert (parts.user, parts.location) == ("admin", "10.0.0.5:554/Streaming/101")
    assert parts.password == password.replace("%40", "@")  # percent-encoding is decoded
    assert redact_url(url) == "rtsp://***@10.0.0.5:554/Streaming/101"


def test_ffmpeg_gets_the_credentials_percent_encoded_both_ways() -> None:
    assert for_ffmpeg("rtsp://admin:p@ss/w rd@h/s") == "rtsp://admin:p%40ss%2Fw%20rd@h/s"
    assert for_ffmpeg("rtsp://admin:p%40ss@h/s") == "rtsp://admin:p%40ss@h/s"  # already encoded: the same
    assert for_ffmpeg("rtsp://h/s") == "rtsp://h/s" and for_ffmpeg("/dev/video0") == "/dev/video0"


def test_free_text_loses_registered_passwords_whatever_surrounds_them() -> None:
    register_secret("rtsp://admin:my s3cret/pw@10.0.0.9/s")
    text = "camera gate: failed (cannot open rtsp://admin:my s3cret/pw@10.0.0.9/s) while 'my s3cret/pw' was tried"
    out = redact(text)
    assert "s3cret" not in out and "***" in out


def test_the_log_handler_redacts_messages_and_tracebacks() -> None:
    register_secret("rtsp://u:hunter 2@cam/s")
    stream = io.StringIO()
    configure(logging.INFO)
    root = logging.getLogger("anpr_edge")
    handler = root.handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)
    log = logging.getLogger("anpr_edge.test_urls")
    log.warning("opening %s", "rtsp://u:hunter 2@cam/s")
    try:
        raise OSError("cannot open rtsp://u:hunter 2@cam/s")
    except OSError:
        log.exception("capture failed")
    text = stream.getvalue()
    assert "hunter" not in text and "rtsp://***@cam/s" in text and "Traceback" in text


def test_a_password_that_is_a_word_is_cut_only_where_it_stands_alone() -> None:
    register_secret("rtsp://user:password@192.168.1.64/s")
    text = "outputs.mqtt.password_file: cannot read /no/pw; tried rtsp://user:password@192.168.1.64/s and password"
    assert redact(text) == "outputs.mqtt.password_file: cannot read /no/pw; tried rtsp://***@192.168.1.64/s and ***"
