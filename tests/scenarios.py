"""Scripted calls with known truth, for the promises the tests check."""

from __future__ import annotations

from tests.callgen import Say, Script

AGENT_LINES = [
    "Thank you for calling, my name is Sam, how can I help you today?",
    "I am sorry to hear that, let me take a look at your account right away.",
    "I can see the order was placed on the fourth and it left our warehouse on the sixth.",
    "The tracking shows it was delivered to the front desk of your building yesterday afternoon.",
    "I understand that is not where you expected it, so let us work out what happened.",
    "I will send a request to the courier and ask them for the photo they took at delivery.",
    "If the parcel cannot be found by Friday, I will send a replacement at no cost to you.",
    "You will get an email from me with the reference number and my direct line.",
    "Is there anything else on the account that you would like me to check while we are here?",
    "Thank you for your patience, and I will call you back on Friday with an update.",
]

CUSTOMER_LINES = [
    "Hi, I ordered a coffee machine two weeks ago and it still has not arrived.",
    "The website says it was delivered but nobody here has seen it at all.",
    "I checked with the front desk twice and they have no record of any parcel.",
    "This is the second time this has happened and I am really getting tired of it.",
    "Fine, but I need it before the weekend because it was meant to be a gift.",
]

BACKCHANNELS = ["mm-hmm", "right", "okay", "I see", "yeah"]


def calm_call() -> Script:
    """Turn-taking with short gaps and backchannels from both sides; nothing to coach."""
    s: list[Say] = [Say("agent", AGENT_LINES[0], at=0.5, wpm=145)]
    s.append(Say("customer", CUSTOMER_LINES[0], gap=0.3, wpm=160))
    s.append(Say("agent", BACKCHANNELS[0], after_start=1.8, wpm=140, tag="backchannel"))
    s.append(Say("agent", AGENT_LINES[1], gap=2.5, wpm=145))
    s.append(Say("customer", CUSTOMER_LINES[1], gap=0.4, wpm=155))
    s.append(Say("agent", AGENT_LINES[2], gap=0.5, wpm=150))
    s.append(Say("customer", BACKCHANNELS[1], after_start=1.5, wpm=150, tag="backchannel"))
    s.append(Say("agent", AGENT_LINES[3], gap=1.6, wpm=150))
    s.append(Say("customer", CUSTOMER_LINES[2] + " " + CUSTOMER_LINES[3], gap=0.3, wpm=160))
    s.append(Say("agent", BACKCHANNELS[3], after_start=2.0, wpm=140, tag="backchannel"))
    s.append(Say("agent", AGENT_LINES[4], gap=2.0, wpm=145))
    s.append(Say("customer", CUSTOMER_LINES[1] + " " + CUSTOMER_LINES[0], gap=0.4, wpm=160))
    s.append(Say("agent", AGENT_LINES[5], gap=0.6, wpm=145))
    s.append(Say("customer", BACKCHANNELS[2], after_start=1.0, wpm=150, tag="backchannel"))
    s.append(Say("agent", AGENT_LINES[6], gap=2.5, wpm=150))
    s.append(Say("customer", CUSTOMER_LINES[4] + " " + CUSTOMER_LINES[1], gap=0.4, wpm=160))
    s.append(Say("agent", AGENT_LINES[7], gap=0.5, wpm=145))
    s.append(Say("customer", CUSTOMER_LINES[2], gap=0.4, wpm=160))
    s.append(Say("agent", AGENT_LINES[9], gap=0.6, wpm=145))
    return Script("calm", s)


def fast_talker(normal_wpm: float = 145, fast_wpm: float = 230, voice: str = "en-us") -> Script:
    """Normal pace for the first half, then sustained fast speech."""
    s: list[Say] = [Say("customer", CUSTOMER_LINES[0], at=0.3, wpm=160)]
    for line in AGENT_LINES[:5]:
        s.append(Say("agent", line, gap=0.5, wpm=normal_wpm))
    s.append(Say("customer", CUSTOMER_LINES[3], gap=0.4, wpm=160))
    for line in AGENT_LINES[5:] + AGENT_LINES[1:5]:
        s.append(Say("agent", line, gap=0.3, wpm=fast_wpm, tag="fast"))
    return Script(f"fast_{int(fast_wpm)}_{voice.replace('+', '_')}", s, agent_voice=voice)


