"""The heap set-up: frame-sized blocks keep their own mapping after one is freed, free pages go back, and the
entry point and the model loader use both.

Each check of glibc runs in a fresh interpreter (its threshold is process state, and pytest's allocations would
otherwise decide it), with the environment's own malloc settings removed. glibc's counters (``mallinfo2``, glibc
≥ 2.33: bytes in mapped blocks) say where a block went.
"""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from anpr_edge import heap
from anpr_edge.cli import main as cli_main
from anpr_edge.errors import ModelLoadError
from anpr_edge.inference import models

glibc = heap._glibc()
needs_glibc = pytest.mark.skipif(
    glibc is None or not hasattr(ctypes.CDLL(None), "mallinfo2"), reason="glibc ≥ 2.33 (mallinfo2) only"
)

SCRIPT = """
import ctypes, os, sys
from anpr_edge.heap import give_back, keep_large_blocks_out

class MallInfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks",
                 "keepcost")]

libc = ctypes.CDLL(None)
libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
libc.mallinfo2.restype = MallInfo2
page = os.sysconf("SC_PAGE_SIZE")
if sys.argv[1] == "trim":
    rss = lambda: int(open("/proc/self/statm").read().split()[1]) * page
    blocks = [libc.malloc(4096) for _ in range(8192)]  # 32 MiB of small blocks, in the heap
    for b in blocks:
        ctypes.memset(b, 1, 4096)
    keep = libc.malloc(4096)  # above them all: the heap's top cannot shrink past it on its own
    for b in blocks:
        libc.free(b)
    before = rss()
    print(give_back() and before - rss() >= 16 << 20)
    sys.exit()
if sys.argv[1] == "fixed":
    assert keep_large_blocks_out()
size = 6 << 20  # a 1080p frame
libc.free(libc.malloc(size))  # glibc's own threshold rises to this size here
before = libc.mallinfo2().hblkhd
block = libc.malloc(size)
print(libc.mallinfo2().hblkhd - before >= size)
libc.free(block)
"""


def answer(mode: str, **env: str) -> bool:
    """The script's one line, run as ``mode`` in an environment without malloc settings (plus ``env``)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_") and k != "GLIBC_TUNABLES"}
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(SCRIPT), mode],
        capture_output=True,
        text=True,
        check=False,
        env={**clean, **env},
    )
    assert out.returncode == 0 or "AssertionError" in out.stderr, out.stderr
    return out.stdout.strip() == "True"


@needs_glibc
def test_a_frame_sized_block_keeps_its_own_mapping_once_the_threshold_is_fixed() -> None:
    assert not answer("glibc's default")  # the second frame comes from the heap: it would stay there
    assert answer("fixed")


@needs_glibc
def test_a_threshold_the_user_set_is_left_alone() -> None:
    assert not answer("fixed", MALLOC_MMAP_THRESHOLD_="33554432")  # keep_large_blocks_out says no: the script fails


@needs_glibc
def test_the_free_pages_of_the_heap_go_back() -> None:
    assert answer("trim")  # RSS fell by at least 16 of the 32 MiB freed


def test_the_entry_point_fixes_the_threshold_and_loading_models_gives_back(
    monkeypatch: pytest.MonkeyPatch, tiny_models: Path, tmp_path: Path
) -> None:
    """The wiring: ``anpr-edge`` fixes the threshold before any command, and every models load gives back what
    compiling left, a failed one too."""
    calls: list[str] = []

    def said(what: str) -> Callable[[], bool]:
        def call() -> bool:
            calls.append(what)
            return True

        return call

    monkeypatch.setattr(cli_main, "keep_large_blocks_out", said("threshold"))
    monkeypatch.setattr(models, "give_back", said("give back"))
    assert cli_main.main(["check-config", str(tmp_path / "missing.yaml")]) != 0
    assert calls == ["threshold"]
    with pytest.raises(ModelLoadError):
        models.Models.load(tmp_path / "plate_detector", tiny_models / "plate_ocr", "cpu")
    models.Models.load(tiny_models / "plate_detector", tiny_models / "plate_ocr", "cpu")
    assert calls == ["threshold", "give back", "give back"]
