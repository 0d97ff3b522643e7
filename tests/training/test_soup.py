"""Averaging two networks' weights (``python -m anpr_edge.training.soup``): readers and detectors."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch", reason="the soup tool needs torch (pip install -e '.[train]')")

from anpr_edge.training.crnn import CRNN  # noqa: E402
from anpr_edge.training.soup import SoupError, average, main  # noqa: E402

ALPHABET = "0123456789ABEKMHOPCTYX"


def checkpoint(seed: int, alphabet: str = ALPHABET, classes: int = len(ALPHABET) + 1) -> dict[str, Any]:
    torch.manual_seed(seed)
    model = CRNN(classes)
    model.train()
    model(torch.randn(4, 1, 32, 128))  # batch-norm statistics move away from their start
    return {"model": model.state_dict(), "alphabet": alphabet, "epoch": seed, "crop_spec": {"rectified": seed == 1}}


def test_the_average_is_weighted_and_keeps_the_first_checkpoints_metadata() -> None:
    a, b = checkpoint(1), checkpoint(2)
    soup = average(a, b, 0.75)
    assert soup["epoch"] == 1 and soup["crop_spec"] == {"rectified": True}
    for name, t in soup["model"].items():
        ta, tb = a["model"][name], b["model"][name]
        if t.is_floating_point():
            assert torch.allclose(t, 0.75 * ta + 0.25 * tb, atol=1e-6), name
        else:  # batch counters stay the first's
            assert torch.equal(t, ta), name
    assert any("running_var" in n for n in soup["model"])  # statistics were averaged too
    model = CRNN(len(ALPHABET) + 1)
    model.load_state_dict(soup["model"])  # a checkpoint like any other
    model.eval()
    assert model(torch.zeros(1, 1, 32, 128)).shape[-1] == len(ALPHABET) + 1


def test_the_ends_of_the_weight_give_back_each_checkpoint() -> None:
    a, b = checkpoint(1), checkpoint(2)
    for weight, same in ((1.0, a), (0.0, b)):
        soup = average(a, b, weight)
        assert all(torch.equal(t, same["model"][n]) for n, t in soup["model"].items() if t.is_floating_point())


@pytest.mark.parametrize(
    ("second", "weight", "message"),
    [
        (lambda: checkpoint(2, alphabet="0123456789ABC", classes=14), 0.5, "the alphabets differ"),
        (lambda: {**checkpoint(2), "model": {}}, 0.5, "the networks differ"),
        (lambda: checkpoint(2), 1.5, "--weight must be 0-1"),
    ],
)
def test_readers_that_cannot_be_averaged_are_refused(second: object, weight: float, message: str) -> None:
    with pytest.raises(SoupError, match=message):
        average(checkpoint(1), second(), weight)  # type: ignore[operator]


def test_the_tool_writes_a_soup_or_says_in_one_line_why_not(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a, b = tmp_path / "a.pt", tmp_path / "b.pt"
    torch.save(checkpoint(1), a)
    torch.save(checkpoint(2), b)
    out = tmp_path / "soup" / "s.pt"
    assert main(["--checkpoint", str(a), "--checkpoint", str(b), "--weight", "0.5", "--out", str(out)]) == 0
    soup = torch.load(out, map_location="cpu", weights_only=False)
    assert soup["soup"] == {"first": str(a), "second": str(b), "weight": 0.5}
    capsys.readouterr()  # what the run logged (a root handler left by an earlier test may write elsewhere)

    (tmp_path / "junk.pt").write_text("not a checkpoint")
    for args, message in (
        (["--checkpoint", str(a)], "give --checkpoint twice"),
        (["--checkpoint", str(a), "--checkpoint", str(tmp_path / "none.pt")], "none.pt: no such file"),
        (["--checkpoint", str(a), "--checkpoint", str(tmp_path / "junk.pt")], "junk.pt: not a checkpoint"),
    ):
        assert main([*args, "--out", str(tmp_path / "x.pt")]) == 2
        err = capsys.readouterr().err
        assert err.startswith("soup: ") and message in err and err.count("\n") == 1
    assert not (tmp_path / "x.pt").exists()


def detector_checkpoint(seed: int, with_ema: bool) -> dict[str, Any]:
    """An ultralytics-style checkpoint: the network as a module in half precision, its EMA beside it or not."""
    torch.manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4))
    net.train()
    net(torch.randn(2, 3, 8, 8))
    ema = copy.deepcopy(net).half() if with_ema else None
    if ema is not None:
        torch.nn.init.constant_(ema[0].weight, float(seed))  # the EMA differs from the raw network
    return {"model": net.half(), "ema": ema, "train_args": {"seed": seed}}


def test_detectors_are_averaged_as_ultralytics_loads_them() -> None:
    a, b = detector_checkpoint(1, with_ema=True), detector_checkpoint(2, with_ema=False)
    soup = average(a, b, 0.25)
    assert soup["ema"] is None and soup["train_args"] == {"seed": 1}
    assert isinstance(soup["model"], torch.nn.Module) and soup["model"][0].weight.dtype == torch.float16
    want = 0.25 * a["ema"][0].weight.float() + 0.75 * b["model"][0].weight.float()  # a's EMA, b's network
    assert torch.allclose(soup["model"][0].weight.float(), want, atol=1e-3)
    assert torch.equal(soup["model"][1].num_batches_tracked, a["ema"][1].num_batches_tracked)
    assert torch.equal(a["ema"][0].weight, torch.ones_like(a["ema"][0].weight))  # the first is left as it was
    a["ema"].names, b["model"].names = {0: "plate"}, {0: "car"}
    with pytest.raises(SoupError, match="the detectors' classes differ"):
        average(a, b, 0.5)
