"""Ways a customer's line changes under a call, shared by the tests that hold the app to them and
bench/line_conditions.py, which measures them on every rendered call (docs/coaching.md):

- `hum`: 50 Hz mains hum and two harmonics, -42 dBFS in all, added to the line;
- `drift_gain`: the line's level wandering +-5 dB over 40 s (a speakerphone, a head turning, an AGC), a gain on it;
- `coloured_noise`: a steady white, pink or brown noise (at unit RMS, to be scaled under the voice), added to it;
- `with_echo`: the agent's voice back on it, `ECHO_DELAY_S` later and some dB quieter (an echo nobody cancelled)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

DRIFT_DB, DRIFT_PERIOD_S = 5.0, 40.0
ECHO_DELAY_S = 0.15


def hum(n: int, rate: int) -> np.ndarray:
    """`n` samples of the hum at `rate`."""
    t = np.arange(n) / rate
    return sum(10 ** (-40 / 20) / k * np.sin(2 * np.pi * 50 * k * t) for k in (1, 2, 3))


def drift_gain(n: int, rate: int) -> np.ndarray:
    """The wandering level's gain for each of `n` samples at `rate`."""
    t = np.arange(n) / rate
    return 10 ** (DRIFT_DB * np.sin(2 * np.pi * t / DRIFT_PERIOD_S) / 20.0)


def coloured_noise(color: str, n: int, rate: int, rng: np.random.Generator) -> np.ndarray:
    """`n` samples at `rate` of white, pink (power falling 3 dB an octave) or brown (6 dB) noise, at unit RMS."""
    white = rng.standard_normal(n)
    if color == "white":
        return white / np.sqrt(np.mean(white**2))
    spectrum = np.fft.rfft(white)
    freqs = np.maximum(np.fft.rfftfreq(n, 1.0 / rate), 20.0)
    shaped = np.fft.irfft(spectrum / (np.sqrt(freqs) if color == "pink" else freqs), n)
    return shaped / np.sqrt(np.mean(shaped**2))


def with_echo(stereo: np.ndarray, rate: int, echo_db: float) -> np.ndarray:
    """A call (agent on channel 0, customer on 1) with the agent's channel added to the customer's `ECHO_DELAY_S`
    later and `echo_db` dB (negative: quieter) as loud."""
    out = stereo.copy()
    lag = int(ECHO_DELAY_S * rate)
    out[lag:, 1] += stereo[:-lag, 0] * 10 ** (echo_db / 20.0)
    return out


def write_with_echo(wav: Path, out: Path, echo_db: float) -> Path:
    """`wav` with its agent's echo on the customer's channel (`with_echo`), written to `out` (32-bit float)."""
    stereo, rate = sf.read(str(wav), dtype="float64", always_2d=True)
    sf.write(str(out), with_echo(stereo, rate, echo_db).astype(np.float32), rate, subtype="FLOAT")
    return out
