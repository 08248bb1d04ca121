"""The `companion` command: the core's command line with the window as its front end.

`companion.cli` never imports the window; this module hands it one. Nothing here imports PySide6 until a
window is asked for, so `companion --version` and the headless commands start as fast as the core alone."""

from __future__ import annotations

from companion.cli import main as cli_main

TYPE_CHECKING = False  # typing is not imported at run time: the command line starts without it
if TYPE_CHECKING:
    from typing import Callable, Optional, Sequence


class WindowFrontEnd:
    """Opens the windows the command line asks for (`companion`, `--demo`, `replay`) and checks them."""

    def open_window(self, demo: bool, model: Optional[str]) -> int:
        from ui.app import run

        return run(demo=demo, model=model)

    def open_replay(self, db: object, call_id: int) -> int:
        from ui.app import run_replay

        return run_replay(db, call_id)

    def checks(self) -> list[tuple[str, Callable[[], str]]]:
        import importlib

        def window() -> str:
            importlib.import_module("ui.call.main_window")  # imports PySide6 and every window module
            return "PySide6 " + importlib.import_module("PySide6").__version__

        return [("window", window)]


def main(argv: Optional[Sequence[str]] = None) -> int:
    return cli_main(argv, front_end=WindowFrontEnd())
