"""The long-running daemon: the app (start, run, stop), its workers, reload and status, systemd notify."""
