"""The heap set-up: frame-sized blocks keep their own mapping after one is freed, and free pages go back.

Each check runs in a fresh interpreter: glibc's threshold is process state, and pytest's own allocations would
otherwise decide what it is. glibc's counters (``mallinfo2``: bytes in mapped blocks) say where a block went.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

SCRIPT = """
import ctypes, sys
from anpr_edge.heap import keep_large_blocks_out

class MallInfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks",
                 "keepcost")]

libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
libc.mallinfo2.restype = MallInfo2
if sys.argv[1] == "trim":
    from anpr_edge.heap import give_back
    rss = lambda: int(open("/proc/self/statm").read().split()[1]) * 4096
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


def answer(mode: str) -> bool:
    """The script's one line, run as ``mode``."""
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(SCRIPT), mode], capture_output=True, text=True, check=True
    )
    return out.stdout.strip() == "True"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc: Linux only")
def test_a_frame_sized_block_keeps_its_own_mapping_once_the_threshold_is_fixed() -> None:
    assert not answer("glibc's default")  # the second frame comes from the heap: it stays there
    assert answer("fixed")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc: Linux only")
def test_the_free_pages_of_the_heap_go_back() -> None:
    assert answer("trim")  # (the script's answer: RSS fell by at least 16 of the 32 MiB freed)
