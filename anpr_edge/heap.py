"""The C heap kept lean: frame-sized buffers go back to the system when freed, and so does what compiling left.

glibc serves a request of at least its mmap threshold with a mapping of its own, returned on ``free``; but
once such a block is freed it raises the threshold to that block's size (up to 32 MiB), so later frame-sized
buffers (a 1080p frame is 5.9 MiB, the detector's input 6 MiB) come from the heap arenas, and what they free
stays in the process. :func:`keep_large_blocks_out` (once, at the entry point) fixes the threshold, which also
stops its raising; :func:`give_back` returns the heap's free pages (after models are compiled). Where the C
library is not glibc, or the user set glibc's threshold in the environment, the heap is left as it is.
"""

from __future__ import annotations

import ctypes
import functools
import logging
import os

logger = logging.getLogger(__name__)

#: Requests of this size or more get a mapping of their own: every frame and model input, not a plate's crop.
MMAP_THRESHOLD = 1 << 20

_M_MMAP_THRESHOLD = -3  # glibc's <malloc.h>


@functools.cache
def _glibc() -> ctypes.CDLL | None:
    """The C library this process runs on, with the signatures used here, if it is glibc."""
    try:
        libc = ctypes.CDLL(None)  # the one already loaded
    except (OSError, TypeError) as exc:
        logger.debug("heap: no C library to call (%s)", exc)
        return None
    if not all(hasattr(libc, f) for f in ("gnu_get_libc_version", "mallopt", "malloc_trim")):
        return None
    libc.mallopt.argtypes, libc.mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    libc.malloc_trim.argtypes, libc.malloc_trim.restype = [ctypes.c_size_t], ctypes.c_int
    return libc


def _set_by_user() -> str | None:
    """The environment variable by which the user set glibc's mmap threshold, if any."""
    if "MALLOC_MMAP_THRESHOLD_" in os.environ:
        return "MALLOC_MMAP_THRESHOLD_"
    return "GLIBC_TUNABLES" if "mmap_threshold" in os.environ.get("GLIBC_TUNABLES", "") else None


def keep_large_blocks_out(threshold: int = MMAP_THRESHOLD) -> bool:
    """Fix glibc's mmap threshold at ``threshold`` bytes; True when set. Where it is not, an info line says why."""
    libc, user = _glibc(), _set_by_user()
    if libc is None or user is not None:
        why = f"set by {user}" if user else "the C library is not glibc"
        logger.info("heap: mmap threshold left as it is (%s)", why)
        return False
    if not libc.mallopt(_M_MMAP_THRESHOLD, threshold):
        logger.info("heap: glibc refused an mmap threshold of %d bytes; left as it is", threshold)
        return False
    logger.debug("heap: glibc's mmap threshold fixed at %d bytes", threshold)
    return True


def give_back() -> bool:
    """Return the heap's free pages to the system (glibc's ``malloc_trim``); True when some were."""
    libc = _glibc()
    return bool(libc.malloc_trim(0)) if libc is not None else False
