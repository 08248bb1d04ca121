"""`companion` command line: the entry point.

Every command starts here and ends here: the support log says it started and how it ended, and a failure
is one line for the user. The commands and their options are in companion.cli.commands (argparse). `calls
list` — run by scripts and by a glance at the history — is read here without it when its arguments are
plain (companion.app.calls_cli.quick_list: the same options, read the same way; anything else goes to the
whole parser, which says what is wrong), so listing calls imports no more than the store it reads.
"""

from __future__ import annotations

import os
import sys

from companion.errors import CompanionError

TYPE_CHECKING = False  # typing is not imported at run time
if TYPE_CHECKING:
    from typing import Any, Optional, Sequence

    from companion.cli.commands import FrontEnd

NO_WINDOW = ("'python -m companion' is the command line alone, without the window; run the installed "
             "'companion' command (or 'python -m ui') for it.")


def _arguments(argv: Optional[Sequence[str]]) -> Any:
    """The arguments read: `calls list` here, anything else by the whole parser (--version and --help end there,
    before anything heavy is imported)."""
    given = sys.argv[1:] if argv is None else list(argv)
    if given[:2] == ["calls", "list"]:
        from companion.app.calls_cli import quick_list

        quick = quick_list(given)
        if quick is not None:
            return quick
    from companion.cli.commands import build_parser

    return build_parser(argv, every=False).parse_args(argv)


def _dispatch(args: Any, front_end: Optional[FrontEnd]) -> int:
    if args.self_check:
        from companion.self_check import run_checks

        return run_checks(extra=front_end.checks() if front_end is not None else ())
    if not getattr(args, "func", None):  # the window: companion (no command) or companion --demo
        if front_end is None:
            raise CompanionError(f"The window does not open here. {NO_WINDOW}")
        return front_end.open_window(args.demo, args.window_model)
    if getattr(args, "needs_front_end", False):
        return int(args.func(args, front_end))
    return int(args.func(args))


def main(argv: Optional[Sequence[str]] = None, front_end: Optional[FrontEnd] = None) -> int:
    """The command line. `front_end` opens windows (the window itself, `replay`); without one, a command
    that needs a window says so."""
    args = _arguments(argv)
    from companion.app.wiring import install

    install()  # the store's call-closed hook: a team call is queued for the team server as it is closed
    from companion import logs

    command = "self-check" if args.self_check else (args.command or ("demo" if args.demo else "window"))
    logs.start(command)
    try:
        code = _dispatch(args, front_end)
        logs.note("companion.cli", logs.INFO, "%s ended (exit %d)", command, code)
        return code
    except CompanionError as exc:
        logs.note("companion.cli", logs.WARNING, "%s ended: %s (exit %d)", command, type(exc).__name__,
                  exc.exit_code)  # its text may name files
        from companion.textsafe import shown

        print(f"companion: {shown(exc.message)}", file=sys.stderr)  # a file name's escape sequences written out
        return exc.exit_code
    except KeyboardInterrupt:
        print("companion: stopped.", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # a bug: one line for the user, the trace only when asked
        logs.note("companion.cli", logs.ERROR, "%s failed with an internal error", command, error=exc)
        if os.environ.get("COMPANION_DEBUG"):
            raise
        from companion.textsafe import shown

        print(f"companion: internal error ({type(exc).__name__}: {shown(exc)}); set COMPANION_DEBUG=1 for details.",
              file=sys.stderr)
        return 1
