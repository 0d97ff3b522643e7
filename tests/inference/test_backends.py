"""Both runtimes load the tiny models, agree, and refuse broken model files with one clear error."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import numpy as np
import pytest

from anpr_edge.core.geometry import iou
from anpr_edge.core.results import Detection
from anpr_edge.errors import ModelLoadError
from anpr_edge.inference.contract import DetectorSpec, write_spec
from anpr_edge.inference.detector import PlateDetector
from anpr_edge.inference.models import Models
from anpr_edge.inference.ocr import CharThresholds, PlateOCR
from anpr_edge.inference.runtime.onnx import OnnxBackend
from anpr_edge.inference.runtime.openvino import OpenVinoBackend
from anpr_edge.training.augment import style_plate
from anpr_edge.training.demo_video import Car, background, draw_car
from anpr_edge.training.render import render_plate
from tests.conftest import MODELS, needs_models


def frame_with_patch(x: int, y: int, w: int = 64, h: int = 64) -> np.ndarray:
    img = np.zeros((1080, 1920, 3), np.uint8)
    img[y : y + h, x : x + w] = 255
    return img


@pytest.mark.parametrize("device", ["cpu", "onnx-cpu"])
def test_detector_finds_bright_patch_in_frame_pixels(tiny_models: Path, device: str) -> None:
    det = PlateDetector.load(tiny_models / "plate_detector", device, conf=0.5, iou=0.3)
    # 1920x1080 → scale 1/3 into 640x360, padded 12 px top and bottom. A 96x96 white patch at
    # frame (960, 444) is input (320..352, 160..192): exactly cell (10, 5), score 1.0.
    out = det(frame_with_patch(960, 444, 96, 96))
    assert len(out) == 1
    x1, y1, x2, y2 = out[0].box
    assert (x1 + x2) / 2 == pytest.approx((10 * 32 + 16) * 3, abs=1)
    assert (y1 + y2) / 2 == pytest.approx((5 * 32 + 16 - 12) * 3, abs=1)
    assert x2 - x1 == pytest.approx(96 * 3, abs=1)
    assert det(np.zeros((720, 1280, 3), np.uint8)) == []


def test_openvino_and_onnx_runtime_agree_on_ocr(tiny_models: Path) -> None:
    thr = CharThresholds(0.0, 0.0)
    ov_ocr = PlateOCR.load(tiny_models / "plate_ocr", "cpu", thr)
    ort_ocr = PlateOCR.load(tiny_models / "plate_ocr", "onnx-cpu", thr)
    frame = np.random.default_rng(1).integers(0, 255, (200, 400, 3), dtype=np.uint8)
    dets = [Detection((10, 10, 200, 60), 0.9), Detection((100, 100, 390, 190), 0.8), Detection((0, 0, 5, 5), 0.5)]
    a, b = ov_ocr(frame, dets), ort_ocr(frame, dets)
    assert len(a) == 3  # one batched inference for all crops of the frame
    for ra, rb in zip(a, b, strict=True):
        assert ra.text == rb.text
        np.testing.assert_allclose(ra.probs, rb.probs, atol=1e-4)


def test_missing_model_names_the_file(tmp_path: Path) -> None:
    write_spec(tmp_path / "plate_detector", DetectorSpec(640, 384))
    with pytest.raises(ModelLoadError, match=r"plate_detector\.xml: model file not found"):
        PlateDetector.load(tmp_path / "plate_detector", "cpu", 0.3, 0.5)


def test_missing_metadata_names_the_file(tiny_models: Path, tmp_path: Path) -> None:
    shutil.copy(tiny_models / "plate_ocr.xml", tmp_path)
    with pytest.raises(ModelLoadError, match=r"plate_ocr\.json: model metadata not found"):
        PlateOCR.load(tmp_path / "plate_ocr", "cpu", CharThresholds())


def test_ocr_metadata_deskew_must_be_a_boolean(tmp_path: Path) -> None:
    import json

    from anpr_edge.inference.contract import OcrSpec, load_spec

    write_spec(tmp_path / "plate_ocr", OcrSpec(128, 32, "0123456789", deskew=True))
    spec = load_spec(tmp_path / "plate_ocr", "plate_ocr")
    assert isinstance(spec, OcrSpec) and spec.deskew
    meta = tmp_path / "plate_ocr.json"
    meta.write_text(json.dumps({**json.loads(meta.read_text()), "deskew": "yes"}))
    with pytest.raises(ModelLoadError, match=r"plate_ocr\.json: deskew must be true or false, got 'yes'"):
        load_spec(tmp_path / "plate_ocr", "plate_ocr")


@pytest.mark.parametrize("device", ["cpu", "onnx-cpu"])
def test_corrupt_model_is_one_line_error(tiny_models: Path, tmp_path: Path, device: str) -> None:
    for f in tiny_models.glob("plate_detector.*"):
        shutil.copy(f, tmp_path)
    target = tmp_path / ("plate_detector.onnx" if device == "onnx-cpu" else "plate_detector.xml")
    target.write_bytes(target.read_bytes()[:200])
    with pytest.raises(ModelLoadError) as exc:
        PlateDetector.load(tmp_path / "plate_detector", device, 0.3, 0.5)
    assert str(target) in str(exc.value) and "\n" not in str(exc.value)


def test_shape_mismatch_names_expected_and_found(tiny_models: Path, tmp_path: Path) -> None:
    for f in tiny_models.glob("plate_detector.*"):
        shutil.copy(f, tmp_path)
    write_spec(tmp_path / "plate_detector", DetectorSpec(416, 416))
    with pytest.raises(
        ModelLoadError, match=r"input shape \(1, 3, 384, 640\) does not match expected \(1, 3, 416, 416\)"
    ):
        PlateDetector.load(tmp_path / "plate_detector", "cpu", 0.3, 0.5)


def test_cuda_without_provider_is_clear(tiny_models: Path) -> None:
    import onnxruntime as ort

    if "CUDAExecutionProvider" in ort.get_available_providers():
        pytest.skip("this machine has CUDA")
    with pytest.raises(ModelLoadError, match="CUDAExecutionProvider"):
        PlateDetector.load(tiny_models / "plate_detector", "cuda", 0.3, 0.5)


def test_a_fixed_input_model_refuses_another_input_size_with_the_reason(tiny_models: Path) -> None:
    with pytest.raises(ModelLoadError, match=r"detector input 512x288: .*this model's input is fixed"):
        PlateDetector.load(tiny_models / "plate_detector", "cpu", None, 0.5, input_size=(512, 288))
    with pytest.raises(ModelLoadError, match="input_width=500 must be a positive multiple of stride 32"):
        PlateDetector.load(tiny_models / "plate_detector", "cpu", None, 0.5, input_size=(500, 288))
    same = PlateDetector.load(tiny_models / "plate_detector", "cpu", None, 0.5, input_size=(640, 384))
    assert same.conf == 0.5  # no conf given: the model's own operating point (metadata default)


@needs_models
@pytest.mark.parametrize("device", ["cpu", "onnx-cpu"])
def test_shipped_detector_runs_at_a_chosen_input_size(device: str) -> None:
    text = "K777KK777"
    frame = background(1920, 1080, seed=4)
    plate = style_plate(render_plate(text, px_per_mm=1.0).image, random.Random(1))
    box = draw_car(frame, Car(text, 0, 1, lane_x=0.5), plate, 1080 * 0.7, 260.0)
    for size in ((640, 384), (512, 288)):
        det = PlateDetector.load(MODELS / "plate_detector", device, None, 0.5, input_size=size)
        assert (det.spec.input_width, det.spec.input_height) == size
        x, _ = det.preprocess(frame)
        assert x.shape == (1, 3, size[1], size[0])
        assert any(iou(d.box, box) > 0.7 for d in det(frame)), size


@needs_models
@pytest.mark.parametrize("device", ["cpu", "auto"])
def test_openvino_runs_the_shipped_ocr_at_the_precision_it_was_measured_at(device: str) -> None:
    """OpenVINO's CPU plugin picks bf16 by itself on CPUs with native bf16 (AVX512-BF16, AMX), and bf16 moved
    the older reader's probabilities by about 0.03 and changed real-dev reads. The runtime must give what the
    IR gives compiled at the precision the reader's card chose (``cpu_precision``, where the CPU has it)."""
    import openvino as ov

    from anpr_edge.inference.contract import OcrSpec, load_spec
    from anpr_edge.inference.runtime.base import resolve_precision

    spec = load_spec(MODELS / "plate_ocr", "plate_ocr")
    assert isinstance(spec, OcrSpec)
    expected = resolve_precision("auto", spec.cpu_precision, device)
    x = np.random.default_rng(0).uniform(-1, 1, (16, 1, 32, 128)).astype(np.float32)
    backend = PlateOCR.load(MODELS / "plate_ocr", device, CharThresholds()).backend
    assert backend.precision == expected
    ref = ov.Core().compile_model(str(MODELS / "plate_ocr.xml"), "CPU", {"INFERENCE_PRECISION_HINT": expected})
    np.testing.assert_allclose(backend.infer(x), ref(x)[0], atol=1e-5)


