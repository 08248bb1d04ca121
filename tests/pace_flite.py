"""CMU Flite's built-in voices, a held-out engine of the pace corpus (tests/held_out_engines.py).

Debian's `flite` package (CMU Flite 2.2) links its English voices into the program (`flite -lv`): `kal` (8 kHz)
and `kal16` (16 kHz) are diphone voices, `awb`, `rms` and `slt` clustergen statistical voices (a different family
from festival's diphone and HTS voices); `awb_time` (a talking clock) is left out. The rate is flite's
`duration_stretch` feature (`--setf duration_stretch=X`: every segment's duration times X). Flite draws no random
numbers: one text at one stretch is the same sound on every run.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np

from tests import pace_corpus as pc
from tests.pace_corpus import Voice

ENGINE = "flite"
PROGRAM = "flite"
VOICES: tuple[Voice, ...] = tuple(Voice(ENGINE, ident) for ident in ("kal", "kal16", "awb", "rms", "slt"))
# true pace at duration_stretch 1, roughly (speaking time, pauses included; 2026-12-06, two passages each)
NATURAL_WPM = {"kal": 196.0, "kal16": 198.0, "awb": 186.0, "rms": 166.0, "slt": 187.0}


def missing() -> list[str]:
    """`flite` when it is not installed (empty when it is)."""
    return [] if shutil.which(PROGRAM) else [PROGRAM]


def version() -> str:
    try:
        return subprocess.run([PROGRAM, "--version"], capture_output=True, text=True, check=False).stdout.strip()
    except FileNotFoundError:
        return f"{PROGRAM} missing"


def synthesize(voice: Voice, text: str, stretch: float, work: Path) -> np.ndarray:
    """Flite's `voice` reading `text` at `stretch`: mono float32 at the corpus's rate."""
    (work / "text.txt").write_text(text + "\n")
    raw = work / "raw.wav"
    pc._run([PROGRAM, "-voice", voice.ident, "--setf", f"duration_stretch={stretch:.6f}", "-f", str(work / "text.txt"),
             "-o", str(raw)])
    return pc._to_rate(raw, work / "raw16.wav")
