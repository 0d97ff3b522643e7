"""Video helpers for test and demo clips (no Pillow needed)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path


def to_h264(src: Path, dst: Path, gop: int = 25) -> bool:
    """Re-encode ``src`` as H.264 (yuv420p) with Debian's ffmpeg; False when ffmpeg is absent."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        return False
    subprocess.run(
        [
            ffmpeg,
            "-y",
            "-loglevel",
            "error",
            "-i",
            str(src),
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-crf",
            "23",
            "-g",
            str(gop),
            "-pix_fmt",
            "yuv420p",
            str(dst),
        ],
        check=True,
    )
    return True
