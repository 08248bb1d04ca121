"""What `pip install .` ships is the whole app: every package, the resources, a working command."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.installed import CHECKOUT, editable_install


def _checkout_packages() -> list[str]:
    names = []
    for init in sorted((CHECKOUT / "companion").rglob("__init__.py")) + [CHECKOUT / "ui" / "__init__.py"]:
        names.append(".".join(init.parent.relative_to(CHECKOUT).parts))
    return names


def _companion_command() -> Path:
    exe = Path(sys.executable).parent / ("companion.exe" if sys.platform == "win32" else "companion")
    assert exe.exists(), f"the installed app has no 'companion' command beside {sys.executable}"
    return exe


@pytest.mark.parametrize("package", _checkout_packages())
def test_every_package_of_the_checkout_is_installed(package):
    spec = importlib.util.find_spec(package)
    assert spec is not None, f"{package} is not in the installed app"
    if not editable_install():
        assert not Path(spec.origin).resolve().is_relative_to(CHECKOUT), f"{package} was imported from the checkout"


def test_the_installed_command_runs_from_any_folder(tmp_path):
    exe = _companion_command()
    version = subprocess.run([str(exe), "--version"], capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert version.returncode == 0 and version.stdout.startswith("companion ")
    listed = subprocess.run([str(exe), "calls", "list", "--json"], capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == []


def test_the_installed_command_analyses_the_bundled_demo_call(tmp_path):
    from companion.resources import resource_path

    demo = resource_path("demo/demo_call.flac")
    if not editable_install():
        assert not demo.resolve().is_relative_to(CHECKOUT), "the demo call came from the checkout, not the install"
    run = subprocess.run([str(_companion_command()), "analyze", str(demo), "--json", "--model", "none"],
                         capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert run.returncode == 0, run.stderr
    doc = json.loads(run.stdout)
    assert doc["duration_s"] > 60 and doc["turns"] and doc["prompts"]
