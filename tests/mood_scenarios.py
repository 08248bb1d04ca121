"""Scripted calls with known truth for the customer-mood detector (calm / tense / upset).

The detector judges the customer from their own voice against their own baseline:
loudness (dB above it), pitch (semitones above it) and speaking pace. Each script
says what it should find. Every script takes `customer_voice` and `agent_voice`
(espeak-ng voices, or `"festival:kal_diphone"`, `"festival:ked_diphone"`,
`"festival:cmu_us_slt_arctic_hts"`), so one call can be heard in several voices; the
voices are part of the script's name.

Key moments sit at absolute times (`at=`) held in the module's constants, with the
lines before them ending a few seconds earlier in every voice, so the times are
the same whatever voice renders the script. The rest is placed by `gap=` after the
previous utterance; the rendered truth (`Truth.utterances`, by tag) gives every
utterance's start and end.

Tags: customer "calm" (their calm baseline speech), "upset" (raised: louder, higher,
faster), "calm_again" (back to their baseline), "loud" (loud throughout, steady),
"line_jump" (the customer turn the line's gain steps inside); agent "raised",
"backchannel".
"""

from __future__ import annotations

import re

from tests.callgen import Say, Script
from tests.scenarios import AGENT_LINES, BACKCHANNELS, CUSTOMER_LINES

CALM_WPM = 160.0          # the customer's calm pace
AGENT_WPM = 145.0         # the agent's calm pace
UPSET_AT = 59.0           # grows_upset: the customer's first raised word
CALM_AGAIN_AT = 101.0     # grows_upset: the customer's first calm word after venting
LINE_JUMP_AT = 50.0       # line_jump: the customer line's gain step (inside the turn starting LINE_JUMP_TURN_AT)
LINE_JUMP_TURN_AT = 46.5
AGENT_RAISED_AT = 52.0    # agent_raises_voice: the agent's first raised word
UPSET_SOON_AT = 31.5      # upset_soon: the customer's first raised word

# A difficult customer's complaints about the same lost parcel as tests.scenarios.
COMPLAINTS = [
    "I have called you three times this week and nobody has ever called me back.",
    "Every single time I am told it will be sorted, and every time nothing happens.",
    "I paid extra for next day delivery and I have been waiting for two whole weeks.",
    "Do not tell me to check with the front desk again, I have done that already.",
    "I want to speak to someone who can actually fix this, not someone reading a script.",
    "Your courier was supposed to come on Monday and he never even turned up.",
    "I took a whole day off work to wait for that parcel and lost a day of pay.",
    "Nobody apologised, nobody explained, and I only found out when I rang you myself.",
    "I am not accepting another voucher, I want my money back on my card today.",
    "If this is not fixed today I am closing my account and shopping somewhere else.",
    "Frankly I am sick of being passed from one department to the next.",
    "I have been on hold for forty minutes just to get through to a person.",
    "You keep saying you understand, but you clearly do not understand at all.",
    "It was a birthday present and the birthday has already come and gone.",
    "I was promised a call back on Friday and I never heard a single word.",
    "Write down that I have complained, because I want this on the record.",
]

# The same customer, settled: plain replies.
CALM_REPLIES = [
    "I have the order confirmation email open in front of me right now.",
    "Okay, that sounds reasonable, thank you for explaining it properly.",
    "Yes, the email address on the account is still the right one.",
    "Alright, so I should hear from you by Friday at the latest, is that right?",
    "Thank you, I appreciate you taking the time to look into it for me.",
    "And if the first parcel turns up in the meantime, should I just send it back?",
    "Fine, I will keep an eye out for your email then, thanks again.",
    "No, that was everything, the parcel was the only thing I was calling about.",
]

# The agent, calm, while the customer vents.
AGENT_SHORT = [
    "I understand, and I am sorry.",
    "I hear you, that should not have happened.",
    "You are right to be annoyed, let me fix this now.",
    "Of course, I have written that on your account.",
    "That is fair, and I will make sure it is sorted today.",
]

_DIGIT = re.compile(r"\d")
for _text in COMPLAINTS + CALM_REPLIES + AGENT_SHORT + AGENT_LINES + CUSTOMER_LINES + BACKCHANNELS:
    if _DIGIT.search(_text):  # the word counts (and the festival voices) need numbers spelt out
        raise ValueError(f"digits in a scenario line: {_text!r}")


def _label(voice: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "-", voice.replace("+", "_"))


def _num(x: float) -> str:
    return f"{x:g}".replace(".", "p").replace("-", "m")


def _name(kind: str, customer_voice: str, agent_voice: str) -> str:
    return f"mood_{kind}_c-{_label(customer_voice)}_a-{_label(agent_voice)}"


