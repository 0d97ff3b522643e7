"""Runtime backends: the contract (``base``), OpenVINO, ONNX Runtime, and the ``factory`` that picks one."""
