"""Finding and loading the speech model for the calls' language, off the GUI thread."""

from __future__ import annotations

from concurrent.futures import Future
from pathlib import Path
from typing import Callable, Optional

from PySide6.QtCore import QObject, Qt, Signal

from companion.asr.discovery import find_model, no_model_note, passed_over, passed_over_note
from companion.asr.engine import LoadedModel, load_model_async
from companion.errors import CompanionError

# (model or None, its language or None, the status text, model names found but passed over)
Done = Callable[[Optional[LoadedModel], Optional[str], str, list[str]], None]


class ModelLoader(QObject):
    """`load(path, language)` reports through `done` on the GUI thread. The wake-up signal carries
    nothing: the result waits in `_result` (no Python objects cross threads in Qt)."""

    loaded = Signal()

    def __init__(self, done: Done, parent=None):
        super().__init__(parent)
        self._done = done
        self._result = None
        self.loaded.connect(self._deliver, Qt.QueuedConnection)

    def load(self, path: Optional[Path], language: str) -> Optional[str]:
        """Start loading; returns the name being loaded, or None when it was settled at once (nothing to load)."""
        try:
            candidate = find_model(path, language)
        except CompanionError as exc:
            self._done(None, None, exc.message, [])
            return None
        if candidate is None:
            unused = [passed_over_note(c, language) for c in passed_over(language)]
            self._done(None, None, no_model_note(language, "Setup…"), unused)
            return None
        future: Future = load_model_async(candidate.path)

        def finished(f: Future) -> None:
            try:
                loaded = f.result()
                self._result = (loaded, candidate.language, f"{candidate.name} (loaded in {loaded.load_s:.1f} s)")
            except CompanionError as exc:
                self._result = (None, None, exc.message)
            except Exception as exc:  # noqa: BLE001
                self._result = (None, None, f"could not load ({exc})")
            self.loaded.emit()

        future.add_done_callback(finished)
        return candidate.name

    def _deliver(self) -> None:
        if self._result is not None:
            model, language, message = self._result
            self._result = None
            self._done(model, language, message, [])