def grows_upset(customer_voice: str = "en-us+f3", agent_voice: str = "en-us", loud_db: float = 8.0,
                semitones: float = 4.0, upset_wpm: float = 200) -> Script:
    """A calm customer gets upset, vents, then settles; about 150 s.

    Truth:
    * 0.5 to ~50 s, calm: customer turns (tag "calm", ~27 s of their speech, gain 0,
      0 semitones, `CALM_WPM`) alternate with a calm agent (`AGENT_WPM`). Their baseline.
    * `UPSET_AT` (59 s) to ~89 s, upset: three customer turns (tag "upset", ~26 s of speech)
      at +`loud_db` dB, +`semitones`, `upset_wpm`; between them two short calm agent lines,
      and one agent backchannel over the first turn. The agent stays calm throughout.
    * `CALM_AGAIN_AT` (100 s) to the end (~150 s), calm again: customer turns (tag
      "calm_again", ~27 s) back at gain 0, 0 semitones, `CALM_WPM`, agent lines between.
    The upset speech starts at the first "upset" utterance's start and ends at the last one's end.
    """
    c = dict(wpm=CALM_WPM)
    a = dict(wpm=AGENT_WPM)
    up = dict(wpm=upset_wpm, gain_db=loud_db, semitones=semitones, tag="upset")
    s: list[Say] = [Say("agent", AGENT_LINES[0], at=0.5, **a)]
    # calm: the customer's baseline
    s.append(Say("customer", CUSTOMER_LINES[0] + " " + CUSTOMER_LINES[1], gap=0.4, tag="calm", **c))
    s.append(Say("agent", BACKCHANNELS[0], after_start=3.5, wpm=140, tag="backchannel"))
    s.append(Say("agent", AGENT_LINES[1], gap=0.6, **a))
    s.append(Say("customer", CUSTOMER_LINES[2] + " " + CALM_REPLIES[0], gap=0.4, tag="calm", **c))
    s.append(Say("agent", AGENT_LINES[2], gap=0.5, **a))
    s.append(Say("customer", CUSTOMER_LINES[4], gap=0.4, tag="calm", **c))
    s.append(Say("agent", AGENT_LINES[3], gap=0.5, **a))
    # upset: raised, faster, long turns; the agent calm between
    s.append(Say("customer", COMPLAINTS[3] + " " + COMPLAINTS[0], at=UPSET_AT, **up))
    s.append(Say("agent", BACKCHANNELS[0], after_start=4.0, wpm=140, tag="backchannel"))
    s.append(Say("agent", AGENT_SHORT[0], gap=0.5, **a))
    s.append(Say("customer", " ".join([COMPLAINTS[6], COMPLAINTS[13]]), gap=0.3, **up))
    s.append(Say("agent", AGENT_SHORT[1], gap=0.5, **a))
    s.append(Say("customer", COMPLAINTS[8] + " " + COMPLAINTS[15], gap=0.3, **up))
    s.append(Say("agent", AGENT_SHORT[4], gap=0.6, **a))
    # calm again
    s.append(Say("customer", CALM_REPLIES[1], at=CALM_AGAIN_AT, tag="calm_again", **c))
    s.append(Say("agent", AGENT_LINES[7], gap=0.5, **a))
    s.append(Say("customer", CALM_REPLIES[2] + " " + CALM_REPLIES[3], gap=0.4, tag="calm_again", **c))
    s.append(Say("agent", AGENT_LINES[8], gap=0.5, **a))
    s.append(Say("customer", CALM_REPLIES[5], gap=0.4, tag="calm_again", **c))
    s.append(Say("agent", AGENT_LINES[9], gap=0.5, **a))
    s.append(Say("customer", CALM_REPLIES[6], gap=0.4, tag="calm_again", **c))
    s.append(Say("agent", "You are welcome, have a good evening.", gap=0.5, **a))
    kind = f"grows_upset_{_num(loud_db)}db_{_num(semitones)}st_{_num(upset_wpm)}wpm"
    return Script(_name(kind, customer_voice, agent_voice), s, agent_voice=agent_voice, customer_voice=customer_voice)


