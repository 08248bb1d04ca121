"""Transcription cost and latency with the real Vosk engine (Korean model: the only one on this machine).

Run by hand:  python bench/bench_transcription.py

- real-time factor for one party alone, and for both parties at once through the pipeline;
- latency from the end of a spoken word to its first appearance in a partial result, audio paced
  in real time in 100 ms pieces: Vosk fed directly (the engine's floor) and through our pipeline;
- memory with the model loaded.
"""

from __future__ import annotations

import dataclasses
import json
import resource
import statistics
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import soundfile as sf  # noqa: E402

from companion.asr.discovery import find_model  # noqa: E402
from companion.asr.engine import load_model, recognizer  # noqa: E402
from companion.audio.file_source import CallFileSpec, FileCallSource  # noqa: E402
from companion.config import load_config  # noqa: E402
from companion.events import PartialText  # noqa: E402
from companion.pipeline import CallPipeline  # noqa: E402
from tests import scenarios  # noqa: E402
from tests.callgen import Script, render  # noqa: E402

CHUNK_S = 0.1


def long_korean_call(repeats: int = 4) -> Script:
    base = scenarios.korean_call()
    lines = []
    for r in range(repeats):
        for i, say in enumerate(base.lines):
            lines.append(dataclasses.replace(say, at=None, gap=0.8) if (i == 0 and r) else say)
    return dataclasses.replace(base, name=f"korean_x{repeats}", lines=lines)


def first_seen_latencies(events: list[tuple[float, list[tuple[float, float]]]], t0: float) -> list[float]:
    """events: (wall time, [(word start, word end) in stream seconds]) per partial; latency of each word's
    first appearance after its end was heard."""
    seen: set[float] = set()
    out = []
    for wall, words in events:
        for start, end in words:
            key = round(start, 1)
            if key in seen:
                continue
            seen.add(key)
            out.append(wall - (t0 + end))
    return out


def direct_vosk_latency(model, audio, rate) -> list[float]:
    rec = recognizer(model, rate)
    step = int(rate * CHUNK_S)
    events = []
    t0 = time.monotonic()
    for i in range(0, len(audio), step):
        due = t0 + (i + step) / rate
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        chunk = (audio[i : i + step] * 32767).astype("int16").tobytes()
        if rec.AcceptWaveform(chunk):
            rec.Result()
        else:
            partial = json.loads(rec.PartialResult())
            words = [(w["start"], w["end"]) for w in partial.get("partial_result", [])]
            if words:
                events.append((time.monotonic(), words))
    return first_seen_latencies(events, t0)


def pipeline_latency(config, model, wav) -> list[float]:
    config = dataclasses.replace(config, audio=dataclasses.replace(config.audio, file_block_frames=int(CHUNK_S / config.audio.frame_s)))
    pipeline = CallPipeline(config, model=model)
    events = []
    lock = threading.Lock()

    def on_event(event):
        if isinstance(event, PartialText) and event.party == "agent" and event.words:
            with lock:
                events.append((time.monotonic(), [(w.start, w.end) for w in event.words]))

    pipeline.bus.subscribe(on_event)
    pipeline.start()
    source = FileCallSource(CallFileSpec(wav), config.audio, realtime=True)
    t0 = time.monotonic()
    for block in source.blocks():
        pipeline.offer(block)
    pipeline.finish()
    return first_seen_latencies(events, t0)


def main() -> None:
    config = load_config(use_user_default=False)
    wav, truth = render(long_korean_call(), HERE / "out", HERE / "out" / "cache")
    duration = truth.duration_s
    found = find_model(None, "ko")
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    model = load_model(found.path)
    rss_loaded = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"model {found.name}: loaded in {model.load_s:.2f} s; max RSS {rss_before:.0f} MB before, {rss_loaded:.0f} MB after")

    data, rate = sf.read(str(wav), dtype="float32")
    agent = data[:, 0]
    rec = recognizer(model, rate)
    start = time.perf_counter()
    step = rate // 2
    for i in range(0, len(agent), step):
        if rec.AcceptWaveform((agent[i : i + step] * 32767).astype("int16").tobytes()):
            rec.Result()
    rec.FinalResult()
    one = (time.perf_counter() - start) / duration
    print(f"one party alone: {one:.3f} of real time ({duration:.0f} s of audio)")

    start = time.perf_counter()
    CallPipeline(config, model=model).run(FileCallSource(CallFileSpec(wav), config.audio).blocks())
    both = (time.perf_counter() - start) / duration
    print(f"both parties at once through the pipeline (analysis, in step): {both:.3f} of real time")
    print(f"max RSS after two recognisers: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")

    direct = direct_vosk_latency(model, agent, rate)
    ours = pipeline_latency(config, model, wav)
    for label, values in (("Vosk fed directly", direct), ("through the pipeline", ours)):
        q = statistics.quantiles(values, n=10)
        print(f"word end -> first partial, {label}: median {statistics.median(values) * 1000:.0f} ms, "
              f"p90 {q[-1] * 1000:.0f} ms ({len(values)} words)")
    print(f"pipeline adds {(statistics.median(ours) - statistics.median(direct)) * 1000:.0f} ms at the median")


if __name__ == "__main__":
    main()
