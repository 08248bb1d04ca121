"""The customer's mood replayed on the real-voice calls' own frames: minutes where `real_voice_accuracy.py` takes an hour.

`record` runs every rendered call of bench/out/real_voices once through `analyze_call` and keeps what the customer's
mood was given (each block's levels, f0, speech and turn frames, the nuclei, the talk-overs, the evaluation times),
a few per-frame spectral readings of the customer's channel (band powers, for cues that do not need the pitch),
and every metrics snapshot. `replay` feeds those inputs to a fresh `CustomerMood` (the current code and config, with
any [customer] overrides), puts its state into the recorded snapshots, runs the coach over them and judges the
prompts as tests/real_voices.py `judge` does. With the shipped code a replay gives the same prompts as the
analysis (checked by `--check`).

Run by hand:  python bench/mood_replay.py record [--workers 2]
              python bench/mood_replay.py replay [--held-out] [--set key=value ...] [--misses] [--check]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import pickle
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, Optional

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from companion.config import load_config  # noqa: E402
from tests import real_voices as rv  # noqa: E402

CALLS = HERE / "out" / "real_voices"
REPLAY = CALLS / "replay"
FITTED = ("FEE078", "FEE083", "MEE009", "MEO069")
BANDS_HZ = (0, 300, 1000, 2000, 3400, 8000)   # per-frame band powers kept for the replay


def band_powers(frames: np.ndarray, rate: int) -> np.ndarray:
    """(frames, bands) powers in dB of each frame's Hann-windowed spectrum between `BANDS_HZ`."""
    x = frames - frames.mean(axis=1, keepdims=True)
    spec = np.abs(np.fft.rfft(x * np.hanning(x.shape[1]), axis=1)) ** 2
    hz = np.fft.rfftfreq(x.shape[1], 1.0 / rate)
    out = np.empty((x.shape[0], len(BANDS_HZ) - 1))
    for k, (lo, hi) in enumerate(zip(BANDS_HZ[:-1], BANDS_HZ[1:])):
        out[:, k] = 10.0 * np.log10(spec[:, (hz >= lo) & (hz < hi)].sum(axis=1) + 1e-12)
    return out


_ORIGINAL: dict[str, Any] = {}
RETRACK = bool(os.environ.get("MOOD_REPLAY_RETRACK"))  # `--retrack`: the customer's f0 from the current tracker


def _record(wav: str) -> str:
    import companion.monitor.call_monitor as cm
    from companion.analysis import analyze_call
    from companion.audio.file_source import CallFileSpec

    ops: list[tuple] = []
    rate = load_config(use_user_default=False).audio.sample_rate

    if not _ORIGINAL:  # each call patches the originals (not the last call's recorders: those would pile up)
        _ORIGINAL.update(mood=cm.CustomerMood, process=cm.CallMonitor.process, snapshot=cm.CallMonitor.snapshot)

    class Recording(_ORIGINAL["mood"]):  # type: ignore[misc,valid-type]
        pending: Optional[np.ndarray] = None

        def add(self, levels_db, f0_hz, speech, first_t, in_turn=None, spectra=None):  # type: ignore[no-untyped-def]
            ops.append(("add", levels_db.copy(), f0_hz.copy(), speech.copy(), first_t,
                        None if in_turn is None else in_turn.copy(), self.pending))
            return super().add(levels_db, f0_hz, speech, first_t, in_turn, spectra)

        def nucleus(self, t, kind):  # type: ignore[no-untyped-def]
            ops.append(("nucleus", t, kind))
            return super().nucleus(t, kind)

        def talked_over(self, onset):  # type: ignore[no-untyped-def]
            ops.append(("talked_over", onset))
            return super().talked_over(onset)

        def evaluate(self, now):  # type: ignore[no-untyped-def]
            ops.append(("evaluate", now))
            return super().evaluate(now)

    process, snapshot = _ORIGINAL["process"], _ORIGINAL["snapshot"]

    def recording_process(self, block):  # type: ignore[no-untyped-def]
        self.mood.pending = band_powers(block.customer.astype(np.float64), rate).astype(np.float32)
        return process(self, block)

    def recording_snapshot(self):  # type: ignore[no-untyped-def]
        s = snapshot(self)
        ops.append(("snapshot", s))
        return s

    cm.CustomerMood, cm.CallMonitor.process, cm.CallMonitor.snapshot = Recording, recording_process, recording_snapshot
    doc = analyze_call(CallFileSpec(Path(wav)), load_config(use_user_default=False))
    out = REPLAY / (Path(wav).stem + ".pkl")
    tmp = out.with_suffix(".tmp")
    tmp.write_bytes(pickle.dumps({"ops": ops, "doc": doc, "wav": str(wav)}, protocol=pickle.HIGHEST_PROTOCOL))
    tmp.replace(out)
    return str(out)


