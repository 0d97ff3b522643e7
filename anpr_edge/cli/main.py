"""``anpr-edge`` command line: one sub-command per user task; errors are one line, never a traceback."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Literal

from anpr_edge import __version__
from anpr_edge.core.results import Box
from anpr_edge.errors import AnprError, InputError
from anpr_edge.heap import keep_large_blocks_out
from anpr_edge.inference.detector import parse_size
from anpr_edge.inference.models import OCR_ENGINES, Models
from anpr_edge.inference.runtime.base import DEVICES, PRECISIONS
from anpr_edge.recognition.settings import RecognitionSettings

logger = logging.getLogger("anpr_edge")

MODEL_SEARCH = (
    Path("models"),
    Path(__file__).resolve().parents[1] / "models",  # source checkout / editable install
    Path("/opt/anpr-edge/models"),
)


def find_models_dir(explicit: Path | None) -> Path:
    """The folder with ``plate_detector.*`` and ``plate_ocr.*``: ``--models``, $ANPR_EDGE_MODELS, or a default."""
    env = os.environ.get("ANPR_EDGE_MODELS")
    candidates = [explicit] if explicit else ([Path(env)] if env else list(MODEL_SEARCH))
    for c in candidates:
        if c is not None and (c / "plate_detector.json").is_file():
            return c
    tried = ", ".join(str(c) for c in candidates)
    raise AnprError(f"no models found (looked for plate_detector.json in {tried}); pass --models DIR")


def load_models(args: argparse.Namespace, folder: Path | None = None, hint: str = "latency") -> Models:
    """The models of ``folder``, or of :func:`find_models_dir` (``--models``), with the command's options,
    compiled for OpenVINO performance ``hint``."""
    if args.ocr_engine not in OCR_ENGINES:
        raise AnprError(f"unknown --ocr_engine {args.ocr_engine!r}; available: {', '.join(OCR_ENGINES)}")
    folder = folder or find_models_dir(args.models)
    size = None
    if args.detector_input is not None:
        try:
            size = parse_size(args.detector_input)
        except ValueError as exc:
            raise AnprError(f"--detector_input: {exc}") from None
    stems = (folder / "plate_detector", folder / "plate_ocr")
    return Models.load(
        *stems, args.device, detector_input=size, hint=hint, engine=args.ocr_engine, precision=args.precision
    )


#: The recognition keys that are also command-line options (as in the tool anpr-edge replaces).
CLI_RECOGNITION = (
    "conf",
    "iou",
    "match_iou",
    "max_misses",
    "min_reads",
    "ocr_every_n",
    "ocr_variants",
    "settled_every",
    "detect_settled_s",
    "verify_zoom",
    "verify_conf",
    "motion_threshold",
    "idle_check_s",
    "char_conf_thr",
    "char_conf_thr_letters",
    "char_conf_thr_digits",
    "rectify",
)


def settings_from(args: argparse.Namespace) -> RecognitionSettings:
    """The recognition options given, checked against the config schema's bounds."""
    from pydantic import ValidationError

    from anpr_edge.config.schema import RecognitionOverrides

    values = {n: getattr(args, n) for n in CLI_RECOGNITION if getattr(args, n, None) is not None}
    try:
        RecognitionOverrides.model_validate(values)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise AnprError(f"--{err['loc'][0]}: {err['msg'].lower()}, got {err['input']}") from None
    return RecognitionSettings.model_validate(values)


def add_model_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--models", type=Path, help="folder with plate_detector.* and plate_ocr.* (default: ./models)")
    p.add_argument("--device", choices=DEVICES, default="auto", help="inference device (default: auto)")
    p.add_argument(
        "--precision",
        choices=PRECISIONS,
        default="auto",
        help="inference precision on the CPU (default auto: each model's measured choice, models/README.md)",
    )
    p.add_argument("--ocr_engine", default="crnn", help=f"OCR engine ({', '.join(OCR_ENGINES)})")
    p.add_argument(
        "--detector_input",
        metavar="WxH",
        help="detector input size, multiples of 32 (default: the model's, 512x288 shipped); 640x384 also "
        "finds plates 50-80 px wide in 1080p, 1.7x slower",
    )


