"""Recognition per camera: motion gating, tracking with per-character voting, events, the pipeline."""