def wavs(held_out: Optional[bool] = None) -> list[Path]:
    """The rendered calls (the fitted customers', the held-out people's, or both)."""
    found = sorted(CALLS.glob("real_*.wav")) or sorted(CALLS.glob("calls-*-*/real_*.wav"))  # other_voices: a folder a customer
    if held_out is None:
        return found
    return [w for w in found if any(f"_c-{c}_" in w.name for c in FITTED) != held_out]


def _use(calls: Path) -> None:
    """Calls from another folder (e.g. bench/out/other_voices/cache, bench/other_voices_accuracy.py's)."""
    global CALLS, REPLAY
    CALLS, REPLAY = calls, calls / "replay"


def _record_job(job: tuple[str, str]) -> str:
    _use(Path(job[1]))
    return _record(job[0])


def record(workers: int) -> None:
    REPLAY.mkdir(parents=True, exist_ok=True)
    order = ("grows_upset", "line_jump", "calm", "talkovers", "quick_cut_ins", "agent_raised")  # most telling first
    todo = sorted((str(w) for w in wavs() if not (REPLAY / (w.stem + ".pkl")).exists()),
                  key=lambda w: [k in Path(w).name for k in order].index(True))
    began = time.time()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for n, _ in enumerate(pool.map(_record_job, [(w, str(CALLS)) for w in todo]), 1):
            if n % 20 == 0:
                print(f"{n}/{len(todo)} recorded, {time.time() - began:.0f} s", flush=True)


def replay_one(path: Path, overrides: dict[str, float], config: Any = None) -> dict:
    """One call's prompts with the current mood code (and [customer] overrides), judged."""
    import soundfile as sf

    from companion.coach.rules import Coach
    from companion.events import CustomerState
    from companion.monitor.customer import CustomerMood
    from companion.monitor.pitch import PitchTracker

    data = pickle.loads(path.read_bytes())
    config = config or load_config(use_user_default=False)
    # the customer's frames again, for the spectra their pitch tracker gives the mood (not recorded: too big)
    wav = Path(data.get("wav", CALLS / (path.stem + ".wav")))
    if not wav.exists():  # recorded in another checkout (a worktree's bench/out is a link to the same calls)
        wav = CALLS / wav.name
    customer = sf.read(wav, dtype="float32")[0][:, 1]
    tracker = PitchTracker(config.pitch, config.audio)
    tracker.keep_spectra = True
    frame_len = config.audio.frame_len
    if overrides:
        config = dataclasses.replace(config, customer=dataclasses.replace(config.customer, **overrides))
    mood = CustomerMood(config.customer, config.audio, config.pace)
    coach = Coach(config.coach)
    prompts: list[dict] = []
    states: list[dict] = []
    for op in data["ops"]:
        kind = op[0]
        if kind == "add":
            _, levels, f0, speech, first_t, in_turn, bands = op
            first = int(round(first_t / config.audio.frame_s))
            frames = customer[first * frame_len: (first + len(levels)) * frame_len]
            frames = np.pad(frames, (0, len(levels) * frame_len - frames.size)).reshape(-1, frame_len)
            frames = frames - frames.mean(axis=1, keepdims=True)
            tracked = tracker.process(frames, speech)
            if RETRACK:  # the current tracker's f0 of the customer, not the recorded one
                f0 = tracked
            mood.add(levels, f0, speech, first_t, in_turn, tracker.spectra)
        elif kind == "nucleus":
            mood.nucleus(op[1], op[2])
        elif kind == "talked_over":
            mood.talked_over(op[1])
        elif kind == "evaluate":
            change = mood.evaluate(op[1])
            if isinstance(change, CustomerState):
                states.append({"t": change.t, "state": change.state})
        else:
            s, r = op[1], mood.reading
            s = dataclasses.replace(s, customer_state=mood.state, customer_calm_s=mood.calm_s(s.t),
                                    customer_loudness_db=r.loudness_db, customer_pitch_semitones=r.pitch_semitones,
                                    customer_pace_rise=r.pace_rise, customer_talkovers=r.talkovers)
            prompts += [{"t": p.t, "kind": p.kind, "reason": p.reason} for p in coach.evaluate(s)]
    doc = dict(data["doc"], prompts=prompts, customer_states=states)
    truth = rv.Truth.load(wav.with_suffix(".truth.json"))
    row = rv.judge(truth, doc)
    row["same_as_recorded"] = [p["t"] for p in prompts] == [p["t"] for p in data["doc"]["prompts"]] and \
        [p["kind"] for p in prompts] == [p["kind"] for p in data["doc"]["prompts"]]
    return row


