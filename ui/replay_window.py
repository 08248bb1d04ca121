"""Supervisor replay: the call on a timeline (both parties' turns, prompt and interruption markers,
the pace curve and the volume), a playhead the transcript follows, the recorded audio when there is
one (or the prompts replayed in time without it), next/previous prompt, 1×/1.5×/2×, and comments."""

from __future__ import annotations

import sqlite3
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Optional

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPainter, QPen, QPolygonF
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from companion.store.calls import load_call
from companion.store.rows import CallRows
from ui.banner import CoachingBanner
from ui.style import PARTY_COLOURS, PARTY_NAMES, PROMPT_STYLES, clock


class Timeline(QWidget):
    """Turns, interruptions, prompt markers, pace and volume curves, and the playhead; click to seek."""

    seek = Signal(float)
    MARGIN = 12

    def __init__(self, doc: dict, parent=None):
        super().__init__(parent)
        self.doc = doc
        self.duration = max(doc["duration_s"], 1.0)
        self.position = 0.0
        self.setMinimumHeight(150)

    def x(self, t: float) -> float:
        return self.MARGIN + (self.width() - 2 * self.MARGIN) * t / self.duration

    def t(self, x: float) -> float:
        return max(0.0, min(self.duration, (x - self.MARGIN) / max(1, self.width() - 2 * self.MARGIN) * self.duration))

    def marker_positions(self) -> list[tuple[float, str]]:
        return [(self.x(p["t"]), p["kind"]) for p in self.doc["prompts"]]

    def set_position(self, t: float) -> None:
        self.position = t
        self.update()

    def mousePressEvent(self, event) -> None:  # noqa: N802
        self.seek.emit(self.t(event.position().x()))

    def paintEvent(self, event) -> None:  # noqa: N802
        p = QPainter(self)
        p.setRenderHint(QPainter.Antialiasing)
        p.fillRect(self.rect(), QColor("#fafbfc"))
        for party, y in (("agent", 12), ("customer", 34)):
            colour = QColor(PARTY_COLOURS[party])
            for turn in self.doc["turns"]:
                if turn["party"] == party:
                    p.fillRect(QRectF(self.x(turn["start"]), y, max(1.0, self.x(turn["end"]) - self.x(turn["start"])), 16), colour)
        p.setOpacity(0.35)
        for i in self.doc["interruptions"]:
            p.fillRect(QRectF(self.x(i["t"]), 8, max(2.0, self.x(i["t"] + i["overlap_s"]) - self.x(i["t"])), 46), QColor("#e4683f"))
        p.setOpacity(1.0)
        for x, kind in self.marker_positions():  # each prompt in its banner's colour
            p.setPen(QPen(QColor(PROMPT_STYLES.get(kind, ("", "#b3261e"))[1]), 2))
            p.drawLine(QPointF(x, 56), QPointF(x, 72))
        base, height = self.height() - 8, self.height() - 84
        pace = self.doc["pace"]
        if pace:
            p.setPen(QPen(QColor("#e0a020"), 1.5))
            p.drawPolyline(QPolygonF([QPointF(self.x(s["t"]), base - min(s["wpm"], 260) / 260 * height) for s in pace]))
        volume = self.doc["call"].get("volume", [])
        if volume:
            p.setPen(QPen(QColor("#7a4cc2"), 1))
            p.drawPolyline(QPolygonF([QPointF(self.x(v["t"]), base - (max(-6, min(12, v["db"])) + 6) / 18 * height) for v in volume]))
        p.setPen(QPen(QColor("#222"), 2))
        p.drawLine(QPointF(self.x(self.position), 0), QPointF(self.x(self.position), self.height()))
        p.end()


