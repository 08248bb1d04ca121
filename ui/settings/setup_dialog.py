"""Setup (first run, and any time): devices with live level meters and a "say something" check,
the speech model (found / choose a folder / download / continue without), and the playbook."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
)

from companion.asr.catalog import load_catalog
from companion.asr.discovery import ModelCandidate, find_model, passed_over, passed_over_note
from companion.asr.download import Progress, download_model
from companion.asr.languages import CHOICES, language_name
from companion.errors import CompanionError
from companion.paths import user_models_dir
from companion.playbooks import Playbook
from ui.tasks import Tasks

LEVEL_RANGE_DB = 70  # the meters show -70 dBFS (empty) to 0 dBFS (full)


def first_run_help() -> str:
    import sys

    if sys.platform == "win32":
        return ("Windows: allow desktop apps to use the microphone (Settings > Privacy > Microphone). For the "
                "customer, pick a \"[Loopback]\" device if listed, or install VB-CABLE and pick \"CABLE Output\".")
    if sys.platform == "darwin":
        return ("macOS asks for microphone access on the first call. For the customer, install BlackHole 2ch and "
                "make a Multi-Output Device (headset + BlackHole) the softphone's speaker.")
    return "Linux: the customer is the monitor of the softphone's output (its name ends in .monitor)."


@dataclass
class SetupChoice:
    agent_device: Optional[str]
    customer_device: Optional[str]
    model_path: Optional[Path]      # None: no transcription
    playbook_id: str
    language: str = "en-us"         # the calls' language: only a model in it transcribes them


class SetupDialog(QDialog):
    def __init__(self, playbooks: list[Playbook], current_playbook: str, language: str = "en-us", parent=None):
        super().__init__(parent)
        self.setWindowTitle("Set up Call Companion")
        self.setMinimumWidth(520)
        self.model_path: Optional[Path] = None
        self._probes = []
        self._cancel = threading.Event()
        self.tasks = Tasks(self)  # the model's download
        layout = QVBoxLayout(self)

        # devices
        devices_box = QGroupBox("Audio")
        form = QFormLayout(devices_box)
        self.agent = QComboBox()
        self.customer = QComboBox()
        self.agent_level = QProgressBar()
        self.customer_level = QProgressBar()
        for bar in (self.agent_level, self.customer_level):
            bar.setRange(0, LEVEL_RANGE_DB)  # dB above the floor; empty until a device is heard
            bar.setValue(0)
            bar.setFormat("")
            bar.setFixedHeight(10)
        self.heard = QLabel("Say something: the bar moves when you are heard.")
        form.addRow("Your microphone", self.agent)
        form.addRow("", self.agent_level)
        form.addRow("The softphone's sound", self.customer)
        form.addRow("", self.customer_level)
        form.addRow("", self.heard)
        help_note = QLabel(first_run_help())
        help_note.setWordWrap(True)
        help_note.setTextFormat(Qt.PlainText)
        help_note.setStyleSheet("color: #5b6270;")
        form.addRow(help_note)
        self.device_note = QLabel()
        self.device_note.setWordWrap(True)
        self.device_note.setTextFormat(Qt.PlainText)  # device names and error messages, shown as written
        form.addRow(self.device_note)
        layout.addWidget(devices_box)
        self._fill_devices()
        self.agent.currentIndexChanged.connect(self._restart_probes)
        self.customer.currentIndexChanged.connect(self._restart_probes)

        # model
        model_box = QGroupBox("Transcription")
        model_layout = QVBoxLayout(model_box)
        language_row = QHBoxLayout()
        language_row.addWidget(QLabel("Calls are in"))
        self.language = QComboBox()
        for code in dict.fromkeys((language, *CHOICES)):
            self.language.addItem(f"{language_name(code)} ({code})", code)
        self.language.setCurrentIndex(0)
        language_row.addWidget(self.language, 1)
        model_layout.addLayout(language_row)
        self.model_label = QLabel()
        self.model_label.setWordWrap(True)
        self.model_label.setTextFormat(Qt.PlainText)  # folder names and error messages, shown as written
        buttons = QHBoxLayout()
        self.choose = QPushButton("Choose folder…")
        self.download = QPushButton()
        self.without = QPushButton("Continue without transcription")
        self.cancel_download = QPushButton("Cancel download")
        self.cancel_download.hide()
        for b in (self.choose, self.download, self.without, self.cancel_download):
            buttons.addWidget(b)
        self.progress = QProgressBar()
        self.progress.hide()
        model_layout.addWidget(self.model_label)
        model_layout.addLayout(buttons)
        model_layout.addWidget(self.progress)
        layout.addWidget(model_box)
        self.choose.clicked.connect(self._choose_folder)
        self.download.clicked.connect(self._start_download)
        self.without.clicked.connect(self._without_model)
        self.cancel_download.clicked.connect(self._cancel.set)
        self.catalog = load_catalog()
        self._language_chosen()
        self.language.currentIndexChanged.connect(self._language_chosen)

        # playbook
        playbook_box = QGroupBox("Playbook")
        playbook_layout = QVBoxLayout(playbook_box)
        self.playbook = QComboBox()
        for playbook in playbooks:
            self.playbook.addItem(playbook.name, playbook.id)
        index = self.playbook.findData(current_playbook)
        self.playbook.setCurrentIndex(max(0, index))
        playbook_layout.addWidget(self.playbook)
        layout.addWidget(playbook_box)

        self.buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        for widget, name, what in (
                (self.agent, "Your microphone", "The device your voice comes from"),
                (self.customer, "The softphone's sound", "The device the customer's voice plays on (the softphone's "
                                                         "output)"),
                (self.agent_level, "Your microphone's level", "Moves when your microphone hears you"),
                (self.customer_level, "The softphone's level", "Moves when the softphone's sound is heard"),
                (self.language, "Calls' language", "The language the calls are in; the speech model follows it"),
                (self.choose, "Choose model folder", "Use a speech model already on this computer"),
                (self.download, "Download the speech model", "Download the model for the calls' language"),
                (self.without, "Continue without transcription", "Coaching from the sound alone, no transcript"),
                (self.cancel_download, "Cancel download", "Stop the model download"),
                (self.progress, "Download progress", "How much of the model has arrived"),
                (self.playbook, "Playbook", "The steps the checklist follows on the next call"),
                (self.buttons.button(QDialogButtonBox.Ok), "OK", "Use these choices"),
                (self.buttons.button(QDialogButtonBox.Cancel), "Cancel", "Keep the choices as they were")):
            widget.setAccessibleName(name)
            widget.setAccessibleDescription(what)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self._meter = QTimer(self)
        self._meter.timeout.connect(self._update_levels)
        self._restart_probes()

    # --- devices -------------------------------------------------------------------------
    def _fill_devices(self) -> None:
        try:
            from companion.audio.device_choice import load_choice
            from companion.audio.devices import inventory

            inv = inventory()
        except CompanionError as exc:
            self.device_note.setText(f"{exc.message} The demo works without devices.")
            self.inventory = None
            return
        self.inventory = inv
        remembered = load_choice()
        for combo, default, saved in ((self.agent, inv.default_agent, remembered.agent),
                                      (self.customer, inv.default_customer, remembered.customer)):
            for device in inv.devices:
                combo.addItem(f"{device.name} — {device.key}", device.key)
            pick = saved or (default.key if default else None)
            if pick is not None and combo.findData(pick) >= 0:
                combo.setCurrentIndex(combo.findData(pick))
        if inv.default_customer is None:
            from companion.audio.devices import customer_source_guide

            self.device_note.setText(customer_source_guide(window=True))

    def _restart_probes(self) -> None:
        self._stop_probes()
        if self.inventory is None:
            return
        from companion.audio.capture import DeviceInput, _Line
        from companion.audio.devices import resolve
        from companion.audio.framer import PartyFramer
        from companion.audio.ring import SampleRing

        for combo, party in ((self.agent, "agent"), (self.customer, "customer")):
            key = combo.currentData()
            if key is None:
                continue
            try:
                device = resolve(key, self.inventory)
                probe = DeviceInput(device, [_Line(party, 0, SampleRing(device.rate), PartyFramer(device.rate, device.rate, 160))])
                probe.open()
                self._probes.append(probe)
            except Exception as exc:  # noqa: BLE001 - shown, not raised: the dialog stays usable
                self.device_note.setText(f"Cannot open {key}: {exc}")
        self._meter.start(100)

    def _update_levels(self) -> None:
        for probe in self._probes:
            line = probe.lines[0]
            data = line.ring.read()
            if data.size:
                level = 10 * np.log10(max(float(np.mean(data.astype(np.float64) ** 2)), 1e-10))
                bar = self.agent_level if line.party == "agent" else self.customer_level
                bar.setValue(int(max(0, min(LEVEL_RANGE_DB, level + LEVEL_RANGE_DB))))
                if line.party == "agent" and level > -45:
                    self.heard.setText("✓ We can hear you.")

    def _stop_probes(self) -> None:
        for probe in self._probes:
            probe.close(wait_s=1.0)
        self._probes = []
        for bar in (self.agent_level, self.customer_level):
            bar.setValue(0)  # nothing heard from no device

    def done(self, result: int) -> None:  # noqa: A003 - Qt's name
        self._meter.stop()
        self._stop_probes()
        self._cancel.set()
        self.tasks.close()  # a download cancelled with the dialog is not reported to it
        super().done(result)

    # --- model ----------------------------------------------------------------------------------
    def _language_chosen(self) -> None:
        """The model for the chosen language: found here, or offered for download; never one in another language."""
        code = self.language.currentData()
        self.entry = self.catalog.for_language(code)
        self.download.setEnabled(self.entry is not None)
        self.download.setText(f"Download ({self.entry.size / 1e6:.0f} MB)" if self.entry else
                              f"No {language_name(code)} download")
        try:
            found: Optional[ModelCandidate] = find_model(None, code)
        except CompanionError:
            found = None
        self._set_model(found.path if found else None, found.name if found else None)
        if found is None:
            others = [passed_over_note(c, code) for c in passed_over(code)]
            self.model_label.setText(f"No {language_name(code)} speech model found" + (f" ({'; '.join(others)})" if others else "")
                                     + ". Download one, choose a model folder, or continue without (coaching from the sound).")

    def _set_model(self, path: Optional[Path], name: Optional[str]) -> None:
        self.model_path = path
        if path is None:
            self.model_label.setText("No speech model found. Download the small English model, choose a model folder, "
                                     "or continue without transcription (coaching still works from the audio).")
        else:
            self.model_label.setText(f"Model: {name or path.name}  ({path})")

    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose a Vosk model folder")
        if not folder:
            return
        self.use_folder(Path(folder))

    def use_folder(self, folder: Path) -> None:
        """A model folder chosen by hand: used when it is a model in the calls' language, else says why not."""
        try:
            found = find_model(folder, self.language.currentData())
        except CompanionError as exc:
            self.model_label.setText(exc.message)
            return
        self._set_model(found.path, found.name)

    def _without_model(self) -> None:
        self._set_model(None, None)
        self.model_label.setText("Continuing without transcription: pace comes from the audio.")
        self.chose_without = True

    chose_without = False

    def _start_download(self) -> None:
        self._cancel.clear()
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress.show()
        self.cancel_download.show()
        self.download.setEnabled(False)
        entry, cancel = self.entry, self._cancel
        self.tasks.run_reporting(lambda report: download_model(entry, user_models_dir(), progress=report, cancel=cancel),
                                 self._progress, self._downloaded, self._download_failed)

    def _progress(self, p: Progress) -> None:
        self.progress.setValue(int(p.fraction * 1000))
        eta = "" if p.eta_s is None else f", {p.eta_s:.0f} s left"
        self.progress.setFormat(f"{p.done / 1e6:.1f} of {p.total / 1e6:.1f} MB ({p.rate_bps / 1e6:.1f} MB/s{eta})")

    def _downloaded(self, path: Path) -> None:
        self.cancel_download.hide()
        self.download.setEnabled(True)
        self._set_model(Path(path), Path(path).name)

    def _download_failed(self, exc: Exception) -> None:
        self.cancel_download.hide()
        self.download.setEnabled(True)
        self.progress.hide()
        self.model_label.setText(exc.message if isinstance(exc, CompanionError) else f"The download failed ({exc}).")

    def choice(self) -> SetupChoice:
        return SetupChoice(self.agent.currentData(), self.customer.currentData(), self.model_path,
                           self.playbook.currentData(), self.language.currentData())