def steady_pace(wpm: float, voice: str = "en-us") -> Script:
    """The agent explains at one steady pace, with customer turns between."""
    s: list[Say] = [Say("customer", CUSTOMER_LINES[0], at=0.3, wpm=160)]
    for i, line in enumerate(AGENT_LINES):
        s.append(Say("agent", line, gap=0.5, wpm=wpm))
        if i % 3 == 2:
            s.append(Say("customer", CUSTOMER_LINES[(i // 3) % len(CUSTOMER_LINES)], gap=0.4, wpm=160))
    return Script(f"steady_{int(wpm)}_{voice.replace('+', '_')}", s, agent_voice=voice)


def raised_voice() -> Script:
    """The agent speaks at their usual level, then raises voice and pitch for one long turn."""
    s: list[Say] = [Say("customer", CUSTOMER_LINES[0], at=0.3, wpm=160)]
    for line in AGENT_LINES[:4]:
        s.append(Say("agent", line, gap=0.5, wpm=145))
    s.append(Say("customer", CUSTOMER_LINES[3], gap=0.4, wpm=165, gain_db=4))
    s.append(Say("agent", AGENT_LINES[4] + " " + AGENT_LINES[6], gap=0.4, wpm=150, gain_db=9, pitch=75, tag="raised"))
    s.append(Say("customer", CUSTOMER_LINES[4], gap=0.5, wpm=160))
    s.append(Say("agent", AGENT_LINES[7], gap=0.5, wpm=145))
    return Script("raised", s)


def interrupter() -> Script:
    """The agent talks over the customer twice (held), plus a backchannel that is not an interruption."""
    s: list[Say] = [Say("agent", AGENT_LINES[0], at=0.3, wpm=145)]
    s.append(Say("customer", CUSTOMER_LINES[0] + " " + CUSTOMER_LINES[1], gap=0.4, wpm=155))
    s.append(Say("agent", BACKCHANNELS[0], after_start=2.0, wpm=140, tag="backchannel"))
    s.append(Say("agent", AGENT_LINES[1], gap=2.0, wpm=150))
    s.append(Say("customer", CUSTOMER_LINES[2] + " " + CUSTOMER_LINES[3], gap=0.4, wpm=155))
    s.append(Say("agent", AGENT_LINES[2], after_start=2.5, wpm=155, tag="interrupt"))
    s.append(Say("customer", CUSTOMER_LINES[4] + " " + CUSTOMER_LINES[1], gap=6.0, wpm=155))
    s.append(Say("agent", AGENT_LINES[4], after_start=3.0, wpm=155, tag="interrupt"))
    s.append(Say("customer", BACKCHANNELS[2], gap=0.5, wpm=150, tag="backchannel"))
    s.append(Say("agent", AGENT_LINES[7], gap=0.6, wpm=145))
    return Script("interrupter", s)


def unplugged() -> Script:
    """For a softphone unplugged mid-call (12 s to 18 s into the call, tests/test_live.py): the customer
    speaks first and stops before 12 s; the agent answers, then speaks again from 14.5 s, inside the gap."""
    s: list[Say] = [Say("customer", CUSTOMER_LINES[0], at=0.3, wpm=160)]
    s.append(Say("agent", AGENT_LINES[1], gap=0.5, wpm=150))
    s.append(Say("agent", AGENT_LINES[2], at=14.5, wpm=150))
    return Script("unplugged", s)


def customer_interrupts() -> Script:
    """The customer cuts in on the agent's explanation and both keep talking."""
    s: list[Say] = [Say("customer", CUSTOMER_LINES[0], at=0.3, wpm=160)]
    s.append(Say("agent", AGENT_LINES[2] + " " + AGENT_LINES[3], gap=0.5, wpm=145))
    s.append(Say("customer", CUSTOMER_LINES[3], after_start=3.0, wpm=165, gain_db=3, tag="interrupt"))
    s.append(Say("agent", AGENT_LINES[4], gap=0.8, wpm=145))
    return Script("customer_interrupts", s)


def dead_air() -> Script:
    """A long silence on both sides while the agent looks something up."""
    s: list[Say] = [Say("customer", CUSTOMER_LINES[0], at=0.3, wpm=160)]
    s.append(Say("agent", AGENT_LINES[1], gap=0.5, wpm=145))
    s.append(Say("agent", AGENT_LINES[2], gap=14.0, wpm=145))
    s.append(Say("customer", CUSTOMER_LINES[1], gap=0.5, wpm=160))
    return Script("dead_air", s)


KO_AGENT = [
    "안녕하세요 무엇을 도와드릴까요",
    "주문 번호를 알려주시겠어요",
    "확인해 보니 배송이 이틀 지연되었습니다",
    "정말 죄송합니다 바로 처리해 드리겠습니다",
]
KO_CUSTOMER = [
    "주문한 커피 머신이 아직 도착하지 않았어요",
    "번호는 일 이 삼 사 오 입니다",
    "언제 받을 수 있나요",
]


def korean_call() -> Script:
    """A short Korean call (the only real Vosk model on PyPI is Korean): both parties, one overlap."""
    s: list[Say] = [Say("agent", KO_AGENT[0], at=0.5, wpm=110)]
    s.append(Say("customer", KO_CUSTOMER[0], gap=0.5, wpm=110))
    s.append(Say("agent", KO_AGENT[1], gap=0.6, wpm=110))
    s.append(Say("customer", KO_CUSTOMER[1], gap=0.5, wpm=100))
    s.append(Say("agent", KO_AGENT[2], gap=0.8, wpm=110))
    s.append(Say("customer", KO_CUSTOMER[2], after_start=1.2, wpm=110))
    s.append(Say("agent", KO_AGENT[3], gap=0.8, wpm=110))
    return Script("korean", s, agent_voice="ko", customer_voice="ko+f3")


def live_call() -> Script:
    """For the virtual softphone: two held interruptions by the agent (more than a cooldown apart), a
    stretch of fast talk, a customer backchannel."""
    s: list[Say] = [Say("agent", AGENT_LINES[0], at=0.5, wpm=145)]
    s.append(Say("customer", CUSTOMER_LINES[0] + " " + CUSTOMER_LINES[1], gap=0.4, wpm=155))
    s.append(Say("agent", AGENT_LINES[2], after_start=2.5, wpm=160, tag="interrupt"))
    s.append(Say("agent", AGENT_LINES[3] + " " + AGENT_LINES[5] + " " + AGENT_LINES[6], gap=0.5, wpm=235, tag="fast"))
    s.append(Say("customer", CUSTOMER_LINES[3] + " " + CUSTOMER_LINES[4], gap=0.4, wpm=160))
    s.append(Say("agent", AGENT_LINES[7], after_start=2.5, wpm=150, tag="interrupt"))
    s.append(Say("customer", BACKCHANNELS[2], gap=0.5, wpm=150, tag="backchannel"))
    s.append(Say("agent", AGENT_LINES[9], gap=0.5, wpm=145))
    return Script("live_call", s)
