"""The replay window for a call on the team server (opened by ui/team/team_history.py): what ReplayWindow shows, with the uploaded audio
(the document's FLAC bytes in an owner-only temporary file, removed when the window closes) or "No
audio uploaded", comments saved to the server (`queries.add_comment`) and a "Reviewed" box saved there
(`queries.set_reviewed`). Both go through the window's TeamClient thread; what the server answers
(its redacted text, who reviewed and when, or why it refused) is shown on one line."""

from __future__ import annotations

import os
import tempfile
import weakref
from pathlib import Path
from typing import Optional

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel

from ui.accessibility import describe
from ui.review.replay_window import ReplayWindow
from ui.style import local_time
from ui.team.team_client import TeamClient


def private_flac(data: bytes) -> Path:
    """`data` in a new temporary file only this user can read (mkstemp makes it 0600)."""
    fd, name = tempfile.mkstemp(prefix="cc-team-call-", suffix=".flac")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
    except OSError:
        Path(name).unlink(missing_ok=True)
        raise
    return Path(name)


class TeamReplay(ReplayWindow):
    NO_RECORDING = "No audio uploaded: the prompts replay in time"

    changed = Signal(str, bool, int)  # uuid, reviewed, how many comments: the history's row follows

    def __init__(self, doc: dict, client: TeamClient, parent=None):
        audio = doc.pop("audio_flac", None)
        recording: Optional[Path] = None
        problem = None
        if audio:
            try:
                recording = private_flac(audio)
            except OSError as exc:
                problem = f"The uploaded audio cannot be kept for playing ({exc.strerror or exc}); no sound."
        super().__init__(doc, recording)
        self.audio_file = recording
        if recording is not None:  # gone with the window, even one never closed
            weakref.finalize(self, recording.unlink, missing_ok=True)
        self.uuid = doc["uuid"]
        self.client = client
        client.setParent(self)
        self.save_comment = self._send_comment
        self._waiting: list[dict] = []   # comments shown here, not yet confirmed by the server
        self.setWindowTitle(f"Replay — {doc.get('file') or doc['uuid']}")
        self.reviewed = QCheckBox("Reviewed")
        self.reviewed.setChecked(bool(doc.get("reviewed")))
        describe(self.reviewed, "Reviewed", "Mark the call reviewed on the team server")
        self.server_status = QLabel("")
        self.server_status.setTextFormat(Qt.PlainText)
        row = QHBoxLayout()
        row.addWidget(self.reviewed)
        row.addWidget(self.server_status, 1)
        self.layout().addLayout(row)
        self.reviewed.toggled.connect(self._set_reviewed)
        self.message = ""
        self._say(problem or self._review_text(doc.get("reviewed"), doc.get("reviewed_by"), doc.get("reviewed_at")),
                  problem is not None)

    # --- what the server says --------------------------------------------------------------
    @staticmethod
    def _review_text(reviewed, by, at) -> str:
        if not reviewed:
            return "Not reviewed yet (on the team server)."
        who = f" by {by}" if by else ""
        return f"Reviewed{who}{', ' + local_time(at) if at else ''} (on the team server)."

    def _say(self, text: str, problem: bool = False) -> None:
        self.message = text
        self.server_status.setText(text)
        self.server_status.setToolTip(text)
        self.server_status.setStyleSheet("color: #b3261e;" if problem else "color: #5b6270;")

    def _count(self) -> int:
        return len(self.doc["call"]["comments"])

    # --- reviewed ---------------------------------------------------------------------------
    def _set_reviewed(self, on: bool) -> None:
        from companion.team.server_queries import review_of, set_reviewed

        uuid = self.uuid
        self.reviewed.setEnabled(False)
        self._say("Saving on the team server…")

        def job(conn):
            set_reviewed(conn, uuid, on)
            return review_of(conn, uuid)

        def done(row) -> None:
            self.reviewed.setEnabled(True)
            reviewed, by, at = row if row else (on, None, None)
            self.doc["reviewed"] = reviewed
            self._say(self._review_text(reviewed, by, at.isoformat() if at else None))
            self.changed.emit(self.uuid, bool(reviewed), self._count())

        def failed(message: str) -> None:
            self.reviewed.setEnabled(True)
            self.reviewed.blockSignals(True)
            self.reviewed.setChecked(not on)  # as it still is on the server
            self.reviewed.blockSignals(False)
            self._say(f"Not saved: {message}", problem=True)

        self.client.submit(job, done, failed)

    # --- comments ---------------------------------------------------------------------------
    def _send_comment(self, t: float, prompt_id: Optional[int], text: str) -> None:
        """ReplayWindow.comment_here's saver: sent to the server; shown at once, confirmed (or taken
        back, the text put back in the box) when the server answers."""
        from companion.team.server_queries import add_comment

        uuid = self.uuid
        self._say("Saving the comment on the team server…")
        entry: dict = {}
        self._waiting.append(entry)

        def done(saved: dict) -> None:
            target = entry.get("shown")
            if target is not None:
                target.update(author=saved["author"], text=saved["text"], created_at=saved["at"])
            self._waiting.remove(entry)
            self.show_moments()
            self._say("Comment saved on the team server; the agent sees it in their history after their next sync.")
            self.changed.emit(self.uuid, self.reviewed.isChecked(), self._count())

        def failed(message: str) -> None:
            target = entry.get("shown")
            if target is not None and target in self.doc["call"]["comments"]:
                self.doc["call"]["comments"].remove(target)
            self._waiting.remove(entry)
            self.show_moments()
            if not self.comment.text().strip():
                self.comment.setText(text)  # nothing typed is lost
            self._say(f"Comment not saved: {message}", problem=True)

        self.client.submit(lambda conn: add_comment(conn, uuid, text, t), done, failed)
        return None

    def comment_here(self) -> None:
        before = self._count()
        waiting = self._waiting[-1] if self._waiting else None
        super().comment_here()
        if self._count() > before and self._waiting and self._waiting[-1] is not waiting:
            shown = self.doc["call"]["comments"][-1]
            shown["author"] = "you (saving…)"
            self._waiting[-1]["shown"] = shown
            self.show_moments()

    def closeEvent(self, event) -> None:  # noqa: N802
        super().closeEvent(event)
        self.client.close()
        if self.audio_file is not None:
            self.audio_file.unlink(missing_ok=True)
            self.audio_file = None
