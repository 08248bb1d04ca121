"""Typed events: every event the bus carries is in the `Event` union, and has its entry in the events
file's table and the store's; the status fields are enums whose values are the strings the events
file and the store write; a live call is wired in one place (companion.live_call)."""

from __future__ import annotations

import dataclasses
import json
import sqlite3

import pytest

import companion.events as events
from companion.config import load_config
from companion.demo import demo_recording, demo_script
from companion.event_json import TO_JSON, event_to_json
from companion.events import (
    EVENT_TYPES,
    CallEnded,
    CallStarted,
    CustomerState,
    DeviceStatus,
    FinalSegment,
    LineStatus,
    MetricsSnapshot,
    Mood,
    PaceSource,
    StepTicked,
    StoringPaused,
    TickSource,
    Turn,
)
from companion.live_call import open_live_call
from companion.playbooks import find_playbook
from companion.store.db import store_path
from companion.store.recorder import ROWS
from companion.store.recording import CONSENT_REMINDER

DATA_NOT_EVENTS = {events.FrameBlock, events.Word}  # what events are made of, never on the bus themselves


def test_every_event_dataclass_is_in_the_event_union():
    declared = {obj for obj in vars(events).values()
                if isinstance(obj, type) and dataclasses.is_dataclass(obj) and obj.__module__ == events.__name__}
    assert declared - DATA_NOT_EVENTS == set(EVENT_TYPES)


def test_every_event_type_has_its_line_in_the_events_file_table_and_its_rule_in_the_store():
    assert [t.__name__ for t in EVENT_TYPES if t not in TO_JSON] == []
    assert [t.__name__ for t in EVENT_TYPES if t not in ROWS] == []


def test_the_status_enums_are_the_strings_the_events_file_and_the_store_write():
    assert [m.value for m in PaceSource] == ["acoustic", "asr"]
    assert [m.value for m in Mood] == ["calm", "tense", "upset"] == list(events.CUSTOMER_STATES)
    assert {m.value for m in LineStatus} == {"capturing", "lost", "retrying", "recovered", "overflow"}
    assert [m.value for m in TickSource] == ["auto", "manual"]
    device = DeviceStatus(1.0, "customer", "lost", "Softphone", "The customer line is silent.")
    assert device.status is LineStatus.LOST  # a string given is its member
    assert json.dumps(event_to_json(device)) == ('{"t": 1.0, "type": "device", "party": "customer", "status": "lost", '
                                                 '"device": "Softphone", "message": "The customer line is silent."}')
    assert json.dumps(event_to_json(CustomerState(2.5, Mood.UPSET))) == \
        '{"t": 2.5, "type": "customer_state", "state": "upset"}'
    assert StepTicked(3.0, "greet", "Greet", "manual").source is TickSource.MANUAL
    assert CallEnded(10.0, 0).pace_source is PaceSource.ACOUSTIC
    with pytest.raises(ValueError):
        DeviceStatus(1.0, "agent", "unplugged", "Headset", "?")  # a status nobody reads is refused where it is made


def test_a_live_call_wired_once_is_kept_written_and_said_and_each_of_its_events_has_its_entries(tmp_path):
    config = load_config(use_user_default=False)
    config = dataclasses.replace(config, privacy=dataclasses.replace(config.privacy, record_audio=True))
    seen: list[object] = []
    said: list[str] = []
    target = tmp_path / "events.jsonl"
    session = open_live_call(config, find_playbook(None), None, events_file=str(target), subscribers=[seen.append],
                             on_consent=said.append)
    session.start_demo(demo_recording(), speed=30.0, script=demo_script())
    session.pause_storing(True)
    session.pause_storing(False)
    assert session.ended.wait(90)

    assert said == [CONSENT_REMINDER]  # recording on: the consent notice, once
    kinds = {type(e) for e in seen}
    assert {CallStarted, Turn, MetricsSnapshot, FinalSegment, StepTicked, StoringPaused, CallEnded} <= kinds
    assert [k.__name__ for k in kinds if k not in EVENT_TYPES] == []
    assert [k.__name__ for k in kinds if k not in TO_JSON or k not in ROWS] == []

    recorder = session.recorder
    assert recorder is not None and recorder.complete and recorder.failed is None
    db = sqlite3.connect(store_path())
    status, pace_source, recording = db.execute("SELECT status, pace_source, recording FROM calls WHERE id = ?",
                                                (recorder.call_id,)).fetchone()
    assert status == "complete" and pace_source in {"acoustic", "asr"} and recording
    assert db.execute("SELECT count(*) FROM ticks WHERE call_id = ? AND source = 'auto'", (recorder.call_id,)).fetchone()[0] > 0

    lines = [json.loads(line) for line in target.read_text().splitlines()]
    assert lines[-1]["type"] == "call_end"
    assert {line["pace_source"] for line in lines if line["type"] == "metrics"} <= {"acoustic", "asr"}
    assert [line["paused"] for line in lines if line["type"] == "pause"] == [True, False]
