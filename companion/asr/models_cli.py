"""`companion models list | download NAME | path [NAME] | remove NAME`."""

from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path
from typing import TextIO

from companion.asr.catalog import check_model_name, load_catalog
from companion.asr.discovery import auto_candidates, find_model, passed_over_note
from companion.asr.download import Progress, download_model, installed_model, remove_model
from companion.asr.languages import language_name, serves
from companion.config import load_config
from companion.errors import DownloadCancelled, ModelError
from companion.paths import user_models_dir


def _size(n: float) -> str:
    return f"{n / 1e6:.1f} MB" if n < 1e9 else f"{n / 1e9:.2f} GB"


class ProgressBar:
    """A one-line, determinate progress bar on stderr."""

    WIDTH = 28

    def __init__(self, stream: TextIO = sys.stderr) -> None:
        self.stream = stream

    def __call__(self, p: Progress) -> None:
        filled = int(self.WIDTH * p.fraction)
        eta = "" if p.eta_s is None else f"  {p.eta_s:.0f} s left"
        self.stream.write(f"\r  [{'#' * filled}{'.' * (self.WIDTH - filled)}] {p.fraction:4.0%}  "
                          f"{_size(p.done)} of {_size(p.total)}  {p.rate_bps / 1e6:.1f} MB/s{eta}   ")
        self.stream.flush()

    def done(self) -> None:
        self.stream.write("\n")
        self.stream.flush()


def run(args: argparse.Namespace) -> int:
    catalog = load_catalog(args.catalog)
    models_dir = user_models_dir()
    action = args.models_command
    if action == "list":
        print(f"Models folder: {models_dir}")
        for entry in catalog.entries:
            installed = (models_dir / entry.name).is_dir()
            mark = "installed" if installed else _size(entry.size)
            default = " (default)" if entry.name == catalog.default else ""
            print(f"  {entry.name:<32} {entry.language:<6} {mark:>10}  {entry.description}{default}")
        others = [c for c in auto_candidates() if not (c.source == "app" and catalog.find(c.name))]
        language = load_config().asr.language
        if others:
            print("Also found on this machine:")
            for c in others:
                unused = "" if serves(c.language, language) else f"  ({passed_over_note(c, language)})"
                print(f"  {c.name:<32} {c.language:<6} {c.source:>10}  {c.path}{unused}")
        return 0
    if action == "download":
        entry = catalog.get(check_model_name(args.name or catalog.default))
        print(f"Downloading {entry.name} ({_size(entry.size)}) into {models_dir}", file=sys.stderr)
        bar = ProgressBar()
        cancel = threading.Event()
        downloaded: list[Path] = []
        failed: list[BaseException] = []

        def work() -> None:
            try:
                downloaded.append(download_model(entry, models_dir, bar, cancel, catalog.download))
            except BaseException as exc:  # noqa: BLE001 - re-raised on the main thread
                failed.append(exc)

        worker = threading.Thread(target=work, name="model-download", daemon=True)
        worker.start()
        try:
            while worker.is_alive():
                worker.join(0.2)
        except KeyboardInterrupt:
            cancel.set()
            worker.join()
            bar.done()
            raise DownloadCancelled(f"Download of {entry.name} cancelled; nothing was installed.") from None
        bar.done()
        if failed:
            raise failed[0]
        print(downloaded[0])
        return 0
    if action == "path":
        if args.name is not None:
            print(installed_model(models_dir, args.name))
            return 0
        language = load_config().asr.language
        found = find_model(None, language)
        if found is None:
            raise ModelError(f"No {language_name(language)} speech model found; get one with 'companion models download'.")
        print(found.path)
        return 0
    if action == "remove":
        print(f"Removed {remove_model(models_dir, args.name)}")
        return 0
    raise ModelError(f"Unknown action {action}.")
