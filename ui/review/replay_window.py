"""Supervisor replay: the call on a timeline (both parties' turns, the customer's mood, prompt and
interruption markers, the pace curve and the volume), a playhead the transcript follows (the
customer's mood there beside the clock), the prompts and comments listed beside the transcript,
the recorded audio when there is one (or the prompts replayed in time without it), next/previous
prompt, 1×/1.5×/2×, and comments."""

from __future__ import annotations

import sqlite3
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Optional

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from companion.prompt_kinds import prompt_kind
from companion.store.calls import load_call
from companion.store.queries import prompt_ids, recording_of
from companion.store.rows import CallRows
from companion.timeline import speech_without_text
from ui.accessibility import describe_all
from ui.banner import CoachingBanner
from ui.review import replay_mood
from ui.review.replay_banner import HOLD_S, banner_at, banner_moments
from ui.review.replay_timeline import MESSAGE_COLOUR, Timeline
from ui.style import PARTY_COLOURS, PARTY_NAMES, clock
from ui.tasks import Tasks

AUTHOR = "supervisor"  # who the comments added here are by
COMMENT_COLOUR = "#5f6368"


def transcript_lines(doc: dict) -> list[dict]:
    """The transcript's segments, or, without a transcript, each turn with who spoke and how long."""
    if doc["call"]["segments"]:
        return [dict(s, said=True) for s in doc["call"]["segments"]]
    return [dict(t, text=speech_without_text(t["party"], t["start"], t["end"]), said=False) for t in doc["turns"]]


def line_text(line: dict) -> str:
    if line["said"]:
        return f"{PARTY_NAMES[line['party']]}  {clock(line['start'])}   {line['text']}"
    return f"{clock(line['start'])}   {line['text']}"  # the words already say who spoke


def moments(doc: dict) -> list[dict]:
    """The prompts, comments and supervisors' messages in time order: {t, text, colour, prompt (its index, or None)}."""
    prompts = [{"t": p["t"], "prompt": n, "colour": prompt_kind(p["kind"]).colour,
                "text": f"{clock(p['t'])}  {prompt_kind(p['kind']).label} — {p['reason']}"}
               for n, p in enumerate(doc["prompts"])]
    comments = [{"t": c["t"], "prompt": None, "colour": COMMENT_COLOUR, "text": f"{clock(c['t'])}  {_comment(c)}"}
                for c in doc["call"]["comments"]]
    comments += [{"t": m["t"], "prompt": None, "colour": MESSAGE_COLOUR,  # the team live's: sent during the call
                  "text": f"{clock(m['t'])}  Message from supervisor {m['sender']}: {m['text']}"}
                 for m in doc["call"].get("supervisor_messages") or []]
    return sorted(prompts + comments, key=lambda m: (m["t"], m["prompt"] is None))


def _comment(c: dict) -> str:
    author = c.get("author")
    return f"Comment ({author}): {c['text']}" if author else f"Comment: {c['text']}"


def _swatch(colour: str, filled: bool) -> QIcon:
    pixmap = QPixmap(12, 12)
    pixmap.fill(Qt.transparent)
    painter = QPainter(pixmap)
    painter.setPen(QColor(colour))
    painter.setBrush(QColor(colour) if filled else Qt.NoBrush)
    painter.drawRect(1, 1, 9, 9)
    painter.end()
    return QIcon(pixmap)


def _plain_label(text: str) -> QLabel:
    label = QLabel(text)
    label.setTextFormat(Qt.PlainText)
    return label


