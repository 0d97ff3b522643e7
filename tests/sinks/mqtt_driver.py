"""A stand-in daemon process for the crash test: queue N events through MqttSink, then wait to be killed.

python -m tests.sinks.mqtt_driver STATE_DIR PORT FIRST COUNT
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from anpr_edge.config.schema import MqttConfig
from anpr_edge.sinks.mqtt import MqttSink
from anpr_edge.sinks.outbox import Outbox


def main() -> None:
    state, port, first, count = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    cfg = MqttConfig(enabled=True, host="127.0.0.1", port=port, reconnect_max_s=1)
    sink = MqttSink(cfg, "crash", "anpr/crash", Outbox(state / "outbox.sqlite", 100_000))
    sink.start()
    for i in range(first, first + count):
        sink.publish_event("cam", {"event_id": f"e{i}", "n": i})
    print("queued", flush=True)
    while True:
        time.sleep(1)


if __name__ == "__main__":
    main()
