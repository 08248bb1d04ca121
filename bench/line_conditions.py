"""The coaching on line conditions the real-voice benches do not build: each rendered real-voice call of a kind
(calm by default: no cue about the customer or a talk-over is right on it) changed one way, then analysed as
`companion analyze --json --model none` does, with the shipped constants.

Conditions (the customer's channel unless said):
- `base`: the call as rendered;
- `drift`: the customer's level wanders ±5 dB over 40 s (a speakerphone, a head turning, an AGC);
- `echoN`: the agent's channel back on the customer's, N dB quieter and 150 ms later (an echo nobody cancelled);
- `gsm`: through a GSM full-rate codec at 8 kHz;
- `quiet` / `hot`: the whole recording 20 dB down / 12 dB up and clipped;
- `rate8k` / `rate48k`: the call file resampled to 8 or 48 kHz (the app resamples it back);
- `hum`: 50 Hz mains hum and two harmonics, −42 dBFS in all;
- `white20`, `pink_20`, `brown20`, `white10`: a coloured noise 20 (10) dB under the customer's active level, on a
  wideband line (the benches' noisy line is office noise through a phone line);
- `both_pink20`: pink noise 20 dB under each party, on both channels;
- `babbleN` / `agent_babbleN`: other people talking in the room, N dB under the party's active level, on the
  customer's channel (a television, a family) or on the agent's (a contact centre's floor): three of the meeting
  recordings (`tests/line_changes.py` `babble`) played at once; `babble_otherN` / `agent_babble_otherN`: three other
  meeting recordings (`BABBLE_OTHER`), which no setting was chosen on.

Printed per condition: on how many calls each prompt kind fires at least once, how many calls show a talk-over, and
each party's speaking time (the sum of their turns) against the same call as rendered (`base`, run with it): the mean
ratio over the calls, and the lowest.
The calls come from the benches' caches (bench/real_voice_accuracy.py and bench/other_voices_accuracy.py render
them; run those first).

Run by hand:  python bench/line_conditions.py [--conditions base,echo25,hum] [--kind calm] [--step 3] [--workers 1]
                  [--config FILE]   (a coaching.toml over the shipped one: a constant to try)
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import soundfile as sf

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from companion.analysis import analyze_call  # noqa: E402
from companion.audio.file_source import CallFileSpec  # noqa: E402
from companion.config import load_config  # noqa: E402
from tests.line_changes import BABBLE, BABBLE_OTHER, babble, coloured_noise, drift_gain, hum, with_echo  # noqa: E402
from tests.real_voices import recordings  # noqa: E402

OUT = HERE / "out"
KINDS = ("customer_upset", "customer_calmer", "lower_tone", "slow_down", "keep_listening", "speeding_up")
CUSTOMER_DB, AGENT_DB = -28.0, -27.0   # tests/real_voices.py SPEECH_DB and AGENT_DB: the parties' active levels


def _sox(audio: np.ndarray, rate: int, out_rate: int) -> np.ndarray:
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "in.wav", Path(tmp) / "out.wav"
        sf.write(str(src), audio.astype(np.float32), rate, subtype="FLOAT")
        subprocess.run(["sox", "-R", str(src), "-e", "floating-point", "-b", "32", str(dst), "rate", str(out_rate)],
                       check=True, capture_output=True)
        return sf.read(str(dst), dtype="float64")[0]


def _gsm(audio: np.ndarray, rate: int) -> np.ndarray:
    with tempfile.TemporaryDirectory() as tmp:
        src, gsm, dst = Path(tmp) / "in.wav", Path(tmp) / "line.gsm", Path(tmp) / "out.wav"
        sf.write(str(src), _sox(audio, rate, 8000).astype(np.float32), 8000, subtype="FLOAT")
        subprocess.run(["sox", str(src), "-r", "8000", "-c", "1", str(gsm)], check=True, capture_output=True)
        subprocess.run(["sox", str(gsm), "-r", str(rate), "-e", "floating-point", "-b", "32", str(dst)],
                       check=True, capture_output=True)
        back = sf.read(str(dst), dtype="float64")[0]
    out = np.zeros(audio.size)
    out[: min(audio.size, back.size)] = back[: audio.size]
    return out


def change(condition: str, stereo: np.ndarray, rate: int) -> tuple[np.ndarray, int]:
    agent, customer = stereo[:, 0].copy(), stereo[:, 1].copy()
    n = agent.size
    if condition == "base":
        pass
    elif condition == "drift":
        customer *= drift_gain(n, rate)
    elif condition.startswith("echo"):
        customer = with_echo(stereo, rate, -float(condition[4:] or 25))[:, 1]
    elif condition == "gsm":
        customer = _gsm(customer, rate)
    elif condition == "quiet":
        agent, customer = agent * 0.1, customer * 0.1
    elif condition == "hot":
        agent, customer = np.clip(agent * 4, -1, 1), np.clip(customer * 4, -1, 1)
    elif condition in ("rate8k", "rate48k"):
        to = 8000 if condition == "rate8k" else 48000
        return np.stack([_sox(agent, rate, to), _sox(customer, rate, to)], axis=1), to
    elif condition == "hum":
        customer += hum(n, rate)
    elif condition.rstrip("0123456789").rstrip("_") in ("white", "pink", "brown", "both_pink"):
        name = condition.removeprefix("both_")
        color, snr = name.rstrip("0123456789").rstrip("_"), float(name.lstrip("abcdefghijklmnopqrstuvwxyz_"))
        rng = np.random.default_rng(7)
        customer = customer + coloured_noise(color, n, rate, rng) * 10 ** ((CUSTOMER_DB - snr) / 20.0)
        if condition.startswith("both_"):
            agent = agent + coloured_noise(color, n, rate, rng) * 10 ** ((AGENT_DB - snr) / 20.0)
    elif condition.rstrip("0123456789").removesuffix("_other").endswith("babble"):
        snr = float(condition.removeprefix("agent_").removeprefix("babble").removeprefix("_other"))
        room = babble(recordings(OUT / "real_voices" / "cache"), n, rate, BABBLE_OTHER if "_other" in condition else BABBLE)
        if condition.startswith("agent_"):
            agent = agent + room * 10 ** ((AGENT_DB - snr) / 20.0)
        else:
            customer = customer + room * 10 ** ((CUSTOMER_DB - snr) / 20.0)
    else:
        raise SystemExit(f"unknown condition {condition!r}")
    return np.stack([agent, customer], axis=1), rate


def one(job: tuple[str, str, str]) -> tuple[str, str, list[str], int, dict[str, float]]:
    wav, condition, settings = job
    stereo, rate = sf.read(wav, dtype="float64", always_2d=True)
    changed, rate = change(condition, stereo, rate)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "call.wav"
        sf.write(str(path), changed.astype(np.float32), rate, subtype="FLOAT")
        config = load_config(Path(settings) if settings else None, use_user_default=False)
        doc = analyze_call(CallFileSpec(path), config)
    speech = {party: round(sum(t["end"] - t["start"] for t in doc["turns"] if t["party"] == party), 3)
              for party in ("agent", "customer")}
    return condition, Path(wav).name, sorted({p["kind"] for p in doc["prompts"]}), len(doc["interruptions"]), speech


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conditions", default="base,drift,echo25,echo30,echo35,gsm,quiet,hot,rate8k,rate48k,hum,"
                                                "white20,pink_20,brown20,white10,both_pink20")
    parser.add_argument("--kind", default="calm", help="the calls' scenario (calm, talkovers, grows_upset, ...)")
    parser.add_argument("--step", type=int, default=3, help="every n-th call (3: about 70 calm calls)")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--config", default="", help="a coaching.toml over the shipped one (a constant to try)")
    args = parser.parse_args()
    wavs = sorted(str(p) for p in (OUT / "real_voices").glob(f"real_{args.kind}_*.wav"))
    wavs += sorted(str(p) for p in (OUT / "other_voices" / "cache").glob(f"calls-*_*/real_{args.kind}_*.wav"))
    wavs = wavs[:: args.step]
    if not wavs:
        raise SystemExit("no rendered calls: run bench/real_voice_accuracy.py and bench/other_voices_accuracy.py first")
    conditions = args.conditions.split(",")
    rows: dict[str, list[tuple[str, list[str], int, dict[str, float]]]] = {c: [] for c in conditions}
    with ProcessPoolExecutor(args.workers) as pool:
        for condition, name, kinds, talk_overs, speech in pool.map(one, [(w, c, args.config) for w in wavs for c in conditions],
                                                                   chunksize=2):
            rows[condition].append((name, kinds, talk_overs, speech))
    base = {name: speech for name, _, _, speech in rows.get("base", [])}
    print(f"{len(wavs)} {args.kind} calls; calls with each prompt kind, and with a talk-over; speaking time against "
          "the call as rendered (mean, lowest)")
    print("| condition | " + " | ".join(KINDS) + " | talk-over | customer's speech | agent's speech |")
    print("|---" * (len(KINDS) + 4) + "|")
    for condition in conditions:
        count = Counter(k for _, kinds, _, _ in rows[condition] for k in kinds)
        with_talk_over = sum(1 for _, _, n, _ in rows[condition] if n)
        cells = []
        for party in ("customer", "agent"):
            ratios = [speech[party] / base[name][party] for name, _, _, speech in rows[condition]
                      if name in base and base[name][party] > 0]
            cells.append(f"{np.mean(ratios):.2f} ({min(ratios):.2f})" if ratios else "-")
        print(f"| {condition} | " + " | ".join(str(count[k]) for k in KINDS) + f" | {with_talk_over} | "
              + " | ".join(cells) + " |")
    (OUT / f"line_conditions_{args.kind}.json").write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
