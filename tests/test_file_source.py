"""Call recordings as phone systems write them, read as two aligned parties."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from companion.audio.file_source import CallFileSpec, FileCallSource
from companion.errors import AudioInputError
from tests import signals


def stereo(rate=16000, seconds=2.0):
    agent = signals.tone(300.0, seconds, -12, rate)
    customer = signals.tone(1000.0, seconds, -12, rate)
    return np.stack([agent, customer], axis=1)


def read_all(config, spec):
    blocks = list(FileCallSource(spec, config.audio).blocks())
    return np.concatenate([b.agent for b in blocks]), np.concatenate([b.customer for b in blocks]), blocks


def dominant_hz(frames, rate=16000):
    x = frames.reshape(-1)[4000:-4000]
    spec = np.abs(np.fft.rfft(x))
    return np.fft.rfftfreq(len(x), 1 / rate)[np.argmax(spec)]


@pytest.mark.parametrize(
    "fmt,subtype,rate",
    [
        ("WAV", "PCM_16", 16000),
        ("WAV", "PCM_24", 44100),
        ("WAV", "FLOAT", 48000),
        ("WAV", "ULAW", 8000),
        ("WAV", "ALAW", 8000),
        ("FLAC", "PCM_16", 22050),
    ],
)
def test_recordings_in_phone_formats_become_aligned_frames_at_the_internal_rate(config, tmp_path, fmt, subtype, rate):
    path = tmp_path / f"call.{fmt.lower()}"
    sf.write(str(path), stereo(rate), rate, format=fmt, subtype=subtype)
    agent, customer, blocks = read_all(config, CallFileSpec(path))
    assert agent.shape == customer.shape and agent.shape[1] == 320
    assert agent.shape[0] * 0.02 == pytest.approx(2.0, abs=0.04)
    assert dominant_hz(agent) == pytest.approx(300, abs=5)
    assert dominant_hz(customer) == pytest.approx(1000, abs=5)
    assert [b.first_frame for b in blocks] == list(np.cumsum([0] + [b.frames for b in blocks[:-1]]))


def test_channels_are_selectable(config, tmp_path):
    path = tmp_path / "swapped.wav"
    sf.write(str(path), stereo()[:, ::-1], 16000)
    agent, customer, _ = read_all(config, CallFileSpec(path, agent_channel=1, customer_channel=0))
    assert dominant_hz(agent) == pytest.approx(300, abs=5) and dominant_hz(customer) == pytest.approx(1000, abs=5)


def test_two_mono_files_of_different_rates_and_lengths(config, tmp_path):
    a, c = tmp_path / "agent.wav", tmp_path / "customer.wav"
    sf.write(str(a), signals.tone(300.0, 2.0, -12, 48000), 48000)
    sf.write(str(c), signals.tone(1000.0, 3.0, -12, 8000), 8000, subtype="ULAW")
    agent, customer, _ = read_all(config, CallFileSpec(a, customer_path=c))
    assert agent.shape[0] * 0.02 == pytest.approx(3.0, abs=0.04)
    assert np.abs(agent[-40:]).max() == 0.0  # the shorter side is padded with silence


def test_paced_reading_runs_in_real_time(config, tmp_path):
    import time

    path = tmp_path / "call.wav"
    sf.write(str(path), stereo(seconds=1.0), 16000)
    start = time.monotonic()
    list(FileCallSource(CallFileSpec(path), config.audio, realtime=True).blocks())
    assert time.monotonic() - start >= 0.9


@pytest.mark.parametrize(
    "setup,message",
    [
        (lambda p: None, "No such file"),
        (lambda p: p.write_text("this is not audio"), "not an audio file we can read"),
        (lambda p: sf.write(str(p), signals.tone(300, 1.0), 16000), "is mono"),
        (lambda p: sf.write(str(p), np.zeros((0, 2), np.float32), 16000), "holds no audio"),
        (lambda p: sf.write(str(p), np.zeros((100, 2), np.float32), 4000), "at least 8000 Hz"),
    ],
)
def test_bad_recordings_get_one_clear_sentence(config, tmp_path, setup, message):
    path = tmp_path / "call.wav"
    setup(path)
    with pytest.raises(AudioInputError, match=message):
        FileCallSource(CallFileSpec(path), config.audio)


def test_a_channel_that_does_not_exist(config, tmp_path):
    path = tmp_path / "call.wav"
    sf.write(str(path), stereo(), 16000)
    with pytest.raises(AudioInputError, match=r"has 2 channels \(channels 0-1\); --customer-channel 3 does not exist"):
        FileCallSource(CallFileSpec(path, customer_channel=3), config.audio)
    with pytest.raises(AudioInputError, match="both set to channel 0"):
        FileCallSource(CallFileSpec(path, customer_channel=0), config.audio)
