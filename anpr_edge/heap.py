"""The C heap kept lean: frame-sized buffers go back to the system when freed, and so does what compiling left.

glibc serves a request of at least its mmap threshold with a mapping of its own, returned on ``free``; but
once such a block is freed it raises the threshold to that block's size (up to 32 MiB), so later frame-sized
buffers (a 1080p frame is 5.9 MiB, the detector's input 6 MiB) come from the heap arenas, and what they free
stays in the process. :func:`keep_large_blocks_out` (once, at the entry point) fixes the threshold, which also
stops its raising; :func:`give_back` returns the heap's free pages (after the models are compiled). Where the C
library is not glibc both say so (debug) and change nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

logger = logging.getLogger("anpr_edge")

#: Requests of this size or more get a mapping of their own: every frame and model input, not a plate's crop.
MMAP_THRESHOLD = 1 << 20

_M_MMAP_THRESHOLD = -3  # glibc's <malloc.h>


def _glibc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
    except OSError as exc:
        logger.debug("heap: the C library could not be loaded (%s); its heap is left as it is", exc)
        return None
    if not hasattr(libc, "gnu_get_libc_version"):
        logger.debug("heap: the C library (%s) is not glibc; its heap is left as it is", name)
        return None
    return libc


def keep_large_blocks_out(threshold: int = MMAP_THRESHOLD) -> bool:
    """Fix glibc's mmap threshold at ``threshold`` bytes. True when set; False (with a debug line) where the
    C library is not glibc or refuses the value."""
    libc = _glibc()
    if libc is None:
        return False
    if not libc.mallopt(_M_MMAP_THRESHOLD, ctypes.c_int(threshold)):
        logger.debug("heap: glibc refused an mmap threshold of %d bytes", threshold)
        return False
    return True


def give_back() -> bool:
    """Return the heap's free pages to the system (glibc's ``malloc_trim``); True when some were."""
    libc = _glibc()
    return bool(libc.malloc_trim(0)) if libc is not None else False
