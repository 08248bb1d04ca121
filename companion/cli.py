"""`companion` command line."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Optional, Sequence

from companion import __version__
from companion.errors import CompanionError


def _add_analyze(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "analyze",
        help="coach a recorded call: what the companion would have said, and when",
        description="Run a recorded call through the same pipeline as a live call, as fast as possible.",
    )
    p.add_argument("call", metavar="CALL", type=Path, help="the call recording (stereo: agent and customer channels)")
    p.add_argument("--customer", type=Path, metavar="CUSTOMER", help="the customer's side as its own file (CALL is then the agent's)")
    p.add_argument("--agent-channel", type=int, metavar="N", help="channel of the agent in CALL (default 0)")
    p.add_argument("--customer-channel", type=int, metavar="N", help="channel of the customer (default 1, or 0 with --customer)")
    p.add_argument("--model", metavar="DIR|none", help="Vosk model folder for transcription, or 'none' for acoustic coaching only")
    p.add_argument("--coaching", type=Path, metavar="FILE", help="a coaching.toml overriding the default thresholds")
    p.add_argument("--json", action="store_true", help="print one JSON document instead of a summary")
    p.set_defaults(func=_run_analyze)


def _run_analyze(args: argparse.Namespace) -> int:
    from companion.analysis import analyze_call
    from companion.audio.file_source import CallFileSpec, FileCallSource
    from companion.config import load_config
    from companion.report import summary_text

    for flag, value in (("--agent-channel", args.agent_channel), ("--customer-channel", args.customer_channel)):
        if value is not None and value < 0:
            raise CompanionError(f"{flag} must be 0 or more, not {value}.")
    config = load_config(args.coaching)
    spec = CallFileSpec(
        path=args.call,
        customer_path=args.customer,
        agent_channel=args.agent_channel,
        customer_channel=args.customer_channel,
    )
    source = FileCallSource(spec, config.audio)  # bad input is reported before a model is loaded
    try:
        model = _choose_model(args.model, config.asr.language)
    except BaseException:
        source.close()
        raise
    doc = analyze_call(source, config, model=model)
    if args.json:
        json.dump(doc, sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        print(summary_text(doc))
    return 0


def _choose_model(asked: Optional[str], language: str):
    """The loaded model to transcribe with, or None for acoustic coaching; says which on stderr."""
    from companion.asr.discovery import find_model
    from companion.asr.engine import load_model

    if asked is not None and asked.strip().lower() == "none":
        return None
    candidate = find_model(asked, language)
    if candidate is None:
        print("companion: no speech model found, so no transcript; pace comes from the acoustic estimate "
              "(get a model with 'companion models download').", file=sys.stderr)
        return None
    loaded = load_model(candidate.path)
    note = "" if candidate.language.split("-")[0] == language.split("-")[0] else f" (language {candidate.language}, not {language})"
    print(f"companion: transcribing with {candidate.name}{note}, from {candidate.path}; loaded in {loaded.load_s:.1f} s.",
          file=sys.stderr)
    return loaded


def _add_models(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("models", help="list, download, locate or remove speech models",
                       description="Speech models for transcription (Vosk).")
    p.add_argument("--catalog", type=Path, metavar="FILE", help=argparse.SUPPRESS)
    msub = p.add_subparsers(dest="models_command", metavar="ACTION", required=True)
    msub.add_parser("list", help="models in the catalog and models found on this machine")
    d = msub.add_parser("download", help="download and install a model (default: the small US English model)")
    d.add_argument("name", nargs="?", metavar="NAME")
    pth = msub.add_parser("path", help="where a model is (default: the one the companion would use)")
    pth.add_argument("name", nargs="?", metavar="NAME")
    r = msub.add_parser("remove", help="remove a downloaded model")
    r.add_argument("name", metavar="NAME")
    p.set_defaults(func=_run_models)


def _run_models(args: argparse.Namespace) -> int:
    from companion.asr import models_cli

    return models_cli.run(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="companion", description="Call Companion: a private coach beside the softphone.")
    parser.add_argument("--version", action="version", version=f"companion {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_analyze(sub)
    _add_models(sub)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return args.func(args)
    except CompanionError as exc:
        print(f"companion: {exc.message}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("companion: stopped.", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # a bug: one line for the user, the trace only when asked
        if os.environ.get("COMPANION_DEBUG"):
            raise
        print(f"companion: internal error ({type(exc).__name__}: {exc}); set COMPANION_DEBUG=1 for details.", file=sys.stderr)
        return 1