def test_cpu_precision_is_pinned_wherever_the_cpu_may_run() -> None:
    from anpr_edge.inference.runtime.openvino import cpu_precision_config

    pinned = {"DEVICE_PROPERTIES": {"CPU": {"INFERENCE_PRECISION_HINT": "f32"}}}
    assert cpu_precision_config("CPU") == pinned and cpu_precision_config("AUTO") == pinned
    assert cpu_precision_config("GPU") == {}  # a GPU keeps its own default (f16)


def test_the_load_log_says_the_cpu_precision(tiny_models: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO", logger="anpr_edge.inference.runtime.openvino")
    PlateOCR.load(tiny_models / "plate_ocr", "cpu", CharThresholds())
    assert "loaded plate_ocr.xml on CPU (asked for CPU, CPU in f32, latency)" in caplog.text


@pytest.mark.parametrize("device", ["cpu", "auto"])
def test_the_performance_hint_reaches_openvino(tiny_models: Path, device: str) -> None:
    """``models.performance``: one inference on every core (latency), or several side by side (throughput)."""
    latency = PlateOCR.load(tiny_models / "plate_ocr", device, CharThresholds())
    throughput = PlateOCR.load(tiny_models / "plate_ocr", device, CharThresholds(), hint="throughput")
    assert isinstance(latency.backend, OpenVinoBackend) and isinstance(throughput.backend, OpenVinoBackend)
    assert latency.backend.hint == "LATENCY" and throughput.backend.hint == "THROUGHPUT"
    x = np.zeros((2, 1, 32, 128), np.float32)
    assert np.allclose(latency.backend.infer(x), throughput.backend.infer(x), atol=1e-5)  # same model, same output
    import cv2

    cv2.setNumThreads(4)
    models = Models.load(tiny_models / "plate_detector", tiny_models / "plate_ocr", "cpu", hint="throughput")
    assert isinstance(models.detector.backend, OpenVinoBackend) and models.detector.backend.hint == "THROUGHPUT"
    assert cv2.getNumThreads() == 1  # OpenCV's pool would compete with the inference threads for the cores
    with pytest.raises(ModelLoadError, match="unknown performance hint 'fast'; choose one of latency, throughput"):
        PlateOCR.load(tiny_models / "plate_ocr", "cpu", CharThresholds(), hint="fast")


def test_onnx_runtime_on_the_cpu_runs_one_thread_per_inference_for_throughput(tiny_models: Path) -> None:
    latency = PlateOCR.load(tiny_models / "plate_ocr", "onnx-cpu", CharThresholds())
    throughput = PlateOCR.load(tiny_models / "plate_ocr", "onnx-cpu", CharThresholds(), hint="throughput")
    assert isinstance(latency.backend, OnnxBackend) and isinstance(throughput.backend, OnnxBackend)
    assert throughput.backend.intra_op_threads == 1 and latency.backend.intra_op_threads == 0  # 0: ORT's default
    x = np.zeros((2, 1, 32, 128), np.float32)
    assert np.allclose(latency.backend.infer(x), throughput.backend.infer(x), atol=1e-5)


def with_precision(tiny_models: Path, tmp_path: Path, stem: str, precision: str) -> Path:
    """A copy of the tiny models whose ``stem`` metadata records ``precision`` as its measured choice."""
    import json

    folder = tmp_path / "models"
    shutil.copytree(tiny_models, folder)
    meta = folder / f"{stem}.json"
    meta.write_text(json.dumps({**json.loads(meta.read_text()), "cpu_precision": precision}))
    return folder


def test_precision_auto_runs_what_the_metadata_measured_and_an_explicit_one_wins(
    tiny_models: Path, tmp_path: Path
) -> None:
    from anpr_edge.inference.runtime.base import NATIVE, cpu_flags

    folder = with_precision(tiny_models, tmp_path, "plate_ocr", "bf16")
    native = "bf16" if cpu_flags() & set(NATIVE["bf16"]) else "f32"  # both cases: the test below
    assert PlateOCR.load(folder / "plate_ocr", "cpu", CharThresholds()).backend.precision == native
    assert PlateOCR.load(folder / "plate_ocr", "cpu", CharThresholds(), precision="f32").backend.precision == "f32"
    # ONNX Runtime runs f32: auto falls back to it, an explicit bf16 or int8 is refused in one line.
    assert PlateOCR.load(folder / "plate_ocr", "onnx-cpu", CharThresholds()).backend.precision == "f32"
    with pytest.raises(ModelLoadError, match="precision int8 needs an OpenVINO device"):
        PlateOCR.load(folder / "plate_ocr", "onnx-cpu", CharThresholds(), precision="int8")


def test_int8_loads_the_quantized_copy_or_names_the_tool_that_makes_it(
    tiny_models: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = with_precision(tiny_models, tmp_path, "plate_detector", "int8")
    with pytest.raises(ModelLoadError, match=r"plate_detector\.int8\.xml: model file not found \(make it with"):
        PlateDetector.load(folder / "plate_detector", "cpu", None, 0.5, precision="int8")
    for suffix in (".xml", ".bin"):  # stands in for a quantized copy: which file loads is what is tested here
        shutil.copy(folder / f"plate_detector{suffix}", folder / f"plate_detector.int8{suffix}")
    caplog.set_level("INFO", logger="anpr_edge.inference.runtime.openvino")
    det = PlateDetector.load(folder / "plate_detector", "cpu", None, 0.5, precision="int8")
    assert det.backend.precision == "int8" and "loaded plate_detector.int8.xml on CPU" in caplog.text


def test_a_wrong_cpu_precision_in_metadata_names_the_file(tiny_models: Path, tmp_path: Path) -> None:
    folder = with_precision(tiny_models, tmp_path, "plate_ocr", "fp8")
    with pytest.raises(ModelLoadError, match=r"plate_ocr\.json: cpu_precision must be f32, bf16 or int8"):
        PlateOCR.load(folder / "plate_ocr", "cpu", CharThresholds())


def test_precision_auto_takes_the_measured_choice_only_where_the_cpu_runs_it_natively() -> None:
    from anpr_edge.inference.runtime.base import resolve_precision

    zen4 = frozenset({"avx2", "avx512f", "avx512_vnni", "avx512_bf16"})
    avx2 = frozenset({"avx2"})
    assert resolve_precision("auto", "bf16", "cpu", zen4) == "bf16"
    assert resolve_precision("auto", "bf16", "cpu", avx2) == "f32"  # bf16 would be emulated: slower
    assert resolve_precision("auto", "int8", "auto", avx2) == "f32"
    assert resolve_precision("bf16", "f32", "cpu", avx2) == "bf16"  # asked for: the user's call
    assert resolve_precision("auto", "int8", "gpu", zen4) == "f32"  # a GPU keeps its own default
    assert resolve_precision("auto", "int8", "onnx-cpu", zen4) == "f32"  # ONNX Runtime runs f32
    with pytest.raises(ModelLoadError, match="unknown precision 'fp8'"):
        resolve_precision("fp8", "f32", "cpu", zen4)


def test_cpu_flags_come_from_the_first_cpus_flags_line(tmp_path: Path) -> None:
    from anpr_edge.inference.runtime.base import cpu_flags, parse_cpu_flags

    text = "processor\t: 0\nmodel name\t: AMD EPYC\nflags\t\t: fpu avx2 avx512_bf16\n\nprocessor\t: 1\nflags\t: fpu\n"
    assert parse_cpu_flags(text) == {"fpu", "avx2", "avx512_bf16"}
    assert parse_cpu_flags("processor : 0\n") == frozenset()
    (tmp_path / "cpuinfo").write_text(text)
    assert cpu_flags(tmp_path / "cpuinfo") == {"fpu", "avx2", "avx512_bf16"}
    assert cpu_flags(tmp_path / "missing") == frozenset()


@needs_models
def test_the_camera_detector_finds_a_small_plate_with_its_corners() -> None:
    """``models/camera``: the corner detector at 960x544 on a 1080p frame, a plate 90 px wide (23 px to the
    default detector's 512x288), boxed and cornered, with the reader beside it in the same folder."""
    text = "A123BC77"
    frame = background(1920, 1080, seed=2)
    plate = style_plate(render_plate(text, px_per_mm=1.0).image, random.Random(3))
    box = draw_car(frame, Car(text, 0, 1, lane_x=0.4), plate, 1080 * 0.55, 90.0)
    models = Models.load(MODELS / "camera" / "plate_detector", MODELS / "camera" / "plate_ocr", "cpu")
    assert (models.detector.spec.input_width, models.detector.spec.input_height) == (960, 544)
    found = [d for d in models.detector(frame) if iou(d.box, box) > 0.5]
    assert found and found[0].corners is not None
    xs = [x for x, _ in found[0].corners]
    assert abs(min(xs) - box[0]) < 0.1 * (box[2] - box[0]) and abs(max(xs) - box[2]) < 0.1 * (box[2] - box[0])


@needs_models
@pytest.mark.parametrize("folder", [MODELS, MODELS / "camera"], ids=["models", "models/camera"])
def test_every_shipped_models_folder_runs_in_int8_on_request(folder: Path) -> None:
    """``precision: int8`` finds a quantized copy of the detector and the reader in each shipped folder (the
    corner model has none and runs f32)."""
    m = Models.load(folder / "plate_detector", folder / "plate_ocr", "cpu", precision="int8")
    assert m.detector.backend.precision == "int8" and m.ocr.backend.precision == "int8"
    assert m.corners is None or m.corners.backend.precision == "f32"


def test_each_thread_fills_its_own_detector_input(tiny_models: Path) -> None:
    """Cameras share one detector: a thread's input tensor is never overwritten by another thread's frame."""
    import threading

    det = PlateDetector.load(tiny_models / "plate_detector", "cpu", conf=0.5, iou=0.3)
    frames = {name: np.full((360, 640, 3), value, np.uint8) for name, value in (("a", 10), ("b", 250))}
    tensors: dict[str, np.ndarray] = {}
    barrier = threading.Barrier(2)

    def fill(name: str) -> None:
        x, _ = det.preprocess(frames[name])
        barrier.wait()  # both filled before either is looked at
        tensors[name] = x.copy()
        barrier.wait()
        tensors[name + " again"] = x

    threads = [threading.Thread(target=fill, args=(n,)) for n in frames]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert tensors["a again"] is not tensors["b again"]
    # Each frame is one grey level in grey padding (114): had the other thread written into this one's tensor,
    # its darkest (brightest) value would be the other frame's or the padding's.
    assert tensors["a"].min() == pytest.approx(10 / 255) and tensors["b"].max() == pytest.approx(250 / 255)


@needs_models
def test_the_detector_and_its_second_look_map_the_weights_once(tmp_path: Path) -> None:
    """One file, two inputs: the second look compiles a copy of the detector's read, not a second read."""
    folder = tmp_path / "camera"
    shutil.copytree(MODELS / "camera", folder)  # a path no other test's models have
    m = Models.load(folder / "plate_detector", folder / "plate_ocr", "cpu")
    assert m.verifier is not None
    weights = str(folder / "plate_detector.bin")
    with open("/proc/self/maps") as fh:
        mapped = [line.split()[-1] for line in fh if line.rstrip().endswith(weights)]
    if not mapped:
        pytest.skip("this OpenVINO keeps no mapping of the weights after compiling")
    assert len(mapped) == 1, mapped