def add_recognition_options(p: argparse.ArgumentParser) -> None:
    """``--conf`` etc., with help, type and default taken from the config schema."""
    g = p.add_argument_group("recognition")
    for name in CLI_RECOGNITION:
        f = RecognitionSettings.model_fields[name]
        default = f" ({f.default})" if f.default is not None else ""
        text = f"{f.description}{default}".replace("%", "%%")  # argparse formats help with %
        if f.annotation is bool:
            g.add_argument(f"--{name}", choices=("true", "false"), help=text)
        elif f.annotation == bool | Literal["auto"]:
            g.add_argument(f"--{name}", choices=("auto", "true", "false"), help=text)
        else:
            g.add_argument(f"--{name}", type=int if f.annotation is int else float, help=text)


def cmd_process(args: argparse.Namespace) -> int:
    from anpr_edge.tools.offline import ProcessOptions, process

    settings = settings_from(args)
    if args.fps is not None and args.fps <= 0:
        raise AnprError("--fps must be positive")
    if args.target_fps is not None and args.target_fps <= 0:
        raise AnprError("--target_fps must be positive")
    if not args.input.exists():
        raise InputError(f"{args.input}: no such file or folder")
    models = load_models(args)
    opts = ProcessOptions(
        args.input,
        args.out,
        args.fps,
        args.target_fps,
        args.json,
        args.annotate,
        args.save_crops_dir,
        args.show,
        not args.quiet,
    )
    n = process(models, settings, opts)
    logger.info("%d event(s) written to %s", n, args.out)
    return 0


def cmd_read(args: argparse.Namespace) -> int:
    from anpr_edge.tools.offline import read_images, read_json

    settings = settings_from(args)
    models = load_models(args)
    for path, reads in read_images(models, settings, args.paths):
        if args.json:
            print(read_json(path, reads), flush=True)
        else:
            found = "  ".join(f"{r.text} ({r.confidence:.2f})" for r in reads) or "no plate"
            print(f"{path}: {found}", flush=True)
    return 0


def cost_variant(args: argparse.Namespace, variant: str) -> Models:
    """``bench --costs``: a precision of ``--models``, or another models folder at ``--precision``."""
    if variant in PRECISIONS:
        return load_models(argparse.Namespace(**{**vars(args), "precision": variant}))
    if not (Path(variant) / "plate_detector.json").is_file():
        raise InputError(f"--costs {variant}: neither a precision ({', '.join(PRECISIONS)}) nor a models folder")
    return load_models(args, Path(variant))


def cmd_bench(args: argparse.Namespace) -> int:
    from anpr_edge.tools.bench import bare_loop, format_table, run_bench, to_json

    settings = settings_from(args)
    if not args.input.is_file():
        raise InputError(f"{args.input}: no such video file")
    if args.costs is not None and args.cameras is not None:
        raise AnprError("--costs and --cameras are two different measurements: choose one")
    if args.cameras is not None:
        return bench_cameras(args, settings)
    if args.costs is not None:
        return bench_costs(args)
    models = load_models(args)
    result = run_bench(models, settings, args.input, args.frames)
    result["bare_loop"] = bare_loop(models, args.input, args.frames)
    print(to_json(result) if args.json else format_table(result))
    return 0


def bench_cameras(args: argparse.Namespace, settings: RecognitionSettings) -> int:
    from anpr_edge.tools.bench import format_cameras, run_cameras, to_json

    if not 1 <= args.cameras <= 64:
        raise AnprError(f"--cameras {args.cameras}: must be 1-64")
    folder = find_models_dir(args.models)
    served = run_cameras(lambda hint: load_models(args, folder, hint), settings, args.input, args.cameras, args.seconds)
    print(to_json(served) if args.json else format_cameras(served))
    return 0


