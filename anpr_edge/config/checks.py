"""Checks of a valid configuration against the machine it runs on, shared by ``check-config`` and ``run``.

The schema (:mod:`anpr_edge.config.schema`) says whether a value is allowed; these say whether it will
work here: model files present, the detector input a multiple of the model's stride, camera files there.
Each problem is one line naming the key.
"""

from __future__ import annotations

from pathlib import Path

from anpr_edge.config.schema import Config


def model_problems(cfg: Config) -> list[str]:
    problems = []
    for stem in ("plate_detector", "plate_ocr"):
        if not (cfg.models.dir / f"{stem}.json").is_file():
            problems.append(f"models.dir: {cfg.models.dir / (stem + '.json')} not found")
    size = cfg.models.detector_input_size
    if size is not None and (cfg.models.dir / "plate_detector.json").is_file():
        from anpr_edge.inference.contract import DetectorSpec, load_spec

        spec = load_spec(cfg.models.dir / "plate_detector.json", "plate_detector")
        assert isinstance(spec, DetectorSpec)
        if size[0] % spec.stride or size[1] % spec.stride:
            problems.append(f"models.detector_input: {cfg.models.detector_input} is not a multiple of {spec.stride}")
    return problems


def source_problems(cfg: Config) -> list[str]:
    problems = []
    for i, cam in enumerate(cfg.cameras):
        src = cam.source
        is_path = isinstance(src, str) and "://" not in src and not src.startswith("/dev/") and not src.isdigit()
        if is_path and not Path(str(src)).exists():
            problems.append(f"cameras[{i}].source: {src} does not exist")
    return problems


def check(cfg: Config) -> list[str]:
    """Every problem ``check-config`` reports, one line each."""
    return model_problems(cfg) + source_problems(cfg)
