"""Frame sources: offline files, live capture threads, camera URLs."""