def bench_costs(args: argparse.Namespace) -> int:
    from anpr_edge.tools.bench import first_frame, format_costs, inference_costs, read_cpu_description

    names = [v.strip() for v in args.costs.split(",") if v.strip()]
    if not names:
        raise AnprError(f"--costs {args.costs!r}: name precisions ({', '.join(PRECISIONS)}) or models folders")
    costs = inference_costs({v: cost_variant(args, v) for v in names}, first_frame(args.input))
    print(json.dumps(costs, indent=2) if args.json else format_costs(costs, read_cpu_description()))
    return 0


def unboxed_plates(path: Path | None, by_image: Mapping[str, object]) -> dict[str, list[Box]] | None:
    """``eval --unboxed``: the listed plates, read before any model loads; a listed image outside the scored
    set is named in a warning (a typo would otherwise leave its plates counted as false boxes)."""
    if path is None:
        return None
    from anpr_edge.tools.labels import read_unboxed

    unboxed = read_unboxed(path)
    if stray := sorted(set(unboxed) - set(by_image)):
        logger.warning("--unboxed %s: not in the scored images: %s", path, ", ".join(stray))
    return unboxed


def cmd_eval(args: argparse.Namespace) -> int:
    from anpr_edge.tools.evaluate import compare, evaluate, evaluate_clips, labelled_images

    settings = settings_from(args)
    if args.clips is not None and not 1 <= args.clips <= 250:
        raise AnprError(f"--clips must be 1-250 frames, got {args.clips}")
    if args.against is not None and not (args.against / "plate_detector.json").is_file():
        raise InputError(f"--against {args.against}: no plate_detector.json there (give a models folder)")
    by_image = labelled_images(args.folder, args.split)  # a bad folder fails before the models load
    unboxed = unboxed_plates(args.unboxed, by_image)
    if args.engine is not None:
        from anpr_edge.tools.engines import compare_engines

        if unboxed is not None:
            raise AnprError("--unboxed scores the detector's boxes; --engine compares readers on labelled boxes")
        folder = find_models_dir(args.models)
        lines = compare_engines(args.engine, folder, args.device, args.folder, by_image, settings, args.precision)
        print("\n".join(lines))
        return 0
    folders = [find_models_dir(args.models)] + ([args.against] if args.against is not None else [])
    runs = [load_models(args, f) for f in folders]  # all load before scoring: a broken set fails early
    outcomes = []
    for i, models in enumerate(runs):
        report = evaluate(models, settings, args.folder, by_image, args.split, args.sweep, unboxed)
        lines, outcome = report.lines(), report.outcomes()
        if args.clips:
            clips = evaluate_clips(models, settings, args.folder, by_image, args.clips)
            lines += clips.lines()
            outcome.update(clips.outcomes())
        if args.against is not None:
            lines.insert(0, f"{'against' if i else 'models'}: {folders[i]}")
        print("\n".join(lines) + ("\n" if args.against is not None else ""), flush=True)
        outcomes.append(outcome)
    if args.against is not None:
        print("\n".join(compare(outcomes[0], outcomes[1])))
    return 0