def _replay_job(job: tuple[str, dict, dict]) -> dict:
    import companion.monitor.customer as customer

    _use(Path(job[3]))
    import importlib

    for name, value in job[2].items():  # the mood's module constants (or `pitch.NAME`: another monitor module's)
        module, _, name = name.rpartition(".")
        where = importlib.import_module(f"companion.monitor.{module}") if module else customer
        setattr(where, name, type(getattr(where, name))(value))
    return replay_one(Path(job[0]), job[1])


def replay(held_out: Optional[bool], overrides: dict[str, float], workers: int,
           constants: Optional[dict[str, float]] = None, kinds: Optional[list[str]] = None) -> list[dict]:
    paths = [REPLAY / (w.stem + ".pkl") for w in wavs(held_out)]
    paths = [p for p in paths if p.exists() and (not kinds or any(f"real_{k}_c-" in p.name for k in kinds))]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(_replay_job, [(str(p), overrides, constants or {}, str(CALLS)) for p in paths]))


def summary(rows: list[dict]) -> list[str]:
    """Per customer and per line: false upsets, upset within 6 s, calmer within 30 s, line jump not upset."""
    out = ["| by | no false upset (calm, agent-raised, talk-overs) | upset ≤ 6 s | calmer ≤ 30 s | line jump not upset "
           "| lower_tone ok |", "|---|---|---|---|---|---|"]
    for by in ("customer", "line"):
        for key in sorted({r[by] for r in rows}) + (["all"] if by == "line" else []):
            rs = [r for r in rows if key == "all" or r[by] == key]
            never = [r for r in rs if r["kind"] not in ("grows_upset", "line_jump")]
            upset = [r for r in rs if r["kind"] == "grows_upset"]
            jump = [r for r in rs if r["kind"] == "line_jump"]
            out.append(f"| {key} | {sum(not r['false_upset'] for r in never)}/{len(never)} "
                       f"| {sum(r['upset_ok'] for r in upset)}/{len(upset)} "
                       f"| {sum(r['calmer_ok'] for r in upset)}/{len(upset)} "
                       f"| {sum(not r['false_upset'] for r in jump)}/{len(jump)} "
                       f"| {sum(r['lower_tone_ok'] for r in rs)}/{len(rs)} |")
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=("record", "replay"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--calls", type=Path, default=None, help="another folder of rendered calls (default: "
                        "bench/out/real_voices; e.g. bench/out/other_voices/cache)")
    parser.add_argument("--held-out", action="store_true", help="the held-out people's calls only")
    parser.add_argument("--fitted", action="store_true", help="the fitted customers' calls only")
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="[customer] overrides")
    parser.add_argument("--const", nargs="*", default=[], metavar="NAME=VALUE",
                        help="companion.monitor.customer constants, e.g. SPECTRUM_CORROBORATES=0 (pitch.NAME=VALUE: "
                        "companion.monitor.pitch's, with --retrack)")
    parser.add_argument("--kinds", nargs="*", default=None)
    parser.add_argument("--misses", action="store_true")
    parser.add_argument("--save", type=Path, default=None, help="write the judged rows here (JSON)")
    parser.add_argument("--retrack", action="store_true", help="the customer's f0 from the current pitch tracker "
                        "(a tracker change replayed without recording again; the agent's tone stays as recorded)")
    parser.add_argument("--check", action="store_true", help="say which calls' prompts differ from the recording")
    args = parser.parse_args()
    if args.retrack:
        global RETRACK
        RETRACK = True
        os.environ["MOOD_REPLAY_RETRACK"] = "1"  # the worker processes
    if args.calls is not None:
        _use(args.calls.resolve())
    if args.what == "record":
        record(args.workers)
        return
    overrides = {k: float(v) for k, v in (item.split("=", 1) for item in args.set)}
    which = True if args.held_out else False if args.fitted else None
    began = time.time()
    constants = {k: float(v) for k, v in (item.split("=", 1) for item in args.const)}
    rows = replay(which, overrides, args.workers, constants, args.kinds)
    if args.misses:
        for r in rows:
            if not (r["upset_ok"] and r["calmer_ok"]) or r["false_upset"]:
                print(f"BAD {r['name']}: upset {r.get('upset_after_s')} false {r['false_upset']} "
                      f"calmer {r.get('calmer_after_s')} states {r['states']}")
    if args.save is not None:
        args.save.write_text(json.dumps(rows, indent=1, default=str))
    if args.check:
        diff = [r["name"] for r in rows if not r["same_as_recorded"]]
        print(f"{len(rows) - len(diff)}/{len(rows)} calls replay the recorded prompts; differ: {diff[:20]}")
    print("\n".join(summary(rows)))
    print(f"{len(rows)} calls replayed in {time.time() - began:.0f} s")


if __name__ == "__main__":
    main()
