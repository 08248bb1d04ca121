"""The bundled app: built with PyInstaller from this checkout, and it starts, checks itself and
analyses the demo call; the Linux desktop entry and AppStream metainfo validate."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from tests.installed import OUTSIDE
from tests.test_cli import SCHEMA

ROOT = Path(__file__).resolve().parent.parent
LINUX = ROOT / "packaging" / "linux"


@pytest.fixture(scope="session")
def bundle(tmp_path_factory):
    if not sys.platform.startswith("linux"):
        pytest.skip("the CI bundle is the Linux one")
    work = tmp_path_factory.mktemp("pyinstaller")
    run = subprocess.run([sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
                          "--distpath", str(work / "dist"), "--workpath", str(work / "build"),
                          str(ROOT / "packaging" / "pyinstaller" / "companion.spec")],
                         capture_output=True, text=True, cwd=ROOT, timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]
    exe = work / "dist" / "companion" / "companion"
    assert exe.is_file()
    return exe


def run_bundle(exe, *args, tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", COMPANION_DATA_DIR=str(tmp_path / "data"),
               COMPANION_CONFIG_DIR=str(tmp_path / "cfg"))
    env.pop("PYTHONPATH", None)
    return subprocess.run([str(exe), *map(str, args)], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)


def test_the_bundle_reports_its_version(bundle, tmp_path):
    run = run_bundle(bundle, "--version", tmp_path=tmp_path)
    assert run.returncode == 0 and run.stdout.strip() == "companion 0.1.0"


def test_the_bundle_passes_its_self_check(bundle, tmp_path):
    run = run_bundle(bundle, "--self-check", tmp_path=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Healthy." in run.stdout and "FAIL" not in run.stdout
    assert "window: PySide6" in run.stdout and "schema version" in run.stdout


def test_the_bundle_analyses_the_demo_call_like_the_source_tree(bundle, tmp_path):
    demo = ROOT / "resources" / "demo" / "demo_call.flac"
    run = run_bundle(bundle, "analyze", demo, "--json", "--model", "none", tmp_path=tmp_path)
    assert run.returncode == 0, run.stderr
    doc = json.loads(run.stdout)
    jsonschema.validate(doc, SCHEMA)
    source = subprocess.run([sys.executable, "-m", "ui", "analyze", str(demo), "--json", "--model", "none"],
                            capture_output=True, text=True, cwd=OUTSIDE, timeout=300)
    assert doc == json.loads(source.stdout)


def test_a_self_check_that_fails_says_why_and_exits_non_zero(bundle, tmp_path):
    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg" / "coaching.toml").write_text("[coach.slow_down]\nwpm_abve = 3\n")
    run = run_bundle(bundle, "--self-check", tmp_path=tmp_path)
    assert run.returncode == 1 and "FAIL  resources" in run.stdout and "wpm_abve" in run.stdout


def test_the_desktop_entry_validates():
    if shutil.which("desktop-file-validate") is None:
        pytest.fail("desktop-file-validate is missing (Debian package desktop-file-utils; .ci/run installs it)")
    run = subprocess.run(["desktop-file-validate", str(LINUX / "io.github.callcompanion.CallCompanion.desktop")],
                         capture_output=True, text=True)
    assert run.returncode == 0 and "error" not in run.stdout.lower(), run.stdout


def test_the_appstream_metainfo_validates():
    if shutil.which("appstreamcli") is None:
        pytest.fail("appstreamcli is missing (Debian package appstream; .ci/run installs it)")
    run = subprocess.run(["appstreamcli", "validate", "--no-net",
                          str(LINUX / "io.github.callcompanion.CallCompanion.metainfo.xml")], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_icons_at_the_usual_sizes():
    from companion.resources import resource_path

    for size in (16, 32, 48, 64, 128, 256):
        png = resource_path(f"icons/hicolor/{size}x{size}/apps/call-companion.png")
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert resource_path("icons/call-companion.svg").read_text().startswith("<svg")