class ReplayWindow(QWidget):
    NO_RECORDING = "No recording: the prompts replay in time"

    def __init__(self, doc: dict, recording: Optional[Path] = None,
                 save_comment: Optional[Callable[[float, Optional[int], str], Optional[str]]] = None, parent=None):
        super().__init__(parent)
        self.doc = doc
        self.recording = recording if recording and Path(recording).exists() else None
        self.save_comment = save_comment
        self.setWindowTitle(f"Replay — call {doc['call']['id']} ({doc['call']['started_at']})")
        self.resize(1100, 760)
        self._build()
        self._lay_out()
        self.lines = transcript_lines(doc)
        for line in self.lines:
            item = QListWidgetItem(line_text(line))
            item.setForeground(QColor(PARTY_COLOURS[line["party"]]))
            self.transcript.addItem(item)
        self.show_moments()
        self.position = 0.0
        self._show_mood()
        self._timer = QTimer(self)
        self._timer.setInterval(50)
        self._timer.timeout.connect(self._advance)
        self._last_tick = 0.0
        self._shown_prompts: set[int] = set()
        self.tasks = Tasks(self)  # the recording read from the playhead on (an hour of audio is not read here)
        self._audio_asked = 0     # the latest read asked for: one answered after a stop or a seek is not played
        self._connect()

    def _build(self) -> None:
        self.timeline = Timeline(self.doc)
        self.banner = CoachingBanner(hold_ms=int(HOLD_S * 1000))
        self.play = QPushButton("Play")
        self.prev = QPushButton("◀ Prompt")
        self.next = QPushButton("Prompt ▶")
        self.speed = QComboBox()
        for label, value in (("1×", 1.0), ("1.5×", 1.5), ("2×", 2.0)):
            self.speed.addItem(label, value)
        self.clock = _plain_label("00:00")
        self.mood_now = _plain_label("")  # the customer's mood at the playhead
        self.transcript = QListWidget()
        self.moments = QListWidget()  # prompts and comments, in time order
        for view in (self.transcript, self.moments):
            view.setWordWrap(True)
        self.comment = QLineEdit()
        self.comment.setPlaceholderText("Coaching comment at the playhead (attached to a prompt within 2 s)")
        self.add_comment = QPushButton("Add comment")
        describe_all(
            (self.play, "Play", "Play the call from the playhead, or pause it"),
            (self.prev, "Previous prompt", "Move the playhead to the prompt before it"),
            (self.next, "Next prompt", "Move the playhead to the next prompt"),
            (self.speed, "Speed", "How fast the call plays"),
            (self.transcript, "Transcript", "What both sides said; choosing a line moves the playhead there"),
            (self.moments, "Prompts and comments", "The call's prompts and coaching comments in time order"),
            (self.comment, "Comment", "A coaching comment at the playhead"),
            (self.add_comment, "Add comment", "Keep the comment with the call at the playhead"))

    def _lay_out(self) -> None:
        controls = QHBoxLayout()
        for w in (self.play, self.prev, self.next, self.speed, self.clock, self.mood_now):
            controls.addWidget(w)
        controls.addStretch(1)
        controls.addWidget(_plain_label("With the recorded audio" if self.recording else self.NO_RECORDING))
        splitter = QSplitter(Qt.Horizontal)
        no_text = "" if self.doc["call"]["segments"] else " (no transcript: who spoke, and how long)"
        splitter.addWidget(self._titled("Transcript" + no_text, self.transcript))
        splitter.addWidget(self._titled("Prompts and comments", self.moments))
        splitter.setSizes([600, 400])
        comment_row = QHBoxLayout()
        comment_row.addWidget(self.comment, 1)
        comment_row.addWidget(self.add_comment)
        layout = QVBoxLayout(self)
        layout.addWidget(self.banner)
        layout.addWidget(self.timeline)
        layout.addLayout(controls)
        layout.addWidget(splitter, 1)
        layout.addLayout(comment_row)

    @staticmethod
    def _titled(title: str, view: QWidget) -> QWidget:
        pane = QWidget()
        column = QVBoxLayout(pane)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(_plain_label(title))
        column.addWidget(view, 1)
        return pane

    def _connect(self) -> None:
        self.play.clicked.connect(self.toggle)
        self.prev.clicked.connect(lambda: self.jump_prompt(-1))
        self.next.clicked.connect(lambda: self.jump_prompt(+1))
        self.timeline.seek.connect(self.seek)
        self.timeline.prompt_clicked.connect(self.go_to_prompt)
        self.moments.itemClicked.connect(self._moment_clicked)
        self.moments.itemActivated.connect(self._moment_clicked)
        self.transcript.itemClicked.connect(lambda item: self.seek(self.lines[self.transcript.row(item)]["start"]))
        self.add_comment.clicked.connect(self.comment_here)
        self.comment.returnPressed.connect(self.comment_here)
        self.speed.currentIndexChanged.connect(lambda *_: self._restart_audio())

    def show_moments(self) -> None:
        self.moments.clear()
        for moment in moments(self.doc):
            item = QListWidgetItem(_swatch(moment["colour"], moment["prompt"] is not None), moment["text"])
            item.setData(Qt.UserRole, (moment["t"], moment["prompt"]))
            self.moments.addItem(item)

    def _moment_clicked(self, item: QListWidgetItem) -> None:
        t, prompt = item.data(Qt.UserRole)
        if prompt is None:
            self.seek(t)
        else:
            self.go_to_prompt(prompt)

    @classmethod
    def from_store(cls, db: sqlite3.Connection, call_id: int) -> "ReplayWindow":
        """The saved call `call_id`, read now (History reads it as a background task, then calls `saved`)."""
        return cls.saved(db, call_id, load_call(db, call_id), recording_of(db, call_id), prompt_ids(db, call_id))

    @classmethod
    def saved(cls, db: sqlite3.Connection, call_id: int, doc: dict, recording: Optional[str],
              prompts: list[int]) -> "ReplayWindow":
        """A saved call already read (`doc`, its recording's path, its prompts' ids); comments added are
        written to `db`, on the GUI thread."""

        def save(t: float, prompt_id: Optional[int], text: str) -> str:
            rows = CallRows(db, call_id)
            with db:
                rows.comment(t, AUTHOR, text, datetime.now(timezone.utc).isoformat(timespec="seconds"), prompt_id)
            return rows.text(text)  # as stored: redacted

        window = cls(doc, Path(recording) if recording else None, save)
        window.prompt_ids = prompts
        return window

    prompt_ids: list = []

    # --- playback -------------------------------------------------------------------------
    def toggle(self) -> None:
        if self._timer.isActive():
            self._timer.stop()
            self._stop_audio()
            self.play.setText("Play")
        else:
            self._last_tick = time.monotonic()
            self._timer.start()
            self._start_audio()
            self.play.setText("Pause")

    def _advance(self) -> None:
        now = time.monotonic()
        step = (now - self._last_tick) * self.speed.currentData()
        self._last_tick = now
        self.seek(self.position + step, from_playback=True)
        if self.position >= self.doc["duration_s"]:
            self.toggle()

    def seek(self, t: float, from_playback: bool = False) -> None:
        previous, self.position = self.position, max(0.0, min(t, self.doc["duration_s"]))
        self.timeline.set_position(self.position)
        self.clock.setText(clock(self.position))
        self._show_mood()
        if from_playback:  # prompts and messages replay as they happened
            for n, (t, kind, words) in enumerate(banner_moments(self.doc)):
                if previous < t <= self.position and n not in self._shown_prompts:
                    self._shown_prompts.add(n)
                    self.banner.show_prompt(kind, words)
            self._idle_text(banner_at(self.doc, self.position).idle_text)
        else:
            self._show_banner_here()
        row = self.current_line()
        if row is not None:
            self.transcript.setCurrentRow(row)
            self.transcript.scrollToItem(self.transcript.item(row), QListWidget.PositionAtCenter)
        if not from_playback:
            self._shown_prompts = {n for n, (t, *_) in enumerate(banner_moments(self.doc)) if t <= self.position}
            if self._timer.isActive():
                self._restart_audio()

    def _show_banner_here(self) -> None:
        """The banner as the call showed it at the playhead (after a seek: never what it held before)."""
        state = banner_at(self.doc, self.position)
        self._idle_text(state.idle_text)
        if state.kind is None:
            self.banner.clear()
        elif (self.banner.kind, self.banner.reason.text()) != (state.kind, state.reason):
            self.banner.show_prompt(state.kind, state.reason)

    def _idle_text(self, text: str) -> None:
        if text != self.banner.idle_text:  # not every tick: the empty banner is restyled when its text is set
            self.banner.set_idle_text(text)

    def _show_mood(self) -> None:
        text, colour = replay_mood.now_text(self.doc, self.position)
        if text != self.mood_now.text():
            self.mood_now.setText(text)
            self.mood_now.setStyleSheet(f"QLabel {{ background: {colour}; color: #202124; padding: 1px 6px; border-radius: 3px; }}")

    def current_line(self) -> Optional[int]:
        started = [n for n, line in enumerate(self.lines) if line["start"] <= self.position]
        return started[-1] if started else None

    def jump_prompt(self, direction: int) -> Optional[float]:
        times = [p["t"] for p in self.doc["prompts"]]
        targets = [t for t in times if t > self.position + 0.05] if direction > 0 else [t for t in times if t < self.position - 0.05]
        if not targets:
            return None
        target = targets[0] if direction > 0 else targets[-1]
        self.go_to_prompt(times.index(target))
        return target

    def go_to_prompt(self, n: int) -> None:
        """The playhead on prompt `n`, shown in the banner as it was."""
        prompt = self.doc["prompts"][n]
        self.seek(prompt["t"])
        self.banner.show_prompt(prompt["kind"], prompt["reason"])

    # --- audio (sounddevice; optional) ---------------------------------------------------------
    def _start_audio(self) -> None:
        """Read the recording from the playhead on (a background task), then play it at the chosen speed."""
        if self.recording is None:
            return
        self._audio_asked += 1
        asked, path, position, speed = self._audio_asked, str(self.recording), self.position, self.speed.currentData()

        def read():
            import soundfile as sf

            rate = sf.info(path).samplerate
            data, rate = sf.read(path, dtype="float32", start=int(position * rate))
            return data, rate

        self.tasks.run(read, lambda got: self._play(asked, got[0], got[1], position, speed), self._cannot_play)

    def _play(self, asked: int, data, rate: int, read_from: float, speed: float) -> None:
        if asked != self._audio_asked or not self._timer.isActive():
            return  # stopped, or moved, while it was read
        skip = max(0, int((self.position - read_from) * rate))  # the playhead went on while it was read
        try:
            from companion.audio.devices import sounddevice

            sounddevice().play(data[skip:], samplerate=int(rate * speed))
        except Exception as exc:  # noqa: BLE001 - no sound device: the prompts still replay
            self._cannot_play(exc)

    def _cannot_play(self, exc: Exception) -> None:
        self.banner.show_prompt("device", f"Cannot play the recording ({exc}); prompts replay without sound.")
        self.recording = None

    def _stop_audio(self) -> None:
        self._audio_asked += 1  # a read still under way is not played
        if self.recording is None:
            return
        try:
            from companion.audio.devices import sounddevice

            sounddevice().stop()
        except Exception:  # noqa: BLE001
            pass

    def _restart_audio(self) -> None:
        if self._timer.isActive():
            self._stop_audio()
            self._start_audio()

    # --- comments -----------------------------------------------------------------------------------
    def comment_here(self) -> None:
        text = self.comment.text().strip()
        if not text:
            return
        near = [(abs(p["t"] - self.position), n) for n, p in enumerate(self.doc["prompts"]) if abs(p["t"] - self.position) <= 2.0]
        prompt_id = self.prompt_ids[min(near)[1]] if near and self.prompt_ids else None
        stored = self.save_comment(self.position, prompt_id, text) if self.save_comment is not None else None
        self.doc["call"]["comments"].append(
            {"t": self.position, "prompt_id": prompt_id, "author": AUTHOR, "text": stored or text})
        self.show_moments()
        self.comment.clear()

    def closeEvent(self, event) -> None:  # noqa: N802
        self._timer.stop()
        self._stop_audio()
        self.tasks.close()
        super().closeEvent(event)