def add_bench(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    be = sub.add_parser("bench", help="per-stage latency on a video vs pure detector inference")
    be.add_argument("--input", type=Path, required=True, help="video file (e.g. 1080p)")
    be.add_argument("--frames", type=int, default=300, help="frames to measure (300)")
    be.add_argument(
        "--cameras",
        type=int,
        help="instead: frames per second the box serves to N cameras at once, under each OpenVINO performance "
        "hint (models.performance), back to back",
    )
    be.add_argument("--seconds", type=float, default=10.0, help="with --cameras: seconds measured per hint (10)")
    be.add_argument(
        "--costs",
        metavar="V1,V2",
        help="instead: the detector's inference and the reader per crop, side by side, for each variant: "
        "a precision (auto, f32, bf16, int8) or another models folder",
    )
    be.add_argument("--json", action="store_true")
    add_model_options(be)
    add_recognition_options(be)
    be.set_defaults(func=cmd_bench)


def add_eval(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    ev = sub.add_parser("eval", help="detector and OCR accuracy on a folder with images/ and labels.csv")
    ev.add_argument("folder", type=Path, help="folder in the real-dev layout (images/, labels.csv)")
    ev.add_argument(
        "--split",
        choices=("all", "untrained", "trained"),
        default="all",
        help="real-dev images the shipped models were not trained on (untrained), or were",
    )
    ev.add_argument("--sweep", action="store_true", help="also the detector's recall/precision at conf 0.30-0.80")
    ev.add_argument(
        "--unboxed",
        type=Path,
        metavar="CSV",
        help="background plates the labels leave unboxed (image;x1;y1;x2;y2;what): boxes on them are set aside "
        "(docs/eval/real-dev-unboxed.csv for real-dev)",
    )
    ev.add_argument(
        "--clips",
        type=int,
        metavar="N",
        help="also play each photo as an N-frame clip with camera shake through the video pipeline "
        "(as process and the daemon) and score its events",
    )
    ev.add_argument(
        "--against",
        type=Path,
        metavar="DIR",
        help="also score the models in DIR on the same plates, then compare the two plate by plate "
        "(where one is right and the other not, with a sign test)",
    )
    ev.add_argument(
        "--engine",
        metavar="E1,E2",
        help="instead: OCR engines side by side on the labelled boxes, accuracy and ms per crop (crnn, paddle)",
    )
    add_model_options(ev)
    add_recognition_options(ev)
    ev.set_defaults(func=cmd_eval)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="anpr-edge", description="Read Russian licence plates from cameras and files.")
    p.add_argument("--version", action="version", version=f"anpr-edge {__version__}")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = p.add_subparsers(dest="command", required=True)

    pr = sub.add_parser("process", help="video file or image folder → CSV of plate events")
    pr.add_argument("input", type=Path, help="video file or folder of images")
    pr.add_argument("--out", type=Path, required=True, help="CSV file (appended; header time;plate_num)")
    pr.add_argument("--fps", type=float, help="frame rate of an image folder (25) or to override a video's")
    pr.add_argument("--target_fps", type=float, help="process at most this many frames per second")
    pr.add_argument("--json", type=Path, help="also write full events as JSON lines")
    pr.add_argument("--annotate", type=Path, help="write an annotated video (mp4)")
    pr.add_argument("--save_crops_dir", type=Path, help="save every OCR'd plate crop here")
    pr.add_argument("--show", action="store_true", help="show frames in a window (needs a display)")
    pr.add_argument("--quiet", action="store_true", help="no progress bar")
    add_model_options(pr)
    add_recognition_options(pr)
    pr.set_defaults(func=cmd_process)

    rd = sub.add_parser("read", help="read the plates of images (no tracking)")
    rd.add_argument("paths", type=Path, nargs="+", help="images or folders")
    rd.add_argument("--json", action="store_true", help="one JSON object per image")
    add_model_options(rd)
    add_recognition_options(rd)
    rd.set_defaults(func=cmd_read)

    add_bench(sub)

    add_eval(sub)

    from anpr_edge.cli.daemon import add_daemon_commands

    add_daemon_commands(sub)
    return p


def setup_logging(verbose: bool) -> None:
    from anpr_edge.logs import configure

    configure(logging.DEBUG if verbose else logging.INFO)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(args.verbose)
    keep_large_blocks_out()
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except AnprError as exc:
        report(str(exc))
        return 2
    except KeyboardInterrupt:
        print("anpr-edge: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # the process boundary: a bug still ends in one line (-v: the traceback)
        logger.debug("unexpected error", exc_info=True)
        report(f"unexpected {type(exc).__name__}: {exc} (a bug: please report it with the output of -v)")
        return 1


def report(message: str) -> None:
    """Each problem on its own ``anpr-edge: error:`` line, passwords cut out."""
    from anpr_edge.sources.urls import redact

    for line in redact(message).splitlines() or [""]:
        print(f"anpr-edge: error: {line}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
