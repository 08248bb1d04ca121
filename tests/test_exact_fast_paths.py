"""The quicker ways `analyze` reads a call give what the plain ones gave, to the last bit: a 16-bit recording read
as integers gives the frames libsndfile's own floats gave (at the internal rate and resampled), and webrtcvad
called through its C module answers as its Python wrapper does, frame for frame, in every mode."""

from __future__ import annotations

import numpy as np
import soundfile as sf
import webrtcvad

from companion.audio.file_source import CallFileSpec, FileCallSource
from companion.vad.voice_activity import _Vad, to_pcm16
from tests import signals


def _frames(config, path):
    blocks = list(FileCallSource(CallFileSpec(path), config.audio).blocks())
    return np.concatenate([b.agent for b in blocks]), np.concatenate([b.customer for b in blocks])


def _samples(rate: int) -> np.ndarray:
    """Three seconds and a ragged end of 16-bit stereo, full scale both ways included."""
    samples = np.random.default_rng(7).integers(-32768, 32768, size=(3 * rate + 123, 2), dtype=np.int16)
    samples[:5] = [-32768, 32767]
    return samples


def test_a_16_bit_recording_gives_the_frames_libsndfile_reads_as_floats(config, tmp_path):
    path = tmp_path / "call.wav"
    sf.write(str(path), _samples(16000), 16000, subtype="PCM_16")
    floats, _ = sf.read(str(path), dtype="float32", always_2d=True)
    agent, customer = _frames(config, path)
    n = floats.shape[0]
    assert np.array_equal(agent.reshape(-1)[:n], floats[:, 0])
    assert np.array_equal(customer.reshape(-1)[:n], floats[:, 1])
    assert not agent.reshape(-1)[n:].any() and not customer.reshape(-1)[n:].any()  # the last frame's padding


def test_a_resampled_16_bit_recording_gives_the_frames_of_the_same_samples_as_floats(config, tmp_path):
    samples = _samples(8000)
    as_ints, as_floats = tmp_path / "ints.wav", tmp_path / "floats.wav"
    sf.write(str(as_ints), samples, 8000, subtype="PCM_16")
    sf.write(str(as_floats), samples.astype(np.float32) / 32768.0, 8000, subtype="FLOAT")
    for ours, plain in zip(_frames(config, as_ints), _frames(config, as_floats)):
        assert ours.shape == plain.shape and np.array_equal(ours, plain)


def test_webrtcvad_through_its_c_module_answers_as_its_wrapper():
    call = np.concatenate([signals.noise(1.0, -60, seed=3), signals.voice(140.0, 1.5, -20), signals.noise(0.5, -45, seed=4),
                           signals.voice(220.0, 1.0, -35) + signals.noise(1.0, -50, seed=5), signals.tone(300.0, 1.0, -30)])
    frames = [f.tobytes() for f in to_pcm16(signals.frames(call))]
    for mode in range(4):
        ours, theirs = _Vad(mode), webrtcvad.Vad(mode)
        got = [ours.is_speech(f, 16000) for f in frames]
        assert got == [bool(theirs.is_speech(f, 16000)) for f in frames]
        assert any(got) and not all(got)
