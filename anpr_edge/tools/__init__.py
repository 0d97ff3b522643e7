"""Offline tools: process, bench, evaluation, the reference barrier controller, label files and metrics."""
