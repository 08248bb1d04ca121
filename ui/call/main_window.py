"""The Call Companion window: banner, meters (with the customer's mood) and transcript on the left, the
step checklist on the right (with the offer of the Angry customer steps once the customer is upset),
Start/Stop and the line, model and recording status always visible, and a breather after a hard call.
It wires widgets to a `CallSession`; the pipeline runs on its own threads and reaches the widgets
through `EventBridge`; the speech model loads as a background task (ui/tasks.py). The toolbar and the
dialogs it opens are a `CallWindowController` (ui/call/window_controller.py); the team sync's state is on the
status bar."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Optional, Sequence

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMainWindow, QSplitter, QVBoxLayout, QWidget

from companion.asr.discovery import find_model, no_model_note, passed_over, passed_over_note
from companion.asr.engine import LoadedModel, load_model, model_root
from companion.config import CoachingConfig
from companion.demo import SCRIPT_LABEL, demo_recording, demo_script, transcribed_by
from companion.errors import CompanionError
from companion.events import (
    CallEnded,
    CustomerState,
    DeviceStatus,
    FinalSegment,
    MetricsSnapshot,
    MonitorFailed,
    PartialText,
    Prompt,
    SaveFailed,
    SavingResumed,
    StepTicked,
    StoringPaused,
    TranscriberFailed,
)
from companion.live import choose_devices
from companion.live_call import open_live_call
from companion.payment_cues import pause_notice
from companion.playbooks import Playbook
from companion.session import CallSession, auto_pause_settings
from ui.banner import IDLE_TEXT, CoachingBanner
from ui.breather import BreatherBar, breather_seconds, upset_seconds
from ui.bridge import EventBridge
from ui.call.checklist_panel import ChecklistPanel
from ui.call.meters import MetersPanel, pace_source_text  # noqa: F401 - pace_source_text: the window's words
from ui.call.mood_strip import MoodStrip
from ui.call.pause_banner import PauseBanner
from ui.call.playbook_offer import ANGRY_PLAYBOOK, PlaybookOffer
from ui.call.summary_dialog import SummaryDialog
from ui.call.sync_status import TeamSyncStatusBar
from ui.call.team_live_agent import TeamLiveAgent
from ui.call.transcript_view import TranscriptView
from ui.call.window_controller import PAUSE_TIP, CallWindowController
from ui.elided_label import ElidedLabel
from ui.tasks import Task, Tasks


class MainWindow(QMainWindow):
    def __init__(self, config: CoachingConfig, playbooks: list[Playbook], settings: QSettings,
                 model_path: Optional[Path] = None, use_model: bool = True, live_publisher=None):
        """`live_publisher`: a team live publisher already running (tests); otherwise one is started when this
        machine is connected to a team server as an agent."""
        super().__init__()
        self.setWindowTitle("Call Companion")
        self.config = config
        self.playbooks = {p.id: p for p in playbooks}
        self.settings = settings
        self.playbook = self.playbooks.get(str(settings.value("playbook", "")), playbooks[0])
        self.session: Optional[CallSession] = None
        self.model: Optional[LoadedModel] = None
        self.model_language: Optional[str] = None
        self.prompts: list[Prompt] = []
        self.customer_states: list[dict] = []  # this call's [{t, state}, ...]
        self.last_metrics: Optional[MetricsSnapshot] = None
        self.summary: Optional[SummaryDialog] = None
        self.demo_speed = 1.0
        self.bridge = EventBridge(self)
        self.bridge.event.connect(self.on_event)
        self.tasks = Tasks(self)
        self._loading: Optional[Task[LoadedModel]] = None

        self.banner = CoachingBanner()
        self.meters = MetersPanel()
        self._configure_meters()
        self.mood = MoodStrip()
        self.meters.add_row("Customer", self.mood)
        self.transcript = TranscriptView()
        self.checklist = ChecklistPanel(self.playbook, self._manual_tick)
        self.offer = PlaybookOffer()
        self.offer.chosen.connect(self.switch_playbook)
        self.checklist.layout().insertWidget(0, self.offer)
        self.breather = BreatherBar()
        self.breather.finished.connect(lambda: self.controller.set_idle(held=False))
        self.current_step = QLabel()
        self.current_step.setObjectName("currentStep")
        self.current_step.setWordWrap(True)
        self.current_step.setTextFormat(Qt.PlainText)  # a step title from a playbook, shown as written
        self.current_step.hide()
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.addWidget(self.breather)
        self.live = TeamLiveAgent(self, publisher=live_publisher)  # the team live: a supervisor's message, raise hand
        left_layout.addWidget(self.live.banner)  # above the coaching banner: where the agent looks
        left_layout.addWidget(self.banner)
        left_layout.addWidget(self.current_step)
        left_layout.addWidget(self.meters)
        self.transcript_source = QLabel(SCRIPT_LABEL)
        self.transcript_source.setObjectName("transcriptSource")
        self.transcript_source.setWordWrap(True)
        self.transcript_source.setStyleSheet("color: #5b6270; font-style: italic;")
        self.transcript_source.hide()
        left_layout.addWidget(self.transcript_source)
        left_layout.addWidget(self.transcript, 1)
        self.splitter = QSplitter(Qt.Horizontal)
        self.splitter.addWidget(left)
        self.splitter.addWidget(self.checklist)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.setCentralWidget(self.splitter)

        self.controller = CallWindowController(self)
        pause_key = self.controller.pause_action.shortcut().toString(QKeySequence.NativeText)
        self.pause_key = pause_key
        self.pause_banner = PauseBanner(lambda: self.controller.pause_action.trigger(), pause_key)
        left_layout.insertWidget(left_layout.indexOf(self.banner), self.pause_banner)  # above the cues, below a message
        self.controller.toolbar.addWidget(self.live.button)

        self.line_status = ElidedLabel("Lines: idle")  # the status bar: cut with "…", whole in the tooltip
        self.model_status = ElidedLabel("Model: looking…")
        self.recording_status = ElidedLabel("Not recording audio")
        self.pace_status = ElidedLabel("")
        self.pace_status.setObjectName("paceSource")
        self.message_status = ElidedLabel("")  # the status bar's passing message ("Storing again.", a line lost…)
        self.message_status.setObjectName("statusMessage")
        self._lay_out_status_bar()
        self.team_sync = TeamSyncStatusBar(self.statusBar(), self)  # hidden without a team connection
        self.team_sync.start()

        self._clock = QTimer(self)
        self._clock.timeout.connect(self._tick_clock)
        self._line_state = {"agent": "idle", "customer": "idle"}
        self.resize(900, 640)
        geometry = settings.value("geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        if use_model:
            self.load_model(model_path)
        else:
            self.use_no_model()
        if settings.value("compact", False, type=bool):
            self.controller.compact_action.setChecked(True)
            self.set_compact(True)

    # --- model ------------------------------------------------------------------------------
    def load_model(self, path: Optional[Path] = None) -> None:
        """Find the model for the calls' language and load it in the background; the window is usable meanwhile
        (a model still loading from an earlier choice is not used)."""
        if self._loading is not None:
            self._loading.cancel()
            self._loading = None
        language = self.config.asr.language
        try:
            candidate = find_model(path, language)
            root = model_root(candidate.path) if candidate is not None else None  # a clear error at once
        except CompanionError as exc:
            self._model_loaded(None, exc.message)
            return
        if candidate is None or root is None:
            unused = [passed_over_note(c, language) for c in passed_over(language)]
            self._model_loaded(None, no_model_note(language, "Setup…"), unused=unused)
            return

        def loaded(model: LoadedModel) -> None:
            self._loading = None
            self._model_loaded(model, f"{candidate.name} (loaded in {model.load_s:.1f} s)", candidate.language)

        def failed(exc: Exception) -> None:
            self._loading = None
            self._model_loaded(None, exc.message if isinstance(exc, CompanionError) else f"could not load ({exc})")

        self._loading = self.tasks.run(lambda: load_model(root), loaded, failed)
        self.model_status.setText(f"Model: loading {candidate.name}…")

    def use_no_model(self) -> None:
        """No transcription: coaching from the sound alone."""
        if self._loading is not None:
            self._loading.cancel()
            self._loading = None
        self._model_loaded(None, "none (acoustic coaching)")

    def _model_loaded(self, model: Optional[LoadedModel], message: str, language: Optional[str] = None,
                      unused: Sequence[str] = ()) -> None:
        self.model, self.model_language = model, language
        self.model_status.setText(f"Model: {message}")
        pause_tip = PAUSE_TIP + ("" if model is not None else " Without a speech model nothing hears a payment cue: "
                                                              "on real calls, pause by hand.")
        self.controller.pause_action.setToolTip(pause_tip)
        self.controller.pause_action.setStatusTip(pause_tip)
        self.model_status.setToolTip("\n".join(unused))
        passed = f" ({'; '.join(unused)}.)" if unused else ""
        self.transcript.set_placeholder(
            "The transcript appears here as both sides speak." if model is not None else
            f"No transcript without a speech model — coaching works from the audio. Setup… gets a model.{passed}")

    # --- calls ------------------------------------------------------------------------------
    @property
    def in_call(self) -> bool:
        return self.session is not None and not self.session.ended.is_set()

    def toggle_call(self) -> None:
        if self.in_call:
            self.stop_call()
        else:
            self.start_call(demo=False)

    def start_call(self, demo: bool = False, recording: Optional[Path] = None) -> None:
        """A real call, or (`demo`) the demo call played through the live pipeline, or `recording`
        (a two-channel file) played as the demo is. Held while the breather after a hard call runs."""
        if self.in_call or self.breather.running:
            return
        demo = demo or recording is not None
        script = None
        if demo and recording is None:
            script = demo_script()
            if transcribed_by(self.model_language, script):
                script = None  # a model in the demo's language transcribes it for real
        model = self.model if script is None else None  # never a model in another language than the call's
        try:
            devices = None if demo else choose_devices(None, None)
        except CompanionError as exc:
            self.show_problem("error", exc.message)
            return
        # wired as `companion live` wires it (companion.live_call): the window and the team live follow the call from
        # its first event; a real call is kept, and its audio when Settings say so (with the consent notice). The
        # demo is no call of the agent's: it is neither kept nor shown on the supervisors' live floor.
        followers = (lambda s: self.bridge.attach(s.bus),) if demo else \
            (lambda s: self.bridge.attach(s.bus), self.live.follow)
        session = open_live_call(self.config, self.playbook, model, keep=not demo, on_consent=self._consent,
                                 follow=followers)
        self.transcript.model.configure(self.config.privacy.redact, self.config.privacy.show_digits)
        self.transcript.model.clear()
        self.transcript_source.setVisible(script is not None)
        self.checklist.set_playbook(self.playbook)  # the chosen playbook again, whatever the last call switched to
        self.offer.reset()
        self.mood.reset()
        self.prompts, self.customer_states = [], []
        self.last_metrics = None
        try:
            if demo:
                session.start_demo(recording or demo_recording(), speed=self.demo_speed, script=script)
                self._set_lines("demo call", "demo call")
            else:
                session.start_live(devices)
        except CompanionError as exc:
            self.bridge.detach()
            self.live.idle()
            session.close()
            self.recording_status.setText("Not recording audio")
            self.show_problem("error", exc.message)
            return
        self.session = session
        self.controller.call_started()
        self._clock.start(250)

    def _consent(self, notice: str) -> None:
        self.recording_status.setText("Recording audio")
        self.statusBar().showMessage(notice, 20000)

    def stop_call(self) -> None:
        if self.session is not None:
            self.session.stop()  # the session finishes the call and its store on its own thread
            self.controller.call_stopping()

    def _call_ended(self, event: CallEnded) -> None:
        self._clock.stop()
        self.offer.hide()
        upset_s = upset_seconds(self.customer_states, event.duration_s)
        hold_s = breather_seconds(self.settings) if upset_s is not None else 0
        if hold_s:
            self.breather.start(hold_s)  # Start call and the demo wait (or Skip)
        self.controller.call_ended(held=self.breather.running)
        self._set_lines("idle", "idle")
        self.meters.lines_idle()
        self.mood.call_over()
        self._storing_resumed()  # a call that ended paused: nothing more is stored anyway
        steps = self.checklist.playbook.steps  # the playbook the call ended with
        done = sum(1 for s in steps if self.checklist.is_done(s.id))
        summary = SummaryDialog(event.duration_s, self.last_metrics, self.prompts, done, len(steps), self,
                                customer_states=self.customer_states, upset_s=upset_s, hold_s=hold_s,
                                playbook=self.checklist.playbook, ticks=self.checklist.call_ticks())
        summary.setAttribute(Qt.WA_DeleteOnClose)  # gone once the agent is done with it: a shift's summaries never pile up
        self.summary = summary
        summary.finished.connect(lambda _result: self.live.idle())  # the call's wrap-up is over: idle until the next call
        recorder = self.session.recorder if self.session is not None else None
        if recorder is not None:  # this call's notes, from this call's summary (another may be open by then)
            summary.accepted.connect(lambda: self._save_notes(recorder.call_id, summary.notes.toPlainText()))
        summary.show()

    def _save_notes(self, call_id: int, text: str) -> None:
        from companion.store.calls import save_root_cause

        try:
            save_root_cause(call_id, text, self.config.privacy.redact)
        except CompanionError as exc:
            self.show_problem("error", exc.message)

    def pause_storing(self, paused: bool) -> None:
        """Pause for payment (the toolbar button, Ctrl+P): nothing said is stored until resumed. The session says
        so as a StoringPaused, which the window shows (`_storing_paused`), as it shows the automatic pause."""
        if self.session is not None and self.in_call:
            self.session.pause_storing(paused)

    def _storing_paused(self, event: StoringPaused) -> None:
        """Paused (by the key or by itself on a payment cue): a banner saying so and how to resume, the pause
        button pressed, the empty cue area saying coaching goes on; resumed: all gone, and the status bar says so."""
        resume_s = auto_pause_settings(self.config, self.checklist.playbook).auto_resume_s
        notice = pause_notice(event, self.pause_key, resume_s)
        self.controller.pause_action.setChecked(event.paused)  # setChecked does not trigger: no echo to the session
        if event.paused:
            self.pause_banner.show_notice(notice)
            self.banner.set_idle_text("Paused for payment — coaching from the sound goes on")
            self.recording_status.setText("Paused for payment")
            self.recording_status.setToolTip(notice)
        else:
            self._storing_resumed()
            self.statusBar().showMessage(notice, 15000)

    def _storing_resumed(self) -> None:
        self.pause_banner.clear()
        self.banner.set_idle_text(IDLE_TEXT)
        self.recording_status.setToolTip("")
        self.recording_status.setText("Recording audio" if self.config.privacy.record_audio and self.session is not None
                                      and self.session.recorder is not None and self.in_call else "Not recording audio")

    def _lay_out_status_bar(self) -> None:
        """The status labels from the bar's left edge, the passing message first while there is one: one row of
        the bar's whole width (Qt keeps its left part for the message and sets the lasting labels at the right,
        which left a gap at the left whenever no message showed). The message is the bar's own (`showMessage`,
        `currentMessage`), shown in a label of this row."""
        bar = self.statusBar()
        row = QWidget()
        row.setObjectName("statusRow")
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(12)
        layout.addWidget(self.message_status, 1)
        for label in (self.message_status, self.line_status, self.model_status, self.pace_status, self.recording_status):
            label.setTextFormat(Qt.PlainText)  # model names, folders and error messages, shown as written
            if label is not self.message_status:
                layout.addWidget(label)
        layout.addStretch(0)
        self.message_status.hide()
        bar.addPermanentWidget(row, 1)  # the whole bar: Qt paints no message of its own beside it
        bar.messageChanged.connect(self._status_message)

    def _status_message(self, text: str) -> None:
        self.message_status.setText(text)
        self.message_status.setVisible(bool(text))

    def _tick_clock(self) -> None:
        if self.session is not None:
            self.meters.update_clock(self.session.now())

    # --- events from the pipeline (GUI thread) ---------------------------------------------------
    def on_event(self, event: object) -> None:
        if not isinstance(event, (PartialText, FinalSegment)):
            self.transcript.model.heard(event)  # the call's clock: a line the store may still rewrite is decided
        handler = _ON_EVENT.get(type(event))
        if handler is not None:
            handler(self, event)

    def _on_prompt(self, event: Prompt) -> None:
        self.prompts.append(event)
        self.banner.show_prompt(event.kind, event.reason)

    def _on_partial(self, event: PartialText) -> None:
        self.transcript.model.partial(event)

    def _on_final(self, event: FinalSegment) -> None:
        self.transcript.model.final(event)

    def _on_metrics(self, event: MetricsSnapshot) -> None:
        self.last_metrics = event
        self.meters.update_metrics(event)
        self.mood.update_metrics(event)
        self.pace_status.setText(pace_source_text(event))

    def _on_step(self, event: StepTicked) -> None:
        self.checklist.apply(event)
        self._show_current_step()

    def _on_device(self, event: DeviceStatus) -> None:
        self._line_state[event.party] = event.status
        self._set_lines(self._line_state["agent"], self._line_state["customer"])
        if event.status in ("lost", "overflow"):
            self.show_problem("device", event.message)

    def _on_saving_resumed(self, event: SavingResumed) -> None:
        self.statusBar().showMessage(event.message, 15000)  # good news: no banner

    def _on_failure(self, event: MonitorFailed | TranscriberFailed | SaveFailed) -> None:
        self.show_problem("error", event.message)

    # --- the customer's mood, and the Angry customer steps -------------------------------------
    def _customer_state(self, event: CustomerState) -> None:
        self.customer_states.append({"t": event.t, "state": event.state})
        self.mood.set_state(event.t, event.state)
        angry = self.playbooks.get(ANGRY_PLAYBOOK)
        if event.state == "upset" and angry is not None and self.in_call:
            self.offer.offer(angry, self.checklist.playbook)  # once a call, and only ever on the agent's click

    def choose_playbook(self, playbook_id: str) -> None:
        """Setup's choice, from the playbooks on disk now: the next call's (and the checklist's, between calls)."""
        from companion.playbooks import all_playbooks

        playbooks, _ = all_playbooks()
        self.playbooks = {p.id: p for p in playbooks}
        self.playbook = self.playbooks.get(playbook_id, self.playbook)
        self.settings.setValue("playbook", self.playbook.id)
        if not self.in_call:
            self.checklist.set_playbook(self.playbook)

    def switch_playbook(self, playbook: Playbook) -> None:
        """The checklist (and the session's tracker, and the saved call) follow `playbook` for the rest of this
        call; steps already done stay done where the step ids match. The next call starts from Setup's choice."""
        ticks = self.session.switch_playbook(playbook) if self.in_call else []
        self.checklist.set_playbook(playbook, ticks)
        self._show_current_step()

    def show_problem(self, kind: str, message: str) -> None:
        self.banner.show_prompt(kind, message)
        self.statusBar().showMessage(message, 15000)

    def _set_lines(self, agent: str, customer: str) -> None:
        self._line_state = {"agent": agent, "customer": customer}
        self.line_status.setText(f"Lines: {agent}" if agent == customer else f"You: {agent} · Customer: {customer}")

    def _manual_tick(self, step_id: str, done: bool) -> None:
        if self.session is not None and self.in_call:
            self.session.tick(step_id, done)  # echoed back as StepTicked
        self._show_current_step()

    def _show_current_step(self) -> None:
        current = self.checklist.current
        self.current_step.setText("All steps done" if current is None
                                  else f"Now: {self.checklist.playbook.step(current).title}")

    # --- compact mode, settings --------------------------------------------------------
    def set_compact(self, compact: bool) -> None:
        """A narrow always-on-top strip: the banner, the current step and the meters."""
        self.settings.setValue("compact", compact)
        if compact:
            self._full_geometry = self.saveGeometry()
            self.transcript.hide()
            self.checklist.hide()
            self.current_step.show()
            self._show_current_step()
            self.setWindowFlag(Qt.WindowStaysOnTopHint, True)
            self.resize(380, 330)
        else:
            self.transcript.show()
            self.checklist.show()
            self.current_step.hide()
            self.setWindowFlag(Qt.WindowStaysOnTopHint, False)
            if getattr(self, "_full_geometry", None) is not None:
                self.restoreGeometry(self._full_geometry)
            else:
                self.resize(900, 640)
        self.show()

    def apply_config(self, config: CoachingConfig) -> None:
        self.config = config
        self._configure_meters()
        if self.session is not None:
            self.session.set_coach_config(config)

    def _configure_meters(self) -> None:
        rule = self.config.coach.slow_down
        self.meters.configure(rule.target_wpm, rule.wpm_above, self.config.coach.lower_tone.loudness_above_db)

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        self.team_sync.stop()
        self.live.stop()
        self.tasks.close()
        if not self.controller.compact_action.isChecked():
            self.settings.setValue("geometry", self.saveGeometry())
        if self.in_call:  # the end of the call is kept: last words, the store, the audio file
            self.bridge.detach()  # no summary for a window that is going away
            self.session.close()
        super().closeEvent(event)


# What the window does with each event of the call's bus (GUI thread); events not listed only move its clock.
_ON_EVENT: dict[type, Callable[[MainWindow, Any], None]] = {
    Prompt: MainWindow._on_prompt,
    PartialText: MainWindow._on_partial,
    FinalSegment: MainWindow._on_final,
    MetricsSnapshot: MainWindow._on_metrics,
    CustomerState: MainWindow._customer_state,
    StepTicked: MainWindow._on_step,
    DeviceStatus: MainWindow._on_device,
    StoringPaused: MainWindow._storing_paused,
    SavingResumed: MainWindow._on_saving_resumed,
    MonitorFailed: MainWindow._on_failure,
    TranscriberFailed: MainWindow._on_failure,
    SaveFailed: MainWindow._on_failure,
    CallEnded: MainWindow._call_ended,
}
