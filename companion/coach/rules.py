"""Coaching rules: `slow_down`, `speeding_up`, `lower_tone`, `keep_listening`, `stop_apologizing`, `dead_air`,
and the customer's `customer_upset` and `customer_calmer`.

Sparing by design: each rule has hysteresis (it fires on entering a state and
re-arms only after clearly leaving it), each kind a cooldown, and any two
prompts a minimum gap, so the agent sees a cue about every 20 s at most. An agent who stays in a
state is reminded less and less often: each reminder of one episode waits `repeat_backoff` times
longer than the one before.

Pace is an estimate: `slow_down` waits until the short detection pace has stayed
over its line (the limit plus a margin for the estimate's error, larger for the
acoustic estimate than for recognised words) through enough agent speech, and
`speeding_up` compares the agent with themselves, from the same source.

While the customer is upset, what the agent needs first is to let them vent in a low voice:
`keep_listening` and `lower_tone` come before the pace cues, which wait while either is due. A raised voice
is never held back by a pace cue: the gap after `slow_down` or `speeding_up` does not delay `lower_tone`. A talk-over
is told while it lasts: its `keep_listening` waits out the gap only after a cue that already told the agent to let the
customer speak (`keep_listening`, `customer_upset`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from companion.config import CoachConfig
from companion.events import MetricsSnapshot, Prompt
from companion.prompt_kinds import KINDS

PACE_KINDS = frozenset({"slow_down", "speeding_up"})
LISTEN_KINDS = frozenset({"keep_listening", "customer_upset"})  # cues that already say: let the customer speak


@dataclass
class _RuleState:
    armed: bool = True
    last_fired: Optional[float] = None
    hold_s: float = 0.0
    marker: Optional[float] = None  # the episode already prompted (interruption onset, monologue start)
    below_s: float = 0.0            # agent speech since the reading went under the rule's release line
    reminders: int = 0              # reminders given in this episode (each waits `repeat_backoff` times longer)




def _sustained(state: _RuleState, over: bool, released: bool, speaking: bool, dt: float, window_s: float,
               sustain_s: float) -> bool:
    """Over the line through `sustain_s` of agent speech: the speech the pace is read over, then agent
    speaking time while it stays over the line (kept through dips above the release, reset below it)."""
    if released:
        state.hold_s = 0.0
    elif over and speaking:
        state.hold_s += dt
    return over and window_s + state.hold_s >= sustain_s


class Coach:
    def __init__(self, config: CoachConfig):
        self.config = config
        self._state = {kind: _RuleState() for kind in KINDS}
        self._state["customer_calmer"].armed = False  # armed by an upset customer
        self._last_prompt: Optional[float] = None
        self._last_kind: Optional[str] = None
        self._last_t: Optional[float] = None
        self._pace_source: Optional[str] = None
        self._interruption_prompted: Optional[float] = None  # keep_listening's last prompt for a talk-over

    def _may_fire(self, kind: str, t: float) -> bool:
        state = self._state[kind]
        if state.last_fired is not None and t - state.last_fired < self.config.cooldown_s:
            return False
        return self._gap_ok(t, kind)

    def _gap_ok(self, t: float, kind: Optional[str] = None) -> bool:
        """Any two prompts at least `min_gap_s` apart, except a raised voice's `lower_tone` after a pace cue (a loud
        voice matters more than a fast one, and it is told within seconds or it is too late), and a talk-over's
        `keep_listening` ("talk_over") after any cue but one that already said to let the customer speak (a talk-over
        is told while it lasts or never)."""
        if kind == "lower_tone" and self._last_kind in PACE_KINDS:
            return True
        if kind == "talk_over" and self._last_kind not in LISTEN_KINDS:
            return True
        return self._last_prompt is None or t - self._last_prompt >= self.config.min_gap_s

    def _fire(self, kind: str, t: float, reason: str, disarm: bool = True) -> Prompt:
        state = self._state[kind]
        state.reminders = 0 if state.armed else state.reminders + 1
        state.last_fired = t
        if disarm:
            state.armed = False
        self._last_prompt = t
        self._last_kind = kind
        return Prompt(t=round(t, 2), kind=kind, reason=reason)

    def _due(self, kind: str, t: float, repeat_s: float) -> bool:
        """Armed, or still in the state long enough to deserve a reminder: `repeat_s` after the episode's first
        prompt, then each reminder `repeat_backoff` times later than the one before (60, 120, 240 s...)."""
        state = self._state[kind]
        if state.armed:
            return True
        wait = repeat_s * self.config.repeat_backoff ** state.reminders
        return state.last_fired is not None and t - state.last_fired >= wait

    def evaluate(self, s: MetricsSnapshot) -> list[Prompt]:
        dt = 0.0 if self._last_t is None else max(0.0, s.t - self._last_t)
        self._last_t = s.t
        if s.pace_source != self._pace_source:  # paces from different sources are not compared
            self._pace_source = s.pace_source
            for kind in ("slow_down", "speeding_up"):
                self._state[kind].hold_s = 0.0
        if s.customer_state == "upset":
            order = (self._keep_listening, self._customer_upset, self._lower_tone, self._slow_down, self._speeding_up,
                     self._stop_apologizing, self._dead_air, self._customer_calmer)
        else:
            order = (self._keep_listening, self._slow_down, self._speeding_up, self._lower_tone, self._stop_apologizing,
                     self._dead_air, self._customer_upset, self._customer_calmer)
        prompts = []
        for rule in order:
            prompt = rule(s, dt)
            if prompt is not None:
                prompts.append(prompt)
        return prompts

    @staticmethod
    def _pace_text(s: MetricsSnapshot, wpm: float) -> str:
        """A pace as honest as its source: the acoustic one is an estimate."""
        return f"{'about ' if s.pace_source == 'acoustic' else ''}{wpm:.0f} words/min"

    def _slow_down(self, s: MetricsSnapshot, dt: float) -> Optional[Prompt]:
        """The short pace over `wpm_above` by the source's margin through `sustain_speech_s` of agent speech (the
        window that first read over the line, then speaking time while it stays over)."""
        rule, state = self.config.slow_down, self._state["slow_down"]
        pace = s.pace_short_wpm
        if not rule.enabled or pace is None or s.agent_interrupting_since is not None:
            return None  # talking over the customer: the cue that matters then is keep listening
        if self._upset_cue_due(s):
            return None
        margin = 1.0 + (rule.acoustic_margin if s.pace_source == "acoustic" else rule.asr_margin)
        over, released = pace > rule.wpm_above * margin, pace < rule.release_wpm * margin
        state.below_s = state.below_s + (dt if s.agent_speaking else 0.0) if released else 0.0
        if released and state.below_s >= rule.rearm_speech_s:
            state.armed = True
        fast = _sustained(state, over, released, s.agent_speaking, dt, rule.window_speech_s, rule.sustain_speech_s)
        fast = fast and s.pace_speech_s >= rule.min_speech_s
        if fast and s.agent_speaking and self._due("slow_down", s.t, rule.repeat_s) and self._may_fire("slow_down", s.t):
            low, high = rule.target_wpm
            # the detection pace is read over a shorter stretch than the meter's: say which, so the two can differ
            return self._fire("slow_down", s.t, f"{self._pace_text(s, pace)} in your last {rule.window_speech_s:.0f} s "
                                                f"— aim for {low:.0f}–{high:.0f}")
        return None

    def _speeding_up(self, s: MetricsSnapshot, dt: float) -> Optional[Prompt]:
        """The pace `rise` above the agent's own baseline through `sustain_speech_s` of agent speech (its window's
        speech, then speaking time while it stays over).
        Quiet while a `slow_down`'s episode lasts and a cooldown after: the same episode gets one pace cue."""
        rule, state = self.config.speeding_up, self._state["speeding_up"]
        pace, base = s.pace_wpm, s.pace_baseline_wpm  # the meter's steadier 30 s pace: a trend, not a moment
        if not rule.enabled or pace is None or not base or s.agent_interrupting_since is not None:
            return None
        if self._upset_cue_due(s):
            return None
        rise = pace / base - 1.0
        over, released = rise >= rule.rise, rise < rule.release
        if released:
            state.armed = True
        if not _sustained(state, over, released, s.agent_speaking, dt, s.pace_speech_s, rule.sustain_speech_s):
            return None
        # one pace cue per episode: a slow_down holds it off while its episode lasts (not re-armed: the agent has
        # not come back under its release) and a cooldown after
        slow = self._state["slow_down"]
        told = slow.last_fired
        if not s.agent_speaking or (told is not None and (not slow.armed or s.t - told < self.config.cooldown_s)):
            return None
        if self._due("speeding_up", s.t, rule.repeat_s) and self._may_fire("speeding_up", s.t):
            return self._fire("speeding_up", s.t, f"{self._pace_text(s, pace)}, {rise:.0%} faster than your "
                              f"{base:.0f} at the start of the call — ease back")
        return None

    def _voice_raised(self, s: MetricsSnapshot) -> tuple[bool, bool]:
        """(louder, higher): the agent's voice over lower_tone's lines. A raised voice is louder and higher at once;
        one cue alone is a real person's calm variation (a loud sentence, an animated one, a pitch misread by an
        octave), so each line asks for the other cue over its release line, or — loudness — a clearer step alone."""
        rule = self.config.lower_tone
        loud, pitch = s.loudness_delta_db, s.pitch_delta_semitones
        some_pitch = pitch is not None and pitch >= rule.release_semitones
        louder = loud is not None and loud >= rule.loudness_above_db and (some_pitch or loud >= rule.loudness_alone_db)
        higher = pitch is not None and pitch >= rule.pitch_above_semitones and loud is not None and loud >= rule.release_db
        return louder, higher

    def _upset_cue_due(self, s: MetricsSnapshot) -> bool:
        """The customer is upset and the agent's voice is raised: lower_tone goes first (a pace cue waits)."""
        return s.customer_state == "upset" and self.config.lower_tone.enabled and any(self._voice_raised(s))

    def _lower_tone(self, s: MetricsSnapshot, dt: float) -> Optional[Prompt]:
        rule, state = self.config.lower_tone, self._state["lower_tone"]
        if not rule.enabled:
            return None
        loud = s.loudness_delta_db
        pitch = s.pitch_delta_semitones
        louder, higher = self._voice_raised(s)
        calm = loud is None or loud < rule.release_db  # back at their usual level: neither line can be met
        if calm:
            state.armed = True
            state.hold_s = 0.0
        if not (louder or higher):
            return None
        if s.agent_speaking:
            state.hold_s += dt
        if state.hold_s >= rule.hold_s and self._due("lower_tone", s.t, rule.repeat_s) and self._may_fire("lower_tone", s.t):
            if louder:
                reason = f"Your voice is {loud:.0f} dB above your usual level — speak softly and slowly"
            else:
                reason = f"Your pitch is {pitch:.0f} semitones above your usual — keep it low and calm"
            return self._fire("lower_tone", s.t, reason)
        return None

    def _keep_listening(self, s: MetricsSnapshot, dt: float) -> Optional[Prompt]:
        rule, state = self.config.keep_listening, self._state["keep_listening"]
        if not rule.enabled:
            return None
        share = s.talk_share_window
        if share is not None and share < rule.talk_share_release:
            state.armed = True
        if s.current_monologue_s == 0.0:
            state.hold_s = 0.0
        interrupting = (
            rule.on_interruption
            and s.agent_interrupting_since is not None
            and state.marker != s.agent_interrupting_since
        )
        dominating = (
            state.armed
            and share is not None
            and share > rule.talk_share_above
            and s.window_talk_s >= rule.talk_share_min_speech_s
        )
        monologue = s.current_monologue_s >= rule.monologue_s and state.hold_s == 0.0
        if not (interrupting or dominating or monologue):
            return None
        if interrupting:
            # prompted while the talk-over goes on or not at all (a late cue would be noise). It is a cue of its
            # own: a talk-share or monologue reminder just before does not hold it off, an interruption prompted
            # within the cooldown does; the gap after a cue that already said to let the customer speak (a talk-share
            # or monologue reminder, customer_upset) delays it while the talk-over lasts, the gap after any other cue
            # not at all (an agent told to slow down, or that the customer is calmer, who then cuts in hears of it at once)
            last = self._interruption_prompted
            if last is not None and s.t - last < self.config.cooldown_s:
                state.marker = s.agent_interrupting_since
                return None
            if not self._gap_ok(s.t, "talk_over"):
                return None
            state.marker = s.agent_interrupting_since
            self._interruption_prompted = s.t
            reason = f"You talked over the customer for {s.agent_interrupting_s:.1f} s — let them finish"
        elif not self._may_fire("keep_listening", s.t):
            return None
        elif dominating:
            state.armed = False
            reason = f"You have {share:.0%} of the talk in the last 2 min — ask, then listen"
        else:
            reason = f"You have talked for {s.current_monologue_s:.0f} s without a break — check in with the customer"
        if monologue:
            state.hold_s = s.current_monologue_s
        return self._fire("keep_listening", s.t, reason, disarm=False)

    def _stop_apologizing(self, s: MetricsSnapshot, dt: float) -> Optional[Prompt]:
        """More than `max_apologies` in the call; again after each further `max_apologies`."""
        rule, state = self.config.stop_apologizing, self._state["stop_apologizing"]
        if not rule.enabled or s.apologies <= rule.max_apologies:
            return None
        prompted_at = state.hold_s  # the apology count at the last prompt
        if (prompted_at and s.apologies < prompted_at + rule.max_apologies) or not self._may_fire("stop_apologizing", s.t):
            return None
        state.hold_s = float(s.apologies)
        return self._fire("stop_apologizing", s.t, f"{s.apologies} apologies so far — stop apologising, move to the facts")

    def _dead_air(self, s: MetricsSnapshot, dt: float) -> Optional[Prompt]:
        rule, state = self.config.dead_air, self._state["dead_air"]
        if not rule.enabled:
            return None
        if s.silence_s < rule.silence_s:
            state.armed = True
            return None
        if state.armed and self._may_fire("dead_air", s.t):
            return self._fire("dead_air", s.t, f"{s.silence_s:.0f} s of silence — tell the customer what you are doing")
        return None

    def _customer_upset(self, s: MetricsSnapshot, dt: float) -> Optional[Prompt]:
        """On the customer's state reaching upset; re-armed once they are calm again, reminded after `repeat_s`."""
        rule, state = self.config.customer_upset, self._state["customer_upset"]
        if s.customer_state == "calm":
            state.armed = True
        if not rule.enabled or s.customer_state != "upset":
            return None
        if not (self._due("customer_upset", s.t, rule.repeat_s) and self._may_fire("customer_upset", s.t)):
            return None
        cues = []
        if s.customer_loudness_db is not None and s.customer_loudness_db >= 1.0:
            cues.append(f"{s.customer_loudness_db:.0f} dB louder")
        if s.customer_pitch_semitones is not None and s.customer_pitch_semitones >= 1.0:
            cues.append(f"{s.customer_pitch_semitones:.0f} semitones higher")
        # their syllable rate is no evidence (it moves either way on real voices that speed up): not said
        said = f"their voice is {', '.join(cues)} than at the start" if cues else "they keep talking over you"
        return self._fire("customer_upset", s.t, f"Customer is upset ({said}) — let them finish, keep your voice low")

    def _customer_calmer(self, s: MetricsSnapshot, dt: float) -> Optional[Prompt]:
        """Near their baseline for `after_s`, after an upset episode."""
        rule, state = self.config.customer_calmer, self._state["customer_calmer"]
        if s.customer_state == "upset":
            state.armed = True  # seen upset, even if the upset cue itself was off or held back
        if not rule.enabled or s.customer_state != "calm" or s.customer_calm_s < rule.after_s:
            return None
        if not state.armed or not self._may_fire("customer_calmer", s.t):
            return None
        return self._fire("customer_calmer", s.t, f"Back near their usual voice for {s.customer_calm_s:.0f} s — "
                          "now approach the issue")
