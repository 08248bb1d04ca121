"""Settings: the main thresholds and which prompts are on, saved to the user's coaching.toml
and applied to the running call at once; and the window's own pause after a hard call (its settings)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
    QLabel,
    QMessageBox,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from companion.config import CoachingConfig, save_user_overrides, setting_range
from companion.errors import ConfigError
from companion.paths import user_data_dir
from companion.prompt_kinds import PROMPT_KINDS
from ui.breather import BREATHER_KEY, BREATHER_MAX_S, breather_seconds

KINDS = [(k.kind, k.label) for k in PROMPT_KINDS.values()]


def _spin(value: float, setting: str, step: float, suffix: str, decimals: int = 0) -> QDoubleSpinBox:
    """A box for one setting, bounded by that setting's own range in the configuration."""
    allowed = setting_range(setting)
    box = QDoubleSpinBox()
    box.setObjectName(setting)
    box.setRange(allowed.lo, allowed.hi)
    box.setSingleStep(step)
    box.setDecimals(decimals)
    box.setSuffix(suffix)
    box.setValue(value)
    return box


def pace_limit_note(low: float, high: float) -> str:
    """Why the prompt's limit is not the top of the pace bar's aim: the two numbers side by side, explained."""
    return (f"The pace bar aims for {low:g}–{high:g} words/min and turns amber above {high:g}; the “Slow down” "
            "prompt comes only when you stay above this limit, so a moment a little fast is not interrupted.")


FIRST_WIDTH = 640  # the dialog's width when it opens (px)


