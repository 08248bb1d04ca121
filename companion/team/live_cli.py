"""`companion team watch` and `companion team message`: the live floor from a terminal.

    companion team watch [--json] [--team T] [--duration S]   (supervisor, admin)
    companion team message AGENT TEXT                          (supervisor, admin)

`watch` prints the floor as it is, then one line per change (one JSON object per line with --json):
agent, team, state, call time, the customer's mood, the last prompt, alerts; a raised hand and a
message are lines of their own. It runs until Ctrl-C (or --duration); a server that drops the
connection is tried again. Thresholds are the [live] table of team.toml (companion.team.live_alerts).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import Any

from companion.team.errors import TeamError

COMMANDS = ("watch", "message")


def add_parsers(tsub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    w = tsub.add_parser("watch", help="(supervisor) the team's calls live: one line per change, alerts included",
                        description="Print each agent's live state as it changes (state, call time, mood, last "
                                    "prompt, alerts), raised hands and messages, until Ctrl-C.")
    w.add_argument("--json", action="store_true", help="one JSON object per line (for wallboards and scripts)")
    w.add_argument("--team", metavar="T", help="only this team's agents")
    w.add_argument("--duration", type=float, metavar="S", help="stop after S seconds (default: until Ctrl-C)")
    m = tsub.add_parser("message", help="(supervisor) a short text to an agent, shown in their window now")
    m.add_argument("agent", metavar="AGENT", help="the agent's login on the team server")
    m.add_argument("text", metavar="TEXT", help="what to show them, e.g. \"I'm listening in — offer the refund\"")


def run(args: argparse.Namespace) -> int:
    from companion.team.live_alerts import load_tuning
    from companion.team.settings import load

    settings = load()
    if not settings.dsn:
        raise TeamError("This machine is not connected to a team server — run `companion team connect DSN` "
                        "with a supervisor's login.")
    if args.team_command == "message":
        return _message(settings, args)
    if args.duration is not None and not args.duration > 0:
        raise TeamError("--duration must be more than 0 seconds.")
    from companion.team.live_watch import watch

    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda signum, frame: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        return watch(settings.dsn, load_tuning(), as_json=args.json, team=args.team, stop=stop,
                     duration=args.duration)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _message(settings: Any, args: argparse.Namespace) -> int:
    from companion.team.connection import connect
    from companion.team.live_watch import send_message

    conn = connect(settings.dsn)
    try:
        send_message(conn, args.agent, args.text)
    finally:
        conn.close()
    print(f"companion: sent to {args.agent}; it shows in their window now (and stays with their call on the "
          "team server).", file=sys.stderr)
    return 0
