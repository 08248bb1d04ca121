"""Other renders of a pace-corpus line (tests/pace_calls.py `renders`) are the same speech with other noise: the
truth is the corpus clip's, the audio differs from it and from each other, and a render is made once."""

from __future__ import annotations

import numpy as np

from tests.pace_calls import renders
from tests.pace_corpus import VOICES, Job, make

ESPEAK = VOICES[0]


def test_another_render_of_a_line_is_the_same_speech_with_other_noise(pace_cache):
    job = Job(ESPEAK, "refund", 140, (("phone", True),))
    corpus = make(pace_cache, [job])[0]
    first, second = renders(pace_cache, job, (1, 2))
    assert (first.words, first.speaking_s, first.true_wpm) == (corpus.words, corpus.speaking_s, corpus.true_wpm)
    audio = [clip.load()[0] for clip in (corpus, first, second)]
    assert len({a.size for a in audio}) == 1
    assert not np.array_equal(audio[0], audio[1]) and not np.array_equal(audio[1], audio[2])
    # the speech is the same: the renders stay close to the corpus's own (20 dB of office noise apart)
    assert np.corrcoef(audio[0], audio[1])[0, 1] > 0.9
    made = first.path.stat().st_mtime_ns
    again = renders(pace_cache, job, (1,))[0]
    assert again.path == first.path and again.path.stat().st_mtime_ns == made