class SettingsDialog(QDialog):
    def __init__(self, config: CoachingConfig, parent=None, settings=None):
        """`settings`: the window's QSettings, where the pause after a hard call is kept (none: not offered)."""
        super().__init__(parent)
        self.settings = settings
        self.setWindowTitle("Settings")
        c = config.coach
        self.pace = _spin(c.slow_down.wpm_above, "coach.slow_down.wpm_above", 5, " words/min")
        self.volume = _spin(c.lower_tone.loudness_above_db, "coach.lower_tone.loudness_above_db", 1, " dB", 1)
        self.overlap = _spin(config.interruptions.min_overlap_s, "interruptions.min_overlap_s", 0.1, " s", 1)
        self.cooldown = _spin(c.cooldown_s, "coach.cooldown_s", 5, " s")
        self.kinds = {}
        form = QFormLayout()
        low, high = c.slow_down.target_wpm
        self.pace_note = QLabel(pace_limit_note(low, high))
        self.pace_note.setObjectName("paceNote")
        self.pace_note.setWordWrap(True)
        self.pace_note.setTextFormat(Qt.PlainText)
        self.pace_note.setStyleSheet("color: #5b6270;")
        form.addRow("“Slow down” prompt above", self.pace)
        form.addRow("", self.pace_note)
        form.addRow("Lower your tone when louder by", self.volume)
        form.addRow("Talking over counts after", self.overlap)
        form.addRow("Same prompt at most every", self.cooldown)
        self.breather = QSpinBox(self)
        self.breather.setObjectName(BREATHER_KEY)
        self.breather.setRange(0, BREATHER_MAX_S)
        self.breather.setSingleStep(15)
        self.breather.setSuffix(" s")
        self.breather.setSpecialValueText("Off")
        self.breather.setToolTip("After a call with an upset customer, Start call waits this long (Skip ends the pause "
                                 "early). Off: the summary still suggests a pause.")
        self.breather.setValue(breather_seconds(settings) if settings is not None else 0)
        if settings is not None:
            form.addRow("Pause after a hard call", self.breather)
        else:
            self.breather.hide()
        for kind, label in KINDS:
            box = QCheckBox(label)
            box.setChecked(getattr(c, kind).enabled)
            self.kinds[kind] = box
            form.addRow("" if kind != "slow_down" else "Prompts", box)
        self.record = QCheckBox("Record call audio (two-channel FLAC, kept on this computer)")
        self.record.setChecked(config.privacy.record_audio)
        self.redact = QCheckBox("Remove personal data from saved text")
        self.redact.setChecked(config.privacy.redact)
        from companion.store.recording import CONSENT_REMINDER
        from companion.store.redaction import IDENTITY_RULES, RULES

        self.show_digits = QCheckBox("Show digits while I type them (payment screens)")
        self.show_digits.setChecked(config.privacy.show_digits)
        self.show_digits.setToolTip("The live transcript shows card and other numbers as said for a minute, then as "
                                    "saved. Names and addresses stay hidden; nothing saved changes. Anyone who can "
                                    "see or record your screen sees the digits too.")

        self.consent = consent = QLabel(CONSENT_REMINDER)
        consent.setObjectName("recordingWarning")
        consent.setTextFormat(Qt.PlainText)
        consent.setWordWrap(True)
        consent.setStyleSheet("color: #b3261e;")
        consent.setVisible(self.record.isChecked())  # the warning is about recording: shown only while it is on
        self.record.toggled.connect(consent.setVisible)
        rules = QLabel("Removed: " + "; ".join(f"{name} ({how})" for name, how in RULES + IDENTITY_RULES) + ".")
        rules.setWordWrap(True)
        rules.setTextFormat(Qt.PlainText)
        rules.setStyleSheet("color: #5b6270;")
        form.addRow("Privacy", self.redact)
        form.addRow("", rules)
        form.addRow("", self.show_digits)
        form.addRow("", self.record)
        form.addRow("", consent)
        where = QLabel(f"Calls and models are kept in {user_data_dir()} (set COMPANION_DATA_DIR to move them).")
        where.setWordWrap(True)
        where.setTextFormat(Qt.PlainText)  # a folder name, shown as written
        where.setStyleSheet("color: #5b6270;")
        buttons = QDialogButtonBox(QDialogButtonBox.Save | QDialogButtonBox.Cancel)
        for widget, what in (
                (self.pace, "The “Slow down” cue comes when you stay above this pace"),
                (self.volume, "The “Lower your tone” cue comes when you are this much louder than your usual level"),
                (self.overlap, "Talking at the same time for longer than this counts as talking over"),
                (self.cooldown, "The same cue is shown at most this often"),
                (self.record, "Keep the call's audio, both sides, on this computer; tell the customer first"),
                (self.redact, "Card numbers, codes, names, addresses and the like are taken out of saved text"),
                (buttons.button(QDialogButtonBox.Save), "Keep these settings; they apply at once"),
                (buttons.button(QDialogButtonBox.Cancel), "Leave the settings as they were")):
            widget.setAccessibleDescription(what)
        for box in self.kinds.values():
            box.setAccessibleDescription(f"Show the “{box.text()}” cue during calls")
        self.pace.setAccessibleName("“Slow down” prompt above")
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        body = QWidget()
        body.setLayout(form)
        self.scroll = QScrollArea()  # every line whole at any size: the form scrolls when the screen is short
        self.scroll.setWidget(body)
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        layout = QVBoxLayout(self)
        layout.addWidget(self.scroll, 1)
        layout.addWidget(where)
        layout.addWidget(buttons)
        self.record.toggled.connect(lambda _: self.fit())  # the warning's lines come and go: room for them
        self.fit(FIRST_WIDTH)

    def fit(self, width: int | None = None) -> None:
        """As tall as the form's wrapped lines need at this width, up to most of the screen (then it scrolls)."""
        width = width or self.width()
        body = self.scroll.widget()
        body.layout().activate()
        inner = width - 2 * self.layout().contentsMargins().left()
        needed = body.heightForWidth(inner) if body.hasHeightForWidth() else body.sizeHint().height()
        rest = sum(self.layout().itemAt(n).sizeHint().height() for n in (1, 2)) + 3 * self.layout().spacing()
        margins = self.layout().contentsMargins()
        screen = self.screen().availableGeometry().height() if self.screen() is not None else 768
        self.resize(width, min(needed + rest + margins.top() + margins.bottom() + 4, int(screen * 0.92)))

    def changes(self) -> dict:
        coach = {kind: {"enabled": box.isChecked()} for kind, box in self.kinds.items()}
        coach["slow_down"]["wpm_above"] = self.pace.value()
        coach["slow_down"]["release_wpm"] = min(self.pace.value() - 5, 160.0)  # re-armed just below the limit
        coach["lower_tone"]["loudness_above_db"] = self.volume.value()
        coach["lower_tone"]["release_db"] = self.volume.value() / 2
        coach["cooldown_s"] = self.cooldown.value()
        return {"coach": coach, "interruptions": {"min_overlap_s": round(self.overlap.value(), 1)},
                "privacy": {"record_audio": self.record.isChecked(), "redact": self.redact.isChecked(),
                            "show_digits": self.show_digits.isChecked()}}

    def save(self) -> None:
        try:
            save_user_overrides(self.changes())
        except ConfigError as exc:
            box = QMessageBox(QMessageBox.Warning, "Settings not saved", exc.message, QMessageBox.Ok, self)
            box.setTextFormat(Qt.PlainText)  # the message quotes file names and values as written
            box.exec()
            return
        if self.settings is not None:
            self.settings.setValue(BREATHER_KEY, self.breather.value())
        self.accept()
