"""Every file from outside the app (a coaching.toml, a playbook, a call recording) is hostile until checked:
whatever it holds, it is used or refused with one clear line that names the file."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from companion.audio.file_source import CallFileSpec, FileCallSource
from companion.config import load_config
from companion.errors import CompanionError
from companion.playbooks import load_playbook
from companion.resources import resource_path
from tests.installed import OUTSIDE

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
DEFAULT_COACHING = resource_path("coaching.toml").read_text(encoding="utf-8")
PLAYBOOK = resource_path("playbooks/01_unhappy_customer.toml").read_text(encoding="utf-8")
toml_scalars = st.one_of(st.integers(-10**6, 10**6).map(str), st.floats(allow_nan=True, allow_infinity=True).map(
    lambda f: "nan" if f != f else ("inf" if f == float("inf") else ("-inf" if f == float("-inf") else repr(f)))),
    st.sampled_from(["true", "false", '""', '"x"', "[]", "[1, 2]", "{}", '"\\u0000"', "1979-05-27", "[[1]]"]))


def mutated_lines(text: str, data) -> str:
    """A real file with one line's value replaced, one line cut short, or bytes spliced in."""
    lines = text.splitlines()
    i = data.draw(st.integers(0, len(lines) - 1))
    how = data.draw(st.sampled_from(["value", "cut", "splice"]))
    if how == "value" and "=" in lines[i]:
        lines[i] = lines[i].split("=")[0] + "= " + data.draw(toml_scalars)
    elif how == "cut":
        lines[i] = lines[i][: data.draw(st.integers(0, max(0, len(lines[i]) - 1)))]
    else:
        lines.insert(i, data.draw(st.text(max_size=30)))
    return "\n".join(lines) + "\n"


def used_or_named(load, path) -> None:
    try:
        load(path)
    except CompanionError as exc:
        assert str(path) in exc.message and "\n" not in exc.message.strip(), exc.message


@pytest.mark.parametrize("name, text, load", [("coaching.toml", DEFAULT_COACHING, load_config),
                                             ("playbook.toml", PLAYBOOK, load_playbook)])
@FUZZ
@given(data=st.data())
def test_a_damaged_coaching_file_or_playbook_is_used_or_refused_naming_itself(tmp_path, name, text, load, data):
    path = tmp_path / name
    path.write_text(mutated_lines(text, data), encoding="utf-8")
    used_or_named(load, path)


@FUZZ
@given(blob=st.binary(max_size=3000), suffix=st.sampled_from([".wav", ".flac", ".ogg", ".mp3", ""]))
def test_any_bytes_as_a_recording_are_refused_naming_the_file(tmp_path, config, blob, suffix):
    path = tmp_path / f"call{suffix}"
    path.write_bytes(blob)
    try:
        source = FileCallSource(CallFileSpec(path), config.audio)
        for _ in source.blocks():
            pass
        source.close()
    except CompanionError as exc:
        assert path.name in exc.message and "\n" not in exc.message.strip(), exc.message


def test_a_broken_coaching_file_ends_the_command_with_one_line_and_exit_2(tmp_path):
    path = tmp_path / "coaching.toml"
    path.write_bytes(b"[pace]\nwindow_s = \"\xff\xfe\"\n")
    run = subprocess.run([sys.executable, "-m", "ui", "analyze", str(resource_path("demo/demo_call.flac")),
                          "--coaching", str(path)], capture_output=True, text=True, cwd=OUTSIDE, timeout=120)
    assert run.returncode == 2 and run.stderr.count("\n") == 1 and str(path) in run.stderr, run.stderr
