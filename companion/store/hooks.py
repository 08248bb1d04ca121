"""What else happens when a call is closed: hooks run inside the transaction that closes it.

The store closes calls in three places — the recorder at the call's end, `db.close_interrupted` for a
call a crash left open, and salvage, which queues again the calls a damaged outbox lost. Each runs
`call_closed(db, call_id)` in that same transaction, and the layers above subscribe (`on_call_closed`):
the team package queues a team call for its server there (companion.app.wiring installs it), so the
store never imports the team package, and a call is never closed without its hooks having run.

A hook returns whether it did something (salvage counts the calls queued again); an exception from a
hook rolls the closing transaction back, as any other failed write of the close would.
"""

from __future__ import annotations

import _thread  # (threading's own lock, without threading: every command installs the hooks)

TYPE_CHECKING = False  # typing and sqlite3 are not imported for the hooks: every command installs them
if TYPE_CHECKING:
    import sqlite3
    from typing import Callable

    CallClosedHook = Callable[[sqlite3.Connection, int], bool]

_hooks: list[CallClosedHook] = []
_lock = _thread.allocate_lock()


def on_call_closed(hook: CallClosedHook) -> Callable[[], None]:
    """Run `hook(db, call_id)` in the transaction that closes each call from now on (once, however
    often it is added); returns a function that removes it."""
    with _lock:
        if hook not in _hooks:
            _hooks.append(hook)

    def remove() -> None:
        with _lock:
            if hook in _hooks:
                _hooks.remove(hook)

    return remove


def call_closed(db: sqlite3.Connection, call_id: int) -> bool:
    """Inside the closing transaction: every hook, in the order they were added. True when one of them
    did something."""
    with _lock:
        hooks = list(_hooks)
    done = False
    for hook in hooks:
        done = bool(hook(db, call_id)) or done
    return done
