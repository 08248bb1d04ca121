"""The windows for everyone: what a screen reader is told, and a check that nothing interactive is nameless.

- `announce(widget, text)`: a prompt or notice that just appeared is announced (Qt's
  QAccessibleAnnouncementEvent, assertive: it is time-critical on a call), and the widget's accessible
  description follows it for readers that only follow focus. Every announcement also goes out on
  `announcements().made` (what was said, by whom), for the windows' tests and a log.
- `describe(widget, name, description)`: an accessible name and description in one line.
- `nameless(root)`: walks Qt's accessibility tree (QAccessible.queryAccessibleInterface, child by child) and
  returns the interactive elements (buttons, check boxes, combo boxes, text fields, sliders, lists,
  tables…) whose accessible name is empty, so a test can hold every window to it.
"""

from __future__ import annotations

from typing import Optional

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAccessible, QAccessibleAnnouncementEvent, QAccessibleInterface
from PySide6.QtWidgets import QWidget

R = QAccessible.Role
INTERACTIVE = frozenset({
    R.PushButton, R.CheckBox, R.RadioButton, R.ComboBox, R.EditableText, R.Slider, R.SpinBox, R.List, R.Table,
    R.Tree, R.ButtonMenu, R.ButtonDropDown, R.PageTab,
})


class Announcements(QObject):
    """Every announcement the windows made: `made(text, widget)`."""

    made = Signal(str, QObject)


_hub: list[Announcements] = []


def announcements() -> Announcements:
    if not _hub:
        _hub.append(Announcements())
    return _hub[0]


def announce(widget: QWidget, text: str, assertive: bool = True) -> None:
    """Tell a screen reader `text` now (and keep it as `widget`'s accessible description)."""
    widget.setAccessibleDescription(text)
    event = QAccessibleAnnouncementEvent(widget, text)
    event.setPoliteness(QAccessible.AnnouncementPoliteness.Assertive if assertive
                        else QAccessible.AnnouncementPoliteness.Polite)
    QAccessible.updateAccessibility(event)
    announcements().made.emit(text, widget)


def describe(widget: QWidget, name: str, description: str = "") -> QWidget:
    widget.setAccessibleName(name)
    if description:
        widget.setAccessibleDescription(description)
    return widget


def describe_all(*controls: tuple[QWidget, str, str]) -> None:
    """`describe` for each (widget, name, description)."""
    for widget, name, description in controls:
        describe(widget, name, description)


def nameless(root: QObject, visible_only: bool = False) -> list[str]:
    """The interactive elements under `root` with no accessible name, each as "Role (objectName, class)"."""
    found: list[str] = []
    top = QAccessible.queryAccessibleInterface(root)
    if top is None:
        return found
    _walk(top, found, visible_only, set(), 0)
    return found


def _walk(iface: QAccessibleInterface, found: list[str], visible_only: bool, seen: set[int], depth: int) -> None:
    if depth > 60 or not iface.isValid():
        return
    obj = iface.object()
    key = id(obj) if obj is not None else None
    if key is not None:
        if key in seen:
            return
        seen.add(key)
    state = iface.state()
    if visible_only and state.invisible:
        return
    if iface.role() in INTERACTIVE and not (iface.text(QAccessible.Text.Name) or "").strip():
        found.append(_label(iface, obj))
    if iface.role() in (R.List, R.Table, R.Tree, R.ComboBox):
        return  # rows are data, named by their text, and a combo box's popup is its own: the control must be named
    for i in range(iface.childCount()):
        child = iface.child(i)
        if child is not None:
            _walk(child, found, visible_only, seen, depth + 1)


def _label(iface: QAccessibleInterface, obj: Optional[QObject]) -> str:
    name = obj.objectName() if obj is not None else ""
    cls = type(obj).__name__ if obj is not None else "?"
    return f"{iface.role().name} ({name or '-'}, {cls})"
