"""`companion analyze`: a recorded call through the live pipeline, as fast as it goes."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

from companion.asr.engine import LoadedModel
from companion.audio.file_source import CallFileSpec, FileCallSource
from companion.bus import Subscriber
from companion.config import CoachingConfig
from companion.errors import AudioInputError
from companion.heap import reuse_freed_memory
from companion.pipeline import CallPipeline
from companion.report import ReportCollector


def analyze_call(
    spec: CallFileSpec | FileCallSource, config: CoachingConfig, model: Optional[LoadedModel] = None, realtime: bool = False,
    subscribers: tuple[Subscriber, ...] = (),
) -> dict[str, Any]:
    """Run the call pipeline over a recording (transcribing with `model` if given); returns the analysis document.

    `spec` may be an already opened source, so bad input is reported before a model is loaded."""
    reuse_freed_memory()  # each block's arrays reuse the last one's memory rather than faulting in new pages
    source = spec if isinstance(spec, FileCallSource) else FileCallSource(spec, config.audio, realtime=realtime)
    spec = source.spec
    pipeline = CallPipeline(config, model=model)
    collector = ReportCollector(redaction=config.privacy.redact)   # the printed turns as the store keeps them
    pipeline.bus.subscribe(collector)
    for subscriber in subscribers:  # e.g. a CallRecorder saving the call as it goes
        pipeline.bus.subscribe(subscriber)
    pipeline.run(source.blocks())
    if not collector.turns:
        raise AudioInputError(f"No speech found in {Path(spec.path).name}: the recording is silent or holds only noise.")
    return collector.to_json(
        file=str(spec.path),
        duration_s=source.duration_s,
        agent_wpm=pipeline.monitor.whole_call_wpm(),
        pace_source=pipeline.monitor.pace_source,
    )
