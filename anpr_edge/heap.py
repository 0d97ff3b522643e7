"""The C heap set up once, at the entry point, so frame-sized buffers go back to the system when freed.

glibc serves a request of at least its mmap threshold with a mapping of its own, returned on ``free``; but
once such a block is freed it raises the threshold to that block's size (up to 32 MiB), so later frame-sized
buffers (a 1080p frame is 5.9 MiB, the detector's input 6 MiB) come from the heap arenas, and what they free
stays in the process. On the bench clip that held 30-45 MiB. :func:`keep_large_blocks_out` fixes the threshold
(which also stops its raising). Where the C library is not glibc it says so and changes nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

logger = logging.getLogger("anpr_edge")

#: Requests of this size or more get a mapping of their own: every frame and model input, not a plate's crop.
MMAP_THRESHOLD = 1 << 20

_M_MMAP_THRESHOLD = -3  # glibc's <malloc.h>


def keep_large_blocks_out(threshold: int = MMAP_THRESHOLD) -> bool:
    """Fix glibc's mmap threshold at ``threshold`` bytes. True when set; False (with a debug line) where the
    C library has no ``mallopt`` or refuses the value."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        if not hasattr(libc, "gnu_get_libc_version"):
            logger.debug("heap: the C library (%s) is not glibc; its mmap threshold is left as it is", name)
            return False
        done = bool(libc.mallopt(_M_MMAP_THRESHOLD, ctypes.c_int(threshold)))
    except OSError as exc:
        logger.debug("heap: the C library could not be loaded (%s); its mmap threshold is left as it is", exc)
        return False
    if not done:
        logger.debug("heap: glibc refused an mmap threshold of %d bytes", threshold)
    return done
