"""The ``anpr-edge`` command line: ``main`` (process, read, bench, eval) and ``daemon`` (run, check-config,
status, barrier)."""
