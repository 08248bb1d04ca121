"""The call window's status bar starts at its left edge (pytest-qt, offscreen, the real window): the lasting labels
from the left when no message passes, a passing message first and whole while it shows, and the labels back at the
left when it has gone — no empty stretch at the bar's left."""

from __future__ import annotations

from PySide6.QtCore import QPoint

from tests.test_window import window  # noqa: F401 - the window fixture

EDGE_PX = 8  # the bar's own margin at most


def left_of(label, bar) -> int:
    return label.mapTo(bar, QPoint(0, 0)).x()


def first_ink_column(bar) -> int:
    """The first column of the drawn bar with a pixel darker than its background: where its text starts."""
    image = bar.grab().toImage()
    background = image.pixelColor(image.width() - 2, image.height() // 2).lightness()
    for x in range(image.width()):
        if any(image.pixelColor(x, y).lightness() < background - 80 for y in range(image.height())):
            return x
    return image.width()


def test_the_status_bar_has_no_gap_at_its_left_with_or_without_a_passing_message(window, qtbot):  # noqa: F811
    bar = window.statusBar()
    window.resize(1366, 700)
    qtbot.waitExposed(window)
    qtbot.waitUntil(lambda: window.line_status.isVisible() and window.line_status.width() > 0, timeout=5000)
    assert left_of(window.line_status, bar) <= EDGE_PX
    assert first_ink_column(bar) <= EDGE_PX + 4  # "Lines: idle" drawn from the left edge
    labels = [window.line_status, window.model_status, window.recording_status]
    assert [left_of(label, bar) for label in labels] == sorted(left_of(label, bar) for label in labels)

    bar.showMessage("Storing again.", 60000)
    qtbot.waitUntil(window.message_status.isVisible, timeout=5000)
    assert bar.currentMessage() == "Storing again." and window.message_status.text() == "Storing again."
    assert left_of(window.message_status, bar) <= EDGE_PX and not window.message_status.elided()
    assert left_of(window.line_status, bar) > left_of(window.message_status, bar) + window.message_status.width() - 1
    assert all(label.isVisible() for label in labels)  # the lasting labels stay while a message passes

    bar.clearMessage()
    qtbot.waitUntil(lambda: not window.message_status.isVisible(), timeout=5000)
    qtbot.waitUntil(lambda: left_of(window.line_status, bar) <= EDGE_PX, timeout=5000)