def upset_soon(customer_voice: str = "en-us+f3", agent_voice: str = "en-us", loud_db: float = 8.0,
               semitones: float = 4.0, upset_wpm: float = 200) -> Script:
    """`grows_upset` cut short, for a call played in real time (about 42 s).

    Truth: the customer starts calm (tag "calm", two turns, ~17 s of their speech, past the 8 s their
    baseline takes; gain 0, 0 semitones, `CALM_WPM`), a calm agent between; from `UPSET_SOON_AT` one
    upset turn (tag "upset", ~9 s: +`loud_db` dB, +`semitones`, `upset_wpm`, grows_upset's first
    complaints), then the agent's calm reply.
    """
    c = dict(wpm=CALM_WPM, tag="calm")
    a = dict(wpm=AGENT_WPM)
    up = dict(wpm=upset_wpm, gain_db=loud_db, semitones=semitones, tag="upset")
    s: list[Say] = [Say("customer", CUSTOMER_LINES[0] + " " + CUSTOMER_LINES[1], at=0.5, **c)]
    s.append(Say("agent", AGENT_LINES[1], gap=0.6, **a))
    s.append(Say("customer", CUSTOMER_LINES[4], gap=0.4, **c))
    s.append(Say("agent", AGENT_SHORT[4], gap=0.5, **a))
    s.append(Say("customer", COMPLAINTS[3] + " " + COMPLAINTS[0], at=UPSET_SOON_AT, **up))
    s.append(Say("agent", AGENT_SHORT[0], gap=0.5, **a))
    kind = f"upset_soon_{_num(loud_db)}db_{_num(semitones)}st_{_num(upset_wpm)}wpm"
    return Script(_name(kind, customer_voice, agent_voice), s, agent_voice=agent_voice, customer_voice=customer_voice)


def loud_from_start(customer_voice: str = "en-us+f3", agent_voice: str = "en-us", loud_db: float = 10.0) -> Script:
    """A customer who is loud from their first word to their last; about 120 s.

    Truth: every customer turn (tag "loud") is at +`loud_db` dB, 0 semitones, `CALM_WPM`:
    loud in absolute terms, but nothing is raised relative to the customer's own
    baseline, so there is no change of mood to find. The agent is calm throughout.
    """
    c = dict(wpm=CALM_WPM, gain_db=loud_db, tag="loud")
    a = dict(wpm=AGENT_WPM)
    s: list[Say] = [Say("customer", CUSTOMER_LINES[0] + " " + CUSTOMER_LINES[1], at=0.5, **c)]
    s.append(Say("agent", AGENT_LINES[1], gap=0.5, **a))
    s.append(Say("customer", CUSTOMER_LINES[2] + " " + CALM_REPLIES[0], gap=0.4, **c))
    s.append(Say("agent", AGENT_LINES[2], gap=0.5, **a))
    s.append(Say("customer", CUSTOMER_LINES[3] + " " + CUSTOMER_LINES[4], gap=0.4, **c))
    s.append(Say("agent", AGENT_LINES[4], gap=0.5, **a))
    s.append(Say("customer", COMPLAINTS[5], gap=0.4, **c))
    s.append(Say("agent", AGENT_LINES[6], gap=0.5, **a))
    s.append(Say("customer", CALM_REPLIES[1], gap=0.4, **c))
    s.append(Say("agent", AGENT_LINES[7], gap=0.5, **a))
    s.append(Say("customer", CALM_REPLIES[2] + " " + CALM_REPLIES[3], gap=0.4, **c))
    s.append(Say("agent", AGENT_LINES[8], gap=0.5, **a))
    s.append(Say("customer", CALM_REPLIES[5] + " " + CALM_REPLIES[4], gap=0.4, **c))
    s.append(Say("agent", AGENT_LINES[9], gap=0.5, **a))
    s.append(Say("customer", CALM_REPLIES[7], gap=0.4, **c))
    kind = f"loud_from_start_{_num(loud_db)}db"
    return Script(_name(kind, customer_voice, agent_voice), s, agent_voice=agent_voice, customer_voice=customer_voice)


