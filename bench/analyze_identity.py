"""Is every event of `analyze --model none` the same as before a speed change? A check to run after each one.

A set of calls (real voices, the pace corpus at 16 and 8 kHz, the Korean call, the 10-minute call) runs
through the monitor and the coach; every event each block gives (turns, talk-overs, dead air, mood, every
metrics snapshot, every prompt) is written out exactly (`repr`, floats to the last bit), with the call's
whole-call pace and the analysis document `analyze` prints. Two trees are compared:

- this one, as it is now (others' edits included);
- the same tree with the given files taken back to how they were at a commit (`--files`, default: the
  files the speed work changes), so only those files differ, whatever else changes meanwhile.

f0 (the pitch tracker's output for the frames asked about) is compared too and reported apart: it may differ in
its last bits without any event moving.

Run by hand:  python bench/analyze_identity.py --against HEAD
              python bench/analyze_identity.py --trees BEFORE AFTER   (two folders holding companion/ and resources/)
              python bench/analyze_identity.py --dump OUT.json     (this tree only)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
SPEED_FILES = [
    "companion/monitor/pitch.py", "companion/monitor/call_monitor.py", "companion/monitor/worker.py",
    "companion/monitor/ledger.py", "companion/monitor/interruptions.py", "companion/monitor/calibration.py",
    "companion/audio/file_source.py",
    "companion/audio/framer.py", "companion/pipeline.py", "companion/analysis.py", "companion/vad/voice_activity.py",
]


def _pace_call(agent: Path, customer: Path, dest: Path) -> Path:
    """Two mono pace-corpus clips as a stereo call at their own rate (the customer's clip ends sooner or is padded)."""
    import numpy as np
    import soundfile as sf

    a, rate = sf.read(str(agent), dtype="float32")
    c, rate_c = sf.read(str(customer), dtype="float32")
    assert rate == rate_c
    n = max(a.size, c.size)
    stereo = np.zeros((n, 2), np.float32)
    stereo[: a.size, 0] = a
    stereo[: c.size, 1] = c * 0.8
    sf.write(str(dest), stereo, rate, subtype="PCM_16")
    return dest


def calls(work: Path) -> list[Path]:
    """The calls checked: 19 of them, made once into `work` where they are not files already."""
    real = sorted((OUT / "real_voices").glob("*.wav"))
    kinds = ["real_agent_raised", "real_calm", "real_grows_upset", "real_line_jump", "real_talkovers"]
    chosen = []
    for kind in kinds:  # two of each kind, from different speakers and lines
        of_kind = [p for p in real if p.name.startswith(kind)]
        chosen += [of_kind[0], of_kind[len(of_kind) // 2 + 1]] if of_kind else []
    pace = sorted((OUT / "pace_corpus").glob("*.wav"))
    import soundfile as sf

    wide = [p for p in pace if sf.info(str(p)).samplerate == 16000]
    narrow = [p for p in pace if sf.info(str(p)).samplerate == 8000]
    made = []
    for name, group in (("pace16", wide), ("pace8", narrow)):
        for k in range(3):
            if len(group) > 2 * k + 1:
                a, c = group[(k * 37) % len(group)], group[(k * 53 + 11) % len(group)]
                made.append(_pace_call(a, c, work / f"{name}_{k}.wav"))
    extra = [OUT / "korean.wav", OUT / "long_10min.wav"]
    return chosen + made + [p for p in extra if p.exists()]


def dump(paths: list[Path]) -> dict[str, dict[str, object]]:
    """Every event of each call, exactly, through the monitor and coach as `analyze` runs them."""
    import numpy as np

    from companion.analysis import analyze_call
    from companion.audio.file_source import CallFileSpec, FileCallSource
    from companion.coach.rules import Coach
    from companion.config import load_config
    from companion.events import MetricsSnapshot
    from companion.monitor import pitch
    from companion.monitor.call_monitor import CallMonitor

    f0s: list[np.ndarray] = []
    from companion.monitor import call_monitor

    together = getattr(pitch, "f0_together", None)
    if together is not None:  # both parties' pitch in one batch, as the monitor asks for it
        def recorded_together(jobs: object) -> list[np.ndarray]:
            outs = together(jobs)
            f0s.extend(np.asarray(out, dtype=np.float64) for out in outs)
            return outs

        call_monitor.f0_together = recorded_together  # type: ignore[attr-defined]
    else:
        original = pitch.PitchTracker.process

        def recorded(self: object, frames: np.ndarray, only: object = None) -> np.ndarray:
            out = original(self, frames, only)  # type: ignore[arg-type]
            f0s.append(np.asarray(out, dtype=np.float64))
            return out

        pitch.PitchTracker.process = recorded  # type: ignore[method-assign]
    config = load_config(use_user_default=False)
    result: dict[str, dict[str, object]] = {}
    for path in paths:
        f0s.clear()
        monitor, coach = CallMonitor(config), Coach(config.coach)
        events: list[str] = []
        for block in FileCallSource(CallFileSpec(path), config.audio).blocks():
            for event in monitor.process(block):
                events.append(repr(event))
                if isinstance(event, MetricsSnapshot):
                    events.extend(repr(p) for p in coach.evaluate(event))
        for event in monitor.finish():
            events.append(repr(event))
            if isinstance(event, MetricsSnapshot):
                events.extend(repr(p) for p in coach.evaluate(event))
        events.append(f"whole_call_wpm={monitor.whole_call_wpm()!r} pace_source={monitor.pace_source!r}")
        f0 = np.concatenate(f0s) if f0s else np.zeros(0)
        doc = analyze_call(CallFileSpec(path), config)
        doc.pop("file", None)
        result[path.name] = {
            "events": events,
            "document": json.dumps(doc, sort_keys=True),
            "f0_sha": hashlib.sha256(f0.tobytes()).hexdigest(),
            "f0": f0.tolist(),
        }
    return result


def tree_with(files: list[str], commit: str, dest: Path) -> Path:
    """This tree's companion/ and resources/, with `files` as they were at `commit`."""
    for part in ("companion", "resources"):
        shutil.copytree(ROOT / part, dest / part, ignore=shutil.ignore_patterns("__pycache__"))
    for name in files:
        text = subprocess.run(["git", "-C", str(ROOT), "show", f"{commit}:{name}"], capture_output=True, check=True).stdout
        (dest / name).write_bytes(text)
    return dest


def run_in(tree: Path, work: Path, out: Path) -> dict[str, dict[str, object]]:
    env_code = (f"import sys; sys.path.insert(0, {str(tree)!r});"
                f"import runpy; sys.argv = ['x', '--dump', {str(out)!r}, '--work', {str(work)!r}];"
                f"runpy.run_path({str(Path(__file__).resolve())!r}, run_name='__main__')")
    subprocess.run([sys.executable, "-c", env_code], check=True, cwd=str(tree))
    return json.loads(out.read_text())


def compare(before: dict[str, dict[str, object]], after: dict[str, dict[str, object]]) -> bool:
    import numpy as np

    same = True
    events = frames = f0_same = 0
    worst = 0.0
    for name in before:
        b, a = before[name], after.get(name)
        if a is None:
            print(f"  {name}: missing after")
            same = False
            continue
        eb, ea = b["events"], a["events"]
        assert isinstance(eb, list) and isinstance(ea, list)
        events += len(eb)
        if eb != ea or b["document"] != a["document"]:
            same = False
            diff = next((k for k, (x, y) in enumerate(zip(eb, ea)) if x != y), min(len(eb), len(ea)))
            print(f"  {name}: DIFFERENT ({len(eb)} vs {len(ea)} events; first difference at {diff})")
            if diff < min(len(eb), len(ea)):
                print(f"    before: {eb[diff][:400]}\n    after:  {ea[diff][:400]}")
            elif b["document"] != a["document"]:
                print("    the analysis documents differ")
        fb, fa = np.asarray(b["f0"]), np.asarray(a["f0"])
        frames += fb.size
        if fb.shape == fa.shape:
            f0_same += int(np.count_nonzero(fb == fa))
            both = (fb > 0) & (fa > 0)
            if both.any():
                worst = max(worst, float(np.max(np.abs(12 * np.log2(fa[both] / fb[both])))))
        else:
            print(f"  {name}: f0 arrays differ in shape")
    print(f"{len(before)} calls, {events} events: {'every event identical' if same else 'EVENTS DIFFER'}; "
          f"f0 bit-identical on {f0_same} of {frames} frames (worst difference where both voiced {worst:.4f} st)")
    return same


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--against", metavar="COMMIT", help="compare this tree with itself, --files as at COMMIT")
    parser.add_argument("--files", nargs="*", default=SPEED_FILES)
    parser.add_argument("--trees", nargs=2, metavar=("BEFORE", "AFTER"), help="compare two copies of the app as they are")
    parser.add_argument("--dump", metavar="OUT", help="write this tree's events to OUT")
    parser.add_argument("--work", metavar="DIR", help="where the made calls are kept")
    args = parser.parse_args()
    if args.dump:
        work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="identity-calls-"))
        listed = work / "calls.json"
        paths = [Path(p) for p in json.loads(listed.read_text())] if listed.exists() else calls(work)
        import companion

        print(f"tree {Path(companion.__file__).parent.parent}: {len(paths)} calls", file=sys.stderr)
        Path(args.dump).write_text(json.dumps(dump(paths)))
        return
    if not args.against and not args.trees:
        parser.error("give --against COMMIT, --trees BEFORE AFTER or --dump OUT")
    with tempfile.TemporaryDirectory(prefix="identity-") as tmp:
        base = Path(tmp)
        work = base / "calls"
        work.mkdir()
        (work / "calls.json").write_text(json.dumps([str(p) for p in calls(work)]))
        if args.trees:
            ref, now = (Path(t).resolve() for t in args.trees)
        else:
            ref = tree_with(args.files, args.against, base / "ref")
            now = base / "now"
            for part in ("companion", "resources"):
                shutil.copytree(ROOT / part, now / part, ignore=shutil.ignore_patterns("__pycache__"))
        before = run_in(ref, work, base / "before.json")
        after = run_in(now, work, base / "after.json")
    raise SystemExit(0 if compare(before, after) else 1)


if __name__ == "__main__":
    main()
