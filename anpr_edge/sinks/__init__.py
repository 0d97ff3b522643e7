"""Where events go: CSV, JSON lines, MQTT (with its durable outbox)."""
