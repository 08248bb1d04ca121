"""How a long batch tells its progress: a bar redrawn in place on a terminal, one plain line per file
elsewhere (a log, a pipe, a test), so what is said about each file reads the same in both."""

from __future__ import annotations

from typing import TextIO

BAR_WIDTH = 30


class Progress:
    """`line(text)` says something about one file; `step(name)` counts one file done. On a terminal the
    lines scroll above a bar kept on the last line; otherwise every line is printed as it is said."""

    def __init__(self, total: int, out: TextIO):
        self.total = total
        self.done = 0
        self.out = out
        try:
            self.terminal = bool(out.isatty())
        except (AttributeError, ValueError):
            self.terminal = False
        self._drawn = False

    def line(self, text: str) -> None:
        self._clear()
        print(text, file=self.out, flush=True)
        self._draw()

    def step(self, name: str = "") -> None:
        self.done += 1
        self._draw(name)

    def close(self) -> None:
        self._clear()

    def _clear(self) -> None:
        if self._drawn:
            self.out.write("\r\x1b[K")
            self._drawn = False

    def _draw(self, name: str = "") -> None:
        if not self.terminal or not self.total:
            return
        filled = BAR_WIDTH * self.done // self.total
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        self.out.write(f"\r\x1b[K[{bar}] {self.done}/{self.total} {name[:40]}")
        self.out.flush()
        self._drawn = True