def line_jump(customer_voice: str = "en-us+f3", agent_voice: str = "en-us", jump_db: float = 10.0) -> Script:
    """A calm customer whose line gets `jump_db` louder mid-sentence; about 120 s.

    Truth: the customer's voice is the same throughout (gain 0, 0 semitones, `CALM_WPM`,
    tag "calm", and "line_jump" for the turn the step falls in). At `LINE_JUMP_AT` (50 s),
    inside that customer turn (it starts at `LINE_JUMP_TURN_AT`, 46.5 s, and runs ~9 s),
    the customer channel's gain steps by +`jump_db` dB after the phone line (20 ms ramp)
    and stays there: a phone system's gain or a handset moved, not a change of mood.
    """
    c = dict(wpm=CALM_WPM, tag="calm")
    a = dict(wpm=AGENT_WPM)
    s: list[Say] = [Say("agent", AGENT_LINES[0], at=0.5, **a)]
    s.append(Say("customer", CUSTOMER_LINES[0] + " " + CUSTOMER_LINES[1], gap=0.4, **c))
    s.append(Say("agent", AGENT_LINES[1], gap=0.5, **a))
    s.append(Say("customer", CUSTOMER_LINES[2] + " " + CALM_REPLIES[0], gap=0.4, **c))
    s.append(Say("agent", AGENT_LINES[2], gap=0.5, **a))
    s.append(Say("customer", BACKCHANNELS[2], gap=0.4, wpm=150, tag="backchannel"))
    s.append(Say("customer", CUSTOMER_LINES[3] + " " + CUSTOMER_LINES[4], at=LINE_JUMP_TURN_AT, wpm=CALM_WPM,
                 tag="line_jump"))
    s.append(Say("agent", AGENT_LINES[3], gap=0.5, **a))
    s.append(Say("customer", CALM_REPLIES[1], gap=0.4, **c))
    s.append(Say("agent", AGENT_LINES[5], gap=0.5, **a))
    s.append(Say("customer", CALM_REPLIES[2] + " " + CALM_REPLIES[3], gap=0.4, **c))
    s.append(Say("agent", AGENT_LINES[7], gap=0.5, **a))
    s.append(Say("customer", CALM_REPLIES[5] + " " + CALM_REPLIES[4], gap=0.4, **c))
    s.append(Say("agent", AGENT_LINES[9], gap=0.5, **a))
    s.append(Say("customer", CALM_REPLIES[7], gap=0.4, **c))
    kind = f"line_jump_{_num(jump_db)}db_at_{_num(LINE_JUMP_AT)}s"
    return Script(_name(kind, customer_voice, agent_voice), s, agent_voice=agent_voice, customer_voice=customer_voice,
                  line_steps=((LINE_JUMP_AT, jump_db),))


def agent_raises_voice(customer_voice: str = "en-us+f3", agent_voice: str = "en-us") -> Script:
    """The agent gets loud; the customer stays calm; about 120 s.

    Truth: the customer is calm throughout (tag "calm": gain 0, 0 semitones, `CALM_WPM`).
    From `AGENT_RAISED_AT` (50 s) the agent speaks two long turns (tag "raised", ~22 s)
    at +9 dB, +4 semitones, 200 wpm, with a short calm customer line between; then the
    agent is calm again. The agent's voice, on the other channel, is no sign of the
    customer's mood.
    """
    c = dict(wpm=CALM_WPM, tag="calm")
    a = dict(wpm=AGENT_WPM)
    raised = dict(wpm=200, gain_db=9.0, semitones=4.0, tag="raised")
    s: list[Say] = [Say("agent", AGENT_LINES[0], at=0.5, **a)]
    s.append(Say("customer", CUSTOMER_LINES[0] + " " + CUSTOMER_LINES[1], gap=0.4, **c))
    s.append(Say("agent", AGENT_LINES[1], gap=0.5, **a))
    s.append(Say("customer", CUSTOMER_LINES[2] + " " + CALM_REPLIES[0], gap=0.4, **c))
    s.append(Say("agent", AGENT_LINES[2], gap=0.5, **a))
    s.append(Say("customer", CUSTOMER_LINES[4], gap=0.4, **c))
    s.append(Say("agent", " ".join([AGENT_LINES[3], AGENT_LINES[4], AGENT_LINES[6]]), at=AGENT_RAISED_AT, **raised))
    s.append(Say("customer", CALM_REPLIES[1], gap=0.4, **c))
    s.append(Say("agent", " ".join([AGENT_LINES[5], AGENT_LINES[7]]), gap=0.4, **raised))
    s.append(Say("customer", CALM_REPLIES[2] + " " + CALM_REPLIES[3], gap=0.5, **c))
    s.append(Say("agent", AGENT_LINES[8], gap=0.5, **a))
    s.append(Say("customer", CALM_REPLIES[5], gap=0.4, **c))
    s.append(Say("agent", AGENT_LINES[9], gap=0.5, **a))
    s.append(Say("customer", CALM_REPLIES[7], gap=0.4, **c))
    # the agent's usual level 3 dB under the default, so the raised turns (+9 dB) do not clip
    return Script(_name("agent_raises_voice", customer_voice, agent_voice), s, agent_voice=agent_voice,
                  customer_voice=customer_voice, agent_level_db=-27.0)


def all_scripts(customer_voice: str = "en-us+f3", agent_voice: str = "en-us") -> list[Script]:
    """Every mood scenario, in one pair of voices."""
    return [f(customer_voice, agent_voice) for f in (grows_upset, loud_from_start, line_jump, agent_raises_voice)]
