"""One agent's call so far, opened from a tile of the live floor (ui/team/team_floor.py): the replay's own
timeline (ui.review.replay_timeline.Timeline) drawn from what the floor has seen of the call
(companion.team.live_timeline.LiveCall), kept current as the floor's views arrive, with the playhead at
"now", a line saying where the call is (on call, paused, ended, the connection lost and for how long), the
last words when the team shares text, and the call's moments in words.

Nothing is read here: the floor's feed (companion.team.live_watch.LiveFloor, under row-level security) hands
every view to the floor, which hands this agent's to the view. No audio, no transcript: the live row
holds neither."""

from __future__ import annotations

import time
from typing import Optional

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QLabel, QListWidget, QVBoxLayout, QWidget

from companion.team.live_timeline import LiveCall, fresh
from companion.timeline import clock
from ui.accessibility import announce, describe
from ui.review.replay_timeline import Timeline

LOST_COLOUR = "#8c5a1f"
ENDED_COLOUR = "#4a7a8c"


class LiveCallView(QWidget):
    """`update_views(views)` with the floor's views (this agent's are taken); `connection_problem(text)` when
    the supervisor's own connection to the team server is lost (None: back)."""

    def __init__(self, agent: str, team: Optional[str] = None, parent=None):
        super().__init__(parent)
        self.agent = agent
        self.call = LiveCall(agent)
        self.setWindowTitle(f"Live call — {agent}")
        self.resize(980, 520)
        self.heading = QLabel(f"{agent}{' · ' + team if team else ''}")
        self.heading.setObjectName("liveHeading")
        self.status = QLabel()
        self.status.setObjectName("liveStatus")
        self.words = QLabel()
        self.words.setObjectName("liveWords")
        self.note = QLabel("What the floor has seen of the call: the prompts, the customer's mood, talk-overs, "
                           "pauses and messages. No audio and no transcript are sent live.")
        self.note.setObjectName("liveNote")
        for label in (self.heading, self.status, self.words, self.note):  # names and words: never markup
            label.setTextFormat(Qt.PlainText)
            label.setWordWrap(True)
        self.moments = QListWidget()
        describe(self.moments, "The call's moments so far", "Prompts, mood changes, talk-overs, pauses and messages "
                                                             "in time order")
        describe(self.status, "Where the call is")
        self.timeline = Timeline(self.call.document())
        describe(self.timeline, f"{agent}'s call so far", "The same timeline as the replay, up to now")
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.status)
        layout.addWidget(self.timeline)
        layout.addWidget(self.words)
        layout.addWidget(self.moments, 1)
        layout.addWidget(self.note)
        self.setStyleSheet("#liveHeading { font-size: 16px; font-weight: 700; } #liveNote { color: #5f6368; }")
        self.problem: Optional[str] = None   # the supervisor's own connection, when lost
        self._problem_since = 0.0
        self._received = time.monotonic()    # when the newest view of this agent came (its age_s was then)
        self._said = ""
        self._tick = QTimer(self)            # "nothing heard for 45 s" keeps counting between views
        self._tick.setInterval(1000)
        self._tick.timeout.connect(self._show_status)
        self._tick.start()
        self._show()

    def update_views(self, views: list) -> None:
        changed = False
        for view in views:
            if view.get("agent") != self.agent:
                continue
            if view.get("event") == "state":
                self._received = time.monotonic()
                self.problem = None
            changed = self.call.add(view) or changed
        if changed:
            self._show()
        else:
            self._show_status()

    def connection_problem(self, text: Optional[str]) -> None:
        """The floor's own connection to the server is lost (`text` says why), or back (None)."""
        if text and self.problem is None:
            self._problem_since = time.monotonic()
        self.problem = text or None
        self._show_status()

    # --- drawing --------------------------------------------------------------------------------
    def _show(self) -> None:
        doc = self.call.document()
        old = self.timeline
        self.timeline = Timeline(doc)  # the replay's widget, as it is: it draws a document, built anew each change
        describe(self.timeline, f"{self.agent}'s call so far", "The same timeline as the replay, up to now")
        self.timeline.set_position(self.call.call_s)
        self.layout().replaceWidget(old, self.timeline)
        old.hide()  # gone from the window now, not at the next turn of the event loop
        old.setParent(None)
        old.deleteLater()
        shown = self.call.moments()
        if [self.moments.item(i).text() for i in range(self.moments.count())] != shown:
            self.moments.clear()
            self.moments.addItems(shown)
            self.moments.scrollToBottom()
        text = self.call.last_text if self.call.state in ("on_call", "paused") else None
        self.words.setText(f"Last words: {text}" if text else "")
        self.words.setVisible(bool(text))
        self._show_status()

    def status_text(self) -> str:
        if self.problem:
            lost = fresh(time.monotonic() - self._problem_since)
            upto = f" The timeline stops at {clock(self.call.call_s)}." if self.call.on_a_call else ""
            return f"Connection lost — the team server has not answered for {lost}: {self.problem}{upto}"
        call = self.call
        if call.state == "connection_lost" and call.age_s is not None:
            age = float(call.age_s) + (time.monotonic() - self._received)
            saved, call.age_s = call.age_s, age
            try:
                return call.status()
            finally:
                call.age_s = saved
        return call.status()

    def _show_status(self) -> None:
        text = self.status_text()
        self.status.setText(text)
        lost = self.problem is not None or self.call.state == "connection_lost"
        ended = self.call.ended_at_s is not None and self.call.on_a_call
        colour = LOST_COLOUR if lost else (ENDED_COLOUR if ended else "#202124")
        self.status.setStyleSheet(f"color: {colour}; font-weight: {700 if lost or ended else 400};")
        said = text.split(" — ")[0].split(" · ")[0]  # the kind of news, not each second's count
        if said != self._said:
            self._said = said
            if lost or ended:
                announce(self, text)  # a screen reader says it as it happens

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        self._tick.stop()
        super().closeEvent(event)
