"""`companion analyze` reuses the memory each block frees instead of faulting fresh pages in for the next one."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests import signals

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc settings")

COUNT = """
import json, resource, sys
from pathlib import Path
import companion.heap as heap
if sys.argv[2] == "off":
    heap._done = False  # as if the settings were never made
from companion.analysis import analyze_call
from companion.audio.file_source import CallFileSpec
from companion.config import load_config
config = load_config(use_user_default=False)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
doc = analyze_call(CallFileSpec(Path(sys.argv[1])), config)
print(json.dumps({"faults": resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before, "turns": len(doc["turns"])}))
"""


def talk(rng: np.random.Generator, seconds: float) -> np.ndarray:
    """Voiced stretches of 1-3 s with gaps, at changing pitch, over a low noise floor."""
    out = signals.noise(seconds, -60.0, seed=int(rng.integers(1 << 30)))
    t = 0.5
    while t < seconds - 3.5:
        length = float(rng.uniform(1.0, 3.0))
        start = int(t * signals.RATE)
        burst = signals.syllables(4.0, length, f0=float(rng.uniform(100, 220)))
        out[start: start + burst.size] += burst
        t += length + float(rng.uniform(0.5, 2.5))
    return out


def analysed(path: Path, setting: str) -> dict[str, int]:
    done = subprocess.run([sys.executable, "-c", COUNT, str(path), setting], capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def test_analysing_a_call_reuses_freed_memory(tmp_path):
    rng = np.random.default_rng(7)
    call = np.stack((talk(rng, 90.0), talk(rng, 90.0)), axis=1)
    path = tmp_path / "call.wav"
    sf.write(str(path), call.astype(np.float32), signals.RATE)
    kept, given_back = analysed(path, "on"), analysed(path, "off")
    assert kept["turns"] == given_back["turns"] > 10
    assert kept["faults"] * 3 < given_back["faults"], (kept, given_back)


def test_the_settings_are_made_once_and_say_whether_glibc_took_them():
    import platform

    import companion.heap as heap

    said = subprocess.run([sys.executable, "-c", "import companion.heap as h; print(h.reuse_freed_memory(), h.reuse_freed_memory())"],
                          capture_output=True, text=True, check=True).stdout.split()
    glibc = platform.libc_ver()[0] == "glibc"
    assert said == (["True", "True"] if glibc else ["False", "False"])
    assert heap.KEEP_FREE_BYTES > heap.OWN_MMAP_FROM
