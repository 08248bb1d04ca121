"""Make the bundled demo call and its script together: resources/demo/demo_call.flac (agent left,
customer right) and resources/demo/demo_call.script.toml (who says what, when). The script is the
rendering's own truth, so the two always agree; run this whenever `demo_call()` below changes.

    python bench/make_demo_call.py

What the demo shows, within its first two minutes and in this order (tests/test_demo_script.py and
tests/test_demo_cues.py keep it so):
- an agent in a hurry from the first word (a true 265 words/min: `slow_down`; every line of the agent's
  so far is fast, so the prompt's number and the pace meter's 30 s curve say the same pace);
- a customer calm for their first 20 s of talk (their baseline), then upset: their own voice +9 dB and
  +4 semitones (`customer_upset`, the mood strip, the angry-customer playbook offer);
- the agent talking over the upset customer for over 5 s (`keep_listening`), then raising their voice,
  +10 dB and +5 semitones (`lower_tone`);
- the agent recovering: one apology, a pause, and the customer calm again for 30 s (`customer_calmer`)
  before the solution;
- the checklist step by step: listening (a backchannel), a clear repeat-back, the apology, the solution,
  the action with contact details, each at the line that says it.
Each cue stands well clear of its detector's line (the customer's +9 dB / +4 st against lines of
3-6 dB / 1.8-2.25 st; the agent's +10 dB against 6; 265 words/min against 190; a 5.6 s talk-over against
1.5 s), so the demo still shows every cue when those lines move a little.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import soundfile as sf

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.callgen import Say, Script, render  # noqa: E402

HEADER = """# The bundled demo call's script: who says what, and when (seconds on the call clock), made with
# the audio by bench/make_demo_call.py. With no speech model for its language, the demo shows this
# script through the same events a recogniser emits; with one, the demo is transcribed for real.
language = "en-us"
final_delay_s = 0.5    # a recogniser's endpoint: a line's words become final this long after it ends
"""

RAISED_CUSTOMER = dict(gain_db=9.0, semitones=4.0)  # their own calm voice, louder and higher
RAISED_AGENT = dict(gain_db=10.0, semitones=5.0)
FAST = 265.0  # true words/min of the agent in a hurry (slow_down: 170, from sound 190)


def demo_call() -> Script:
    """The bundled demo call: a customer whose parcel went missing, and an agent who rushes, talks over
    them and raises their voice, then recovers."""
    s: list[Say] = [
        Say("agent", "Thank you for calling, my name is Sam, how can I help you today?", at=0.5, wpm=FAST, tag="fast"),
        Say("customer", "Hi, I ordered a coffee machine two weeks ago and it still has not arrived. "
            "The website says it was delivered but nobody here has seen it at all.", gap=0.3, wpm=160),
        Say("agent", "mm-hmm", after_start=2.5, wpm=140, tag="backchannel"),
        Say("agent", "So if I understand correctly, the website says it was delivered, but nobody there has "
            "seen it. Is that right?", gap=0.6, wpm=FAST, tag="fast"),
        Say("customer", "Yes, that is right. I checked with the front desk twice and they have no record of any "
            "parcel. I stayed in all day on Tuesday waiting for it.", gap=0.9, wpm=160),
        Say("agent", "I can see it left our warehouse on the sixth.", gap=0.5, wpm=FAST, tag="fast"),
        Say("agent", "The tracking shows it was delivered to the front desk of your building yesterday afternoon "
            "at ten past three.", gap=0.35, wpm=FAST, tag="fast"),
        Say("agent", "The courier marked it as signed for by reception, so as far as our system is concerned the "
            "order is complete.", gap=0.35, wpm=FAST, tag="fast"),
        Say("customer", "This is the second time this has happened and I am really getting tired of it. I do not "
            "want to hear about tracking, I want my coffee machine. Nobody here signed for anything and I have "
            "wasted my whole week on this.", gap=0.5, wpm=170, tag="raised", **RAISED_CUSTOMER),
        Say("agent", "Please, if you could just let me finish what I was saying about the courier.",
            after_start=8.0, wpm=160, tag="interrupt"),
        Say("agent", "I have already told you, the courier says it was delivered to your building!",
            gap=0.5, wpm=150, tag="raised", **RAISED_AGENT),
        Say("agent", "I am sorry, I understand how frustrating this must be after a whole week of waiting.",
            gap=1.5, wpm=145),
        Say("customer", "Okay. I just need it before the weekend, because it was meant to be a gift.",
            gap=0.5, wpm=155),
        Say("agent", "Of course. Give me a moment to check the options for you.", gap=0.6, wpm=140),
        Say("customer", "Thank you. It is for my mother's birthday on Saturday.", gap=0.8, wpm=150),
        Say("agent", "Here is what I can do: I will send a replacement today by express courier, at no cost to "
            "you.", gap=3.5, wpm=145),
        Say("customer", "That would be great, thank you.", gap=0.5, wpm=150),
        Say("agent", "You will get an email from me with the reference number and my direct line, and I will "
            "call you back on Friday.", gap=0.5, wpm=150),
    ]
    return Script("demo_call", s)


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        wav, truth = render(demo_call(), Path(tmp), Path(tmp) / "cache")
        audio, rate = sf.read(str(wav), dtype="int16")
        sf.write(str(ROOT / "resources/demo/demo_call.flac"), audio, rate, subtype="PCM_16", format="FLAC",
                 compression_level=1.0)
    lines = [HEADER]
    for u in truth.utterances:
        lines.append(f'\n[[line]]\nparty = "{u.party}"\nstart = {u.start}\nend = {u.end}\ntext = {json.dumps(u.text, ensure_ascii=False)}\n')
    (ROOT / "resources/demo/demo_call.script.toml").write_text("".join(lines), encoding="utf-8")
    print(f"demo call: {truth.duration_s:.1f} s, {len(truth.utterances)} lines", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