class ReplayWindow(QWidget):
    def __init__(self, doc: dict, recording: Optional[Path] = None,
                 save_comment: Optional[Callable[[float, Optional[int], str], None]] = None, parent=None):
        super().__init__(parent)
        self.doc = doc
        self.recording = recording if recording and Path(recording).exists() else None
        self.save_comment = save_comment
        self.setWindowTitle(f"Replay — call {doc['call']['id']} ({doc['call']['started_at']})")
        self.resize(980, 640)
        self.timeline = Timeline(doc)
        self.banner = CoachingBanner(hold_ms=4000)
        self.play = QPushButton("Play")
        self.prev = QPushButton("◀ Prompt")
        self.next = QPushButton("Prompt ▶")
        self.speed = QComboBox()
        for label, value in (("1×", 1.0), ("1.5×", 1.5), ("2×", 2.0)):
            self.speed.addItem(label, value)
        self.clock = QLabel("00:00")
        self.transcript = QListWidget()
        self.comment = QLineEdit()
        self.comment.setPlaceholderText("Coaching comment at the playhead (attached to a prompt within 2 s)")
        self.add_comment = QPushButton("Add comment")
        self.comments = QListWidget()
        controls = QHBoxLayout()
        for w in (self.play, self.prev, self.next, self.speed, self.clock):
            controls.addWidget(w)
        controls.addStretch(1)
        audio_note = "with the recorded audio" if self.recording else "no recording: prompts replay in time"
        controls.addWidget(QLabel(audio_note))
        comment_row = QHBoxLayout()
        comment_row.addWidget(self.comment, 1)
        comment_row.addWidget(self.add_comment)
        layout = QVBoxLayout(self)
        layout.addWidget(self.banner)
        layout.addWidget(self.timeline)
        layout.addLayout(controls)
        layout.addWidget(self.transcript, 1)
        layout.addLayout(comment_row)
        layout.addWidget(self.comments)
        self.lines = doc["call"]["segments"] or [dict(t, text="(speech)") for t in doc["turns"]]
        for line in self.lines:
            item = QListWidgetItem(f"{PARTY_NAMES[line['party']]}  {clock(line['start'])}   {line['text']}")
            item.setForeground(QColor(PARTY_COLOURS[line["party"]]))
            self.transcript.addItem(item)
        for c in doc["call"]["comments"]:
            self.comments.addItem(f"{clock(c['t'])}  {c['text']}")
        self.position = 0.0
        self._timer = QTimer(self)
        self._timer.setInterval(50)
        self._timer.timeout.connect(self._advance)
        self._last_tick = 0.0
        self._shown_prompts: set[int] = set()
        self.play.clicked.connect(self.toggle)
        self.prev.clicked.connect(lambda: self.jump_prompt(-1))
        self.next.clicked.connect(lambda: self.jump_prompt(+1))
        self.timeline.seek.connect(self.seek)
        self.add_comment.clicked.connect(self.comment_here)
        self.speed.currentIndexChanged.connect(lambda *_: self._restart_audio())

    @classmethod
    def from_store(cls, db: sqlite3.Connection, call_id: int) -> "ReplayWindow":
        doc = load_call(db, call_id)
        recording = db.execute("SELECT recording FROM calls WHERE id = ?", (call_id,)).fetchone()[0]

        def save(t: float, prompt_id: Optional[int], text: str) -> None:
            with db:
                CallRows(db, call_id).comment(t, "supervisor", text, datetime.now(timezone.utc).isoformat(timespec="seconds"),
                                              prompt_id)

        window = cls(doc, Path(recording) if recording else None, save)
        window.prompt_ids = [r[0] for r in db.execute("SELECT id FROM prompts WHERE call_id = ? ORDER BY t", (call_id,))]
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
        for n, p in enumerate(self.doc["prompts"]):  # prompts replay as they happened
            if from_playback and previous < p["t"] <= self.position and n not in self._shown_prompts:
                self._shown_prompts.add(n)
                self.banner.show_prompt(p["kind"], p["reason"])
        row = self.current_line()
        if row is not None:
            self.transcript.setCurrentRow(row)
            self.transcript.scrollToItem(self.transcript.item(row), QListWidget.PositionAtCenter)
        if not from_playback:
            self._shown_prompts = {n for n, p in enumerate(self.doc["prompts"]) if p["t"] <= self.position}
            if self._timer.isActive():
                self._restart_audio()

    def current_line(self) -> Optional[int]:
        started = [n for n, line in enumerate(self.lines) if line["start"] <= self.position]
        return started[-1] if started else None

    def jump_prompt(self, direction: int) -> Optional[float]:
        times = [p["t"] for p in self.doc["prompts"]]
        targets = [t for t in times if t > self.position + 0.05] if direction > 0 else [t for t in times if t < self.position - 0.05]
        if not targets:
            return None
        target = targets[0] if direction > 0 else targets[-1]
        self.seek(target)
        kind = next(p for p in self.doc["prompts"] if p["t"] == target)
        self.banner.show_prompt(kind["kind"], kind["reason"])
        return target

    # --- audio (sounddevice; optional) ---------------------------------------------------------
    def _start_audio(self) -> None:
        if self.recording is None:
            return
        try:
            import soundfile as sf

            from companion.audio.devices import sounddevice

            sd = sounddevice()
            rate = sf.info(str(self.recording)).samplerate
            data, rate = sf.read(str(self.recording), dtype="float32", start=int(self.position * rate))
            sd.play(data, samplerate=int(rate * self.speed.currentData()))
        except Exception as exc:  # noqa: BLE001 - no sound device: the prompts still replay
            self.banner.show_prompt("device", f"Cannot play the recording ({exc}); prompts replay without sound.")
            self.recording = None

    def _stop_audio(self) -> None:
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
        if self.save_comment is not None:
            self.save_comment(self.position, prompt_id, text)
        self.comments.addItem(f"{clock(self.position)}  {text}")
        self.comment.clear()

    def closeEvent(self, event) -> None:  # noqa: N802
        self._timer.stop()
        self._stop_audio()
        super().closeEvent(event)
