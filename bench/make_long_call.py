"""Build a long synthetic two-party call (espeak-ng + sox) for the benchmarks."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests import scenarios  # noqa: E402
from tests.callgen import Say, Script, render  # noqa: E402


def long_call(minutes: float) -> Script:
    lines: list[Say] = []
    i = 0
    while True:
        agent = scenarios.AGENT_LINES[i % len(scenarios.AGENT_LINES)]
        customer = scenarios.CUSTOMER_LINES[i % len(scenarios.CUSTOMER_LINES)]
        lines.append(Say("customer", customer, gap=0.4, wpm=160))
        lines.append(Say("agent", agent, gap=0.5, wpm=150 if i % 4 else 210))
        if i % 5 == 2:
            lines.append(Say("customer", customer, after_start=1.5, wpm=160, tag="interrupt"))
        i += 1
        if i * 12.9 > minutes * 60:  # about 12.9 s of call per exchange
            return Script(f"long_{minutes:g}min", lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "out")
    args = parser.parse_args()
    wav, truth = render(long_call(args.minutes), args.out, args.out / "cache")
    print(f"{wav} {truth.duration_s:.0f} s")
