"""What a WAV file's own header says about its length, to notice a recording that was cut short
(libsndfile quietly reads what is there and reports that as the whole file)."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Optional

UNKNOWN_SIZES = (0, 0xFFFFFFFF)  # streaming writers that never went back to fill the size in


def missing_data_bytes(path: Path) -> Optional[tuple[int, int]]:
    """(declared, present) bytes of a WAV file's audio data when the file holds less than its header
    declares; None for a complete file, a file that is not a plain RIFF WAV, or an unknown size."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(12)
            if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
                return None
            size = Path(path).stat().st_size
            while True:
                chunk = fh.read(8)
                if len(chunk) < 8:
                    return None
                name, length = chunk[:4], struct.unpack("<I", chunk[4:])[0]
                if name == b"data":
                    if length in UNKNOWN_SIZES:
                        return None
                    present = size - fh.tell()
                    return (length, present) if present < length else None
                fh.seek(length + (length & 1), 1)
    except OSError:
        return None
