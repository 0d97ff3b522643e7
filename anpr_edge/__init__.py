"""anpr-edge: read Russian licence plates from cameras and report them to a barrier controller."""

__version__ = "0.1.0"
