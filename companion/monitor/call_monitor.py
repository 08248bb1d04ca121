"""Everything the monitor measures, stage by stage, for one call.

`CallMonitor.process(block)` takes aligned frames of both parties and returns the
events they produce (turns, interruptions, dead air) plus a metrics snapshot at
every evaluation tick. It holds no thread and no queue: `worker.py` runs it.
"""

from __future__ import annotations

import dataclasses
from bisect import bisect_left
from typing import Mapping, Optional

import numpy as np

from companion.config import CoachingConfig
from companion.events import PARTIES, Event, FinalSegment, FrameBlock, MetricsSnapshot, PaceSource, Party, Turn
from companion.monitor.calibration import CalibrationLearner
from companion.monitor.customer import CustomerMood
from companion.monitor.interruptions import InterruptionTracker
from companion.monitor.ledger import SpeechLedger
from companion.monitor.pace import (
    BASE_KIND,
    NucleusFrames,
    SyllableNuclei,
    call_wpm,
    countable_word,
    matched_units,
    rolling_wpm,
)
from companion.monitor.pitch import PitchTracker, f0_together
from companion.monitor.talk import MonologueTracker, SilenceTracker
from companion.monitor.tone import ToneTracker
from companion.vad.echo import EchoPath
from companion.vad.voice_activity import TurnChange, VoiceActivity, frame_levels_db, to_pcm16


class CallMonitor:
    def __init__(self, config: CoachingConfig, calibration: Optional[Mapping[str, float]] = None):
        self.config = config
        audio = config.audio
        self.frame_s = audio.frame_s
        self.vad = {p: VoiceActivity(config.vad, audio) for p in PARTIES}
        self.ledger = {p: SpeechLedger() for p in PARTIES}
        self.echo = EchoPath(config.vad, audio)  # the agent's voice back on the customer's line is not the customer
        self.pitch = PitchTracker(config.pitch, audio)
        self.nuclei = SyllableNuclei(config.pace, audio, agent=True)
        self.pitch.keep_spectra = True  # the agent's nuclei: where their voice is periodic or harmonic (pace.py)
        self.nucleus_frames = NucleusFrames(config.pace, audio.sample_rate, self.pitch.nfft)
        self.customer_pitch = PitchTracker(config.pitch, audio)
        self.customer_pitch.keep_spectra = True  # the customer's mood reads their voice's spectrum from its spectra
        self.customer_nuclei = SyllableNuclei(config.pace, audio)
        self.mood = CustomerMood(config.customer, audio, config.pace)
        self.calibration = dict(calibration) if calibration else None  # this agent's nuclei per word, per detector
        self.learner = CalibrationLearner(config.pace.calibration_min_words)
        self.tone = ToneTracker(config.tone, audio)
        self.interruptions = InterruptionTracker(config.interruptions)
        self.monologue = MonologueTracker(config.talk)
        self.silence = SilenceTracker(config.talk)
        self._turn_start: dict[Party, Optional[float]] = {p: None for p in PARTIES}
        self._levels = {p: -100.0 for p in PARTIES}
        self._frame_ms = audio.frame_ms
        self._tick_ms = max(audio.frame_ms, round(config.coach.evaluate_every_s * 1000))
        self._ticks = 0
        self._frames_done = 0
        self.dropped_blocks = 0
        self._fillers = frozenset(w.lower() for w in config.asr.fillers)
        self._agent_words = 0
        self._last_word_end = 0.0
        self._first_word_t: Optional[float] = None
        # the coach's detection pace: the same reading as the meter's, over a short window of speech
        short_s = config.coach.slow_down.window_speech_s
        self._short_pace = dataclasses.replace(config.pace, window_speech_s=short_s, min_speech_s=short_s)
        self._baselines: dict[PaceSource, float] = {}  # per pace source: the agent's pace over their first speech
        self._pace_key: Optional[tuple[object, ...]] = None  # what the last rolling paces were read from
        self._pace_read: tuple[Optional[float], float, Optional[float]] = (None, 0.0, None)
        self._apology_words = frozenset(w.lower() for w in config.coach.stop_apologizing.words)
        self.apologies = 0

    def add_segment(self, segment: FinalSegment) -> None:
        """Recognised words: the agent's feed the pace (fillers and unknowns do not count)."""
        if segment.party != "agent":
            return
        self.apologies += sum(1 for word in segment.words if word.word.lower().strip(".,!?") in self._apology_words)
        self.learner.segment(segment.start, segment.end, sum(countable_word(w.word, self._fillers) for w in segment.words))
        for word in segment.words:
            if countable_word(word.word, self._fillers):
                mid = (word.start + word.end) / 2.0
                self.ledger["agent"].add_units(mid, 1.0, "words")
                self._agent_words += 1
                self._first_word_t = mid if self._first_word_t is None else min(self._first_word_t, mid)
            self._last_word_end = max(self._last_word_end, word.end)

    def _reading(self, now: float) -> tuple[PaceSource, float, float, str]:
        """Where the pace comes from now: (source, time read at, units per word, ledger kind).
        Words while the recogniser keeps up with the agent, else acoustic."""
        agent, pace = self.ledger["agent"], self.config.pace
        if self._agent_words:
            silent_model = agent.speech_between(self._last_word_end + 1.0, now)
            if silent_model < pace.fallback_after_s:
                return PaceSource.ASR, self._last_word_end, 1.0, "words"
        return PaceSource.ACOUSTIC, now, pace.syllables_per_word, "syllables"

    def _pace(self, now: float) -> tuple[Optional[float], float, PaceSource, Optional[float], Optional[float]]:
        """(rolling pace, speech it covers, source, short detection pace, this source's baseline)."""
        source, at, per_word, kind = self._reading(now)
        agent, calibration = self.ledger["agent"], self.calibration
        # a rolling pace reads the ledger through `recent_by_speech` alone, which reads the time only as its whole
        # second: while the agent's ledger holds the same (no speech, no nuclei) it reads the same as the last tick
        key = (agent.changes, int(at), per_word, kind, None if calibration is None else tuple(calibration.items()))
        if key != self._pace_key:
            wpm, covered = rolling_wpm(agent, at, self.config.pace, per_word, kind, calibration)
            short, _ = rolling_wpm(agent, at, self._short_pace, per_word, kind, calibration)
            self._pace_key, self._pace_read = key, (wpm, covered, short)
        wpm, covered, short = self._pace_read
        return wpm, covered, source, short, self._baseline(source, at, per_word, kind)

    def _baseline(self, source: PaceSource, at: float, per_word: float, kind: str) -> Optional[float]:
        """The agent's pace over their first `baseline_speech_s` of speech, from the same source as the
        pace it is compared with (acoustic from the call's start, words from the first recognised word)."""
        if source in self._baselines:
            return self._baselines[source]
        start = self._first_word_t if source == "asr" else 0.0
        if start is None:
            return None
        speech, units, last = self.ledger["agent"].first_by_speech(start, self.config.coach.speeding_up.baseline_speech_s, kind)
        # complete once its last second is behind the second being read (and a turn's hangover taken back)
        if last < 0 or last >= int(at) - 1:
            return None
        if kind == BASE_KIND:  # acoustic: read as the current pace is, under the smoothing matched to its rate
            seconds = self.config.coach.speeding_up.baseline_speech_s
            units, per_word = matched_units(lambda k: self.ledger["agent"].first_by_speech(start, seconds, k)[1],
                                            speech, self.config.pace, per_word, self.calibration)
        self._baselines[source] = units / per_word / speech * 60.0
        return self._baselines[source]

    @property
    def pace_source(self) -> PaceSource:
        """For the whole call: words when the recogniser gave any for the agent."""
        return PaceSource.ASR if self._agent_words else PaceSource.ACOUSTIC

    @property
    def now(self) -> float:
        return self._frames_done * self.frame_s

    def process(self, block: FrameBlock) -> list[Event]:
        events: list[Event] = []
        fs = self.frame_s
        first = block.first_frame
        # both parties' frames in one array: each step works row by row, so each party's result is its own
        both = np.stack((block.agent, block.customer))
        both = both - both.mean(axis=2, keepdims=True)
        count, width = block.frames, both.shape[2]
        all_levels = frame_levels_db(both.reshape(2 * count, width)).reshape(2, count)
        all_pcm = to_pcm16(both)
        per_party = {}
        not_own = None
        for k, party in enumerate(PARTIES):  # the agent first: their voice may come back on the customer's line
            voiced, in_turn, changes = self.vad[party].process(first, all_pcm[k], all_levels[k], not_own)
            per_party[party] = (both[k], all_levels[k], voiced, in_turn, changes)
            if party == "agent":
                echo = self.echo.process(all_levels[k], voiced, all_levels[1 - k])
                not_own = None if echo is None else echo + self.echo.margin_db

        agent_frames, agent_levels, agent_voiced, agent_in_turn, _ = per_party["agent"]
        customer_frames, customer_levels, customer_voiced, customer_in_turn, _ = per_party["customer"]
        agent_speech = agent_voiced | agent_in_turn  # a weak vowel in a turn may be unvoiced to the voice activity
        f0, customer_f0 = f0_together([(self.pitch, agent_frames, agent_speech),
                                       (self.customer_pitch, customer_frames, customer_voiced)])
        eligible = self.nucleus_frames.eligible(agent_in_turn, f0, agent_speech, self.pitch.spectra)
        # someone else's words in the agent's pauses (other people farther off in the room) are no syllables of theirs
        near = self.vad["agent"].own_voice.near(agent_levels)
        if near is not None:
            eligible = eligible & near
        for t, kind in self.nuclei.process(agent_frames, eligible):
            self.ledger["agent"].add_units(t, 1.0, kind)
            self.learner.nucleus(t, kind)
        self.tone.add(agent_levels, f0, agent_voiced)
        for t, kind in self.customer_nuclei.process(customer_frames, customer_voiced & (customer_f0 > 0)):
            self.mood.nucleus(t, kind)
        self.mood.add(customer_levels, customer_f0, customer_voiced, first * fs, customer_in_turn,
                      self.customer_pitch.spectra)

        # frame by frame, in call order: turn changes as decided, speaking time, the floor, the evaluation ticks.
        # A party's speaking time goes into their ledger a run of frames at a time, in frame order: the frames in
        # a turn up to a change of theirs (which adds or takes back frames itself) or to a tick (which reads it)
        lanes = [(k, party, self.ledger[party], per_party[party][2].tolist(), list(per_party[party][4]),
                  (np.flatnonzero(per_party[party][3]) + first).tolist())
                 for k, party in enumerate(PARTIES)]
        added = [0] * len(lanes)  # per lane: how many of its frames in a turn are in the ledger

        def speech_until(k: int, ledger: SpeechLedger, turn_frames: list[int], stop: int) -> None:
            """Adds the lane's frames in a turn before frame `stop`."""
            at = bisect_left(turn_frames, stop, added[k])
            if at > added[k]:
                ledger.add_speech_frames(turn_frames[added[k]:at], fs, fs)
                added[k] = at

        interruptions, monologue, turn_starts = self.interruptions, self.monologue, self._turn_start
        frame_ms, tick_ms = self._frame_ms, self._tick_ms
        # the first frame whose end passes the next tick: (frame + 1) * frame_ms // tick_ms > self._ticks
        next_tick = -(-(self._ticks + 1) * tick_ms // frame_ms) - 1
        for i in range(block.frames):
            frame = first + i
            t_end = (frame + 1) * fs
            for k, party, ledger, voiced, changes, turn_frames in lanes:
                while changes and changes[0].decided_frame <= frame:
                    speech_until(k, ledger, turn_frames, frame)
                    events.extend(self._apply_change(party, changes.pop(0), frame))
                if voiced[i]:
                    turn_start = turn_starts[party]
                    if turn_start is not None:
                        interruptions.voiced(party, t_end)
                        if party == "agent":
                            monologue.agent_voiced(turn_start, t_end)
                        else:
                            monologue.customer_spoke(turn_start, t_end)
            self._frames_done = frame + 1
            if interruptions.over is not None:  # else nothing to expire
                expired = interruptions.expire(t_end)
                if expired is not None:
                    events.append(expired)
            talked_over_since = interruptions.confirmed_since  # set together with confirmed_by
            if talked_over_since is not None and interruptions.confirmed_by == "customer":
                self.mood.talked_over(talked_over_since)
            if frame >= next_tick:
                self._ticks = (frame + 1) * frame_ms // tick_ms
                next_tick = -(-(self._ticks + 1) * tick_ms // frame_ms) - 1
                for k, party, ledger, _, _, turn_frames in lanes:
                    speech_until(k, ledger, turn_frames, frame + 1)
                    self._levels[party] = float(per_party[party][1][i])
                mood = self.mood.evaluate(t_end)
                if mood is not None:
                    events.append(mood)
                events.append(self.snapshot())
        for k, _, ledger, _, _, turn_frames in lanes:
            speech_until(k, ledger, turn_frames, first + block.frames)
        for party in PARTIES:
            self._levels[party] = float(per_party[party][1][-1]) if block.frames else -100.0
        return events

    def _apply_change(self, party: Party, change: TurnChange, frame: int) -> list[Event]:
        fs = self.frame_s
        ledger = self.ledger[party]
        if change.end_frame is None:
            start = change.start_frame * fs
            self._turn_start[party] = start
            # onset frames before the turn was recognised are speaking time too
            ledger.add_speech_frames(range(change.start_frame, frame), fs, fs)
            gap = self.silence.speech_started(start)
            # who was speaking first: from their soft first sound (a murmur under the gate), if there was one;
            # their speaking time and turn still count from their first clear speech
            heard = change.soft_start_frame * fs if change.soft_start_frame is not None else start
            ended = self.interruptions.turn_opened(party, heard)
            return [e for e in (gap, ended) if e is not None]
        # the hangover after the last voiced frame was not speaking time after all
        ledger.add_speech_frames(range(change.end_frame, frame), fs, -fs)
        start, end = change.start_frame * fs, change.end_frame * fs
        self._turn_start[party] = None
        self.silence.speech_ended(end)
        out: list[Event] = [Turn(party=party, start=round(start, 3), end=round(end, 3))]
        # who was speaking last: to their last clear word. Not to a soft last sound: the fading end of a word reaches
        # into the 0.3-0.5 s before a normal reply, which then read as a cut-in (the live call's customer, 1 run in 3).
        # Their own pause is read from it (to their next first sound, soft or clear: companion/monitor/interruptions.py)
        soft_end = change.soft_end_frame * fs if change.soft_end_frame is not None else None
        interruption = self.interruptions.turn_closed(party, end, soft_end)
        if interruption is not None:
            out.append(interruption)
        return out

    def finish(self) -> list[Event]:
        """Close what is still open at the end of the call; returns the last events."""
        events: list[Event] = []
        frame = self._frames_done
        for party in PARTIES:
            change = self.vad[party].finish(frame)
            if change is not None:
                events.extend(self._apply_change(party, change, frame))
        expired = self.interruptions.expire(float("inf"))
        if expired is not None:
            events.append(expired)
        events.append(self.snapshot())
        return events

    def snapshot(self) -> MetricsSnapshot:
        now = self.now
        cfg = self.config
        agent, customer = self.ledger["agent"], self.ledger["customer"]
        wpm, covered, source, short, baseline = self._pace(now)
        loud, loud_base = self.tone.loudness()
        pitch, pitch_base = self.tone.pitch()
        lo = now - cfg.talk.window_s
        a_win, c_win = agent.speech_between(lo, now), customer.speech_between(lo, now)
        total = agent.total_speech_s + customer.total_speech_s
        since, overlap = self.interruptions.ongoing(now)
        mood = self.mood.reading
        return MetricsSnapshot(
            t=round(now, 3),
            agent_speaking=self.vad["agent"].speaking,
            customer_speaking=self.vad["customer"].speaking,
            agent_level_db=self._levels["agent"],
            customer_level_db=self._levels["customer"],
            pace_wpm=None if wpm is None else round(wpm, 1),
            pace_source=source,
            pace_calibrated=source == "acoustic" and self.calibration is not None,
            pace_speech_s=round(covered, 2),
            pace_short_wpm=None if short is None else round(short, 1),
            pace_baseline_wpm=None if baseline is None else round(baseline, 1),
            loudness_db=loud,
            loudness_baseline_db=loud_base,
            pitch_hz=pitch,
            pitch_baseline_hz=pitch_base,
            agent_talk_s=round(agent.total_speech_s, 2),
            customer_talk_s=round(customer.total_speech_s, 2),
            talk_share_window=(a_win / (a_win + c_win)) if a_win + c_win > 0 else None,
            window_talk_s=a_win + c_win,
            talk_share_call=(agent.total_speech_s / total) if total > 0 else None,
            current_monologue_s=round(self.monologue.current(now), 2),
            longest_monologue_s=round(self.monologue.longest_s, 2),
            silence_s=round(self.silence.silence_s(now), 2),
            interruptions_by_agent=self.interruptions.counts["agent"],
            interruptions_by_customer=self.interruptions.counts["customer"],
            agent_interrupting_since=since,
            agent_interrupting_s=round(overlap, 2),
            dropped_blocks=self.dropped_blocks,
            apologies=self.apologies,
            customer_state=self.mood.state,
            customer_calm_s=self.mood.calm_s(now),
            customer_loudness_db=mood.loudness_db,
            customer_pitch_semitones=mood.pitch_semitones,
            customer_pace_rise=mood.pace_rise,
            customer_talkovers=mood.talkovers,
        )

    def whole_call_wpm(self) -> Optional[float]:
        if self._agent_words:
            return call_wpm(self.ledger["agent"], self.config.pace, 1.0, "words")
        return call_wpm(self.ledger["agent"], self.config.pace, self.config.pace.syllables_per_word,
                        calibration=self.calibration)
