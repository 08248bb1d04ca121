"""The window opens on a real X server, and says what to install when Qt's xcb plugin cannot load.

Qt aborts the process when its platform plugin lacks a system library ("could not load the Qt
platform plugin"), so companion.display_check looks at the plugin file before any Qt GUI import.
Stand-in plugins built with gcc give it a library that is missing and one that resolves through
RUNPATH $ORIGIN, as Qt's own libraries do; the real plugin is run under Xvfb and screenshotted.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from companion import display_check
from companion.display_check import (
    PluginProblem,
    check_platform,
    missing_libraries,
    platforms_to_try,
    problem_message,
    pyside_platforms_dir,
    read_dynamic,
)

QT_ABORT = "could not load the qt platform plugin"
TOOLS_HINT = "(bash .ci/run installs them)"


def _companion_command() -> Path:
    exe = Path(sys.executable).parent / ("companion.exe" if sys.platform == "win32" else "companion")
    assert exe.exists(), f"the installed app has no 'companion' command beside {sys.executable}"
    return exe


def _need(*tools: str) -> None:
    missing = [tool for tool in tools if shutil.which(tool) is None]
    if missing:
        pytest.fail(f"this test needs {', '.join(missing)} {TOOLS_HINT}")


def _clean_env(**extra: str) -> dict[str, str]:
    """The test's environment (COMPANION_*_DIR from conftest) without any Qt platform choice of the host."""
    env = dict(os.environ)
    for name in ("QT_QPA_PLATFORM", "QT_QPA_PLATFORM_PLUGIN_PATH", "QT_PLUGIN_PATH", "WAYLAND_DISPLAY",
                 "XDG_SESSION_TYPE", "DISPLAY"):
        env.pop(name, None)
    env.update(extra)
    return env


pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Qt's xcb plugin is Linux's")


# --- stand-in plugins ---------------------------------------------------------------------------------

def _gcc(*args: str) -> None:
    run = subprocess.run(["gcc", *args], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr


def _build(folder: Path, source: Path, dep: str, tags: str = "--enable-new-dtags") -> Path:
    """folder/libqfake.so, linked (-L folder -l<dep>) to folder/lib<dep>.so and looking for it beside itself."""
    folder.mkdir()
    (folder / "dep.c").write_text("int ccdep_value(void) { return 42; }\n")
    _gcc("-shared", "-fPIC", "-o", str(folder / f"lib{dep}.so"), str(folder / "dep.c"))
    _gcc("-shared", "-fPIC", "-o", str(folder / "libqfake.so"), str(source),
         "-L", str(folder), f"-l{dep}", f"-Wl,{tags}", "-Wl,-rpath,$ORIGIN")
    return folder / "libqfake.so"


@pytest.fixture(scope="session")
def fakes(tmp_path_factory) -> dict[str, Path]:
    """libqfake.so linked to libccdep.so (-L dir -lccdep, rpath $ORIGIN): with the dependency beside it
    ('good'), deleted ('broken'), and DT_RPATH instead of DT_RUNPATH ('good_rpath'); plus platform
    folders whose libqxcb.so / libqwayland.so are those stand-ins."""
    _need("gcc")
    root = tmp_path_factory.mktemp("fake_plugins")
    source = root / "plugin.c"
    source.write_text("int ccdep_value(void);\nint qfake_value(void) { return ccdep_value(); }\n")
    made = {
        "good": _build(root / "good", source, "ccdep"),
        "broken": _build(root / "broken", source, "ccdep"),
        "good_rpath": _build(root / "good_rpath", source, "ccdep", "--disable-new-dtags"),
        "gone": _build(root / "gone", source, "ccgone"),
    }
    (root / "broken" / "libccdep.so").unlink()
    (root / "gone" / "libccgone.so").unlink()

    broken_platforms = root / "broken_platforms"  # a QT_QPA_PLATFORM_PLUGIN_PATH whose xcb and wayland lack libccdep
    broken_platforms.mkdir()
    shutil.copy(made["broken"], broken_platforms / "libqxcb.so")
    shutil.copy(made["broken"], broken_platforms / "libqwayland.so")
    made["broken_platforms"] = broken_platforms

    wayland_ok = root / "wayland_ok"  # xcb lacks libccgone.so, wayland has its libccdep.so beside it
    wayland_ok.mkdir()
    shutil.copy(made["gone"], wayland_ok / "libqxcb.so")
    shutil.copy(made["good"], wayland_ok / "libqwayland.so")
    shutil.copy(root / "good" / "libccdep.so", wayland_ok / "libccdep.so")
    made["wayland_ok"] = wayland_ok
    return made


@pytest.mark.parametrize("use_ldd", [True, False], ids=["ldd", "elf+ctypes"])
def test_a_missing_dependency_is_found(fakes, use_ldd):
    if use_ldd:
        _need("ldd")
    assert missing_libraries(fakes["broken"], use_ldd=use_ldd) == ["libccdep.so"]


@pytest.mark.parametrize("variant", ["good", "good_rpath"])
@pytest.mark.parametrize("use_ldd", [True, False], ids=["ldd", "elf+ctypes"])
def test_a_dependency_found_through_origin_is_not_missing(fakes, variant, use_ldd):
    """Qt's own libraries (libQt6XcbQpa.so.6, ...) are found the same way: RUNPATH $ORIGIN."""
    assert missing_libraries(fakes[variant], use_ldd=use_ldd) == []


def test_the_elf_reader_sees_needed_libraries_and_runpath(fakes):
    needed, rpath, runpath = read_dynamic(fakes["good"])
    assert needed == ["libccdep.so"]  # libc only when something of it is called
    assert runpath == ["$ORIGIN"] and rpath == []
    needed, rpath, runpath = read_dynamic(fakes["good_rpath"])
    assert rpath == ["$ORIGIN"] and runpath == []


# --- the message ------------------------------------------------------------------------------------------

def _problem(*missing: str, platform: str = "xcb") -> PluginProblem:
    return PluginProblem(platform, Path("/qt/plugins/platforms/libqxcb.so"), tuple(missing))


def test_a_missing_libxcb_cursor_names_its_packages():
    text = problem_message([_problem("libxcb-cursor.so.0")])
    assert text == ("the window cannot open: Qt's xcb platform plugin needs libxcb-cursor.so.0, which is not installed. "
                    "Install it: sudo apt install libxcb-cursor0 (Debian/Ubuntu) or sudo dnf install xcb-util-cursor (Fedora).")


def test_several_missing_libraries_are_one_install_command_each():
    text = problem_message([_problem("libxcb-icccm.so.4", "libxcb-keysyms.so.1", "libxkbcommon-x11.so.0",
                                     "libxcb-randr.so.0", "libxcb-shape.so.0")])
    assert "needs libxcb-icccm.so.4, libxcb-keysyms.so.1, libxkbcommon-x11.so.0, libxcb-randr.so.0 and " \
           "libxcb-shape.so.0, which are not installed" in text
    assert ("sudo apt install libxcb-icccm4 libxcb-keysyms1 libxkbcommon-x11-0 libxcb-randr0 libxcb-shape0 "
            "(Debian/Ubuntu)") in text
    assert "sudo dnf install xcb-util-wm xcb-util-keysyms libxkbcommon-x11 libxcb (Fedora)" in text  # libxcb once
    assert "\n" not in text


def test_an_unknown_library_is_still_named():
    text = problem_message([_problem("libccdep.so")])
    assert "needs libccdep.so, which is not installed" in text
    assert "apt-file search libccdep.so" in text and "dnf provides */libccdep.so" in text
    assert "sudo apt install" not in text
    mixed = problem_message([_problem("libxcb-cursor.so.0", "libccdep.so")])
    assert "sudo apt install libxcb-cursor0 " in mixed and "apt-file search libccdep.so" in mixed


def test_every_library_of_the_table_has_both_distributions():
    table = display_check.load_packages()
    assert len(table) > 40
    for library, row in table.items():
        assert row.get("debian") and row.get("fedora"), library
    for name in ("libxcb-cursor", "libxkbcommon-x11", "libxcb-icccm", "libxcb-image", "libxcb-keysyms",
                 "libxcb-render-util", "libX11-xcb", "libEGL", "libGL", "libOpenGL", "libfontconfig",
                 "libdbus-1", "libglib-2.0", "libfreetype", "libSM", "libICE", "libXrender"):
        assert name in table, name


# --- which platform Qt will use --------------------------------------------------------------------------

@pytest.mark.parametrize("env, order", [
    ({"DISPLAY": ":0"}, ["xcb"]),
    ({"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0"}, ["wayland", "xcb"]),
    ({"XDG_SESSION_TYPE": "wayland"}, ["wayland", "xcb"]),
    ({"DISPLAY": ":0", "QT_QPA_PLATFORM": "xcb:nomitshm"}, ["xcb"]),
    ({"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0", "QT_QPA_PLATFORM": "xcb"}, ["xcb"]),
    ({"QT_QPA_PLATFORM": "Wayland;XCB"}, ["wayland", "xcb"]),
    ({"DISPLAY": ":0", "QT_QPA_PLATFORM": "offscreen"}, ["offscreen"]),
])
def test_the_platforms_follow_qts_own_order(env, order):
    assert platforms_to_try(env) == order


def test_an_xcb_session_with_a_broken_plugin_is_refused(fakes):
    env = {"DISPLAY": ":0", "QT_QPA_PLATFORM_PLUGIN_PATH": str(fakes["broken_platforms"])}
    problems = check_platform(env)
    assert [(p.platform, p.missing, p.overridden) for p in problems] == [("xcb", ("libccdep.so",), True)]
    assert problems[0].plugin == fakes["broken_platforms"] / "libqxcb.so"


def test_a_working_wayland_session_is_not_blocked_by_xcb(fakes):
    """Qt 6 tries wayland first in a Wayland session: xcb's libraries matter only when wayland cannot load."""
    env = {"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0", "QT_QPA_PLATFORM_PLUGIN_PATH": str(fakes["wayland_ok"])}
    assert check_platform(env) == []
    env["QT_QPA_PLATFORM"] = "xcb"  # asked for xcb by name: its libraries count
    assert [(p.platform, p.missing) for p in check_platform(env)] == [("xcb", ("libccgone.so",))]


def test_a_wayland_session_where_neither_plugin_loads_names_both(fakes):
    env = {"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0", "QT_QPA_PLATFORM_PLUGIN_PATH": str(fakes["broken_platforms"])}
    problems = check_platform(env)
    assert [p.platform for p in problems] == ["wayland", "xcb"]
    text = problem_message(problems)
    assert text.startswith("the window cannot open: Qt's wayland (") and "platform plugins need libccdep.so," in text


def test_other_platforms_are_left_to_qt(fakes):
    env = {"DISPLAY": ":0", "QT_QPA_PLATFORM_PLUGIN_PATH": str(fakes["broken_platforms"])}
    for platform in ("offscreen", "minimal", "eglfs", "vnc"):
        assert check_platform({**env, "QT_QPA_PLATFORM": platform}) == []


def test_the_check_imports_no_qt(tmp_path):
    code = ("import sys, companion.display_check as d; d.display_problem(); "
            "print(sorted(m for m in sys.modules if m.startswith('PySide6') or m.startswith('shiboken')))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=60,
                         env=_clean_env(DISPLAY=":0"))
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"


# --- the real plugin ----------------------------------------------------------------------------------------

def _real_xcb_plugin() -> Path:
    folder = pyside_platforms_dir()
    assert folder is not None, "PySide6 has no Qt/plugins/platforms folder"
    plugin = folder / "libqxcb.so"
    assert plugin.is_file(), f"PySide6 ships no xcb plugin: {plugin}"
    return plugin


def test_the_real_xcb_plugin_has_all_its_libraries():
    """After .ci/run's apt-get: every library of PySide6's libqxcb.so resolves (Qt's own through $ORIGIN)."""
    _need("ldd")
    plugin = _real_xcb_plugin()
    ldd = subprocess.run(["ldd", str(plugin)], capture_output=True, text=True, timeout=60, env={**os.environ, "LC_ALL": "C"})
    assert ldd.returncode == 0, ldd.stderr
    not_found = [line.strip() for line in ldd.stdout.splitlines() if "not found" in line]
    assert not_found == [], "install: " + problem_message([PluginProblem("xcb", plugin, tuple(
        line.split()[0] for line in not_found))])
    assert "libQt6XcbQpa.so.6 => " in ldd.stdout  # Qt's own, resolved through RUNPATH
    assert check_platform({"DISPLAY": ":0"}) == []  # how quick it is: bench/bench_window.py
    assert missing_libraries(plugin, use_ldd=False) == []


# --- the installed command ------------------------------------------------------------------------------------

@pytest.mark.parametrize("platform", [None, "xcb"], ids=["default", "xcb"])
def test_the_command_says_what_to_install_and_exits_2(fakes, tmp_path, platform):
    env = _clean_env(DISPLAY=":99", QT_QPA_PLATFORM_PLUGIN_PATH=str(fakes["broken_platforms"]))
    if platform:
        env["QT_QPA_PLATFORM"] = platform
    run = subprocess.run([str(_companion_command()), "--demo"], capture_output=True, text=True, cwd=tmp_path,
                         env=env, timeout=120)
    assert run.returncode == 2, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("companion: the window cannot open: Qt's xcb (")
    assert "needs libccdep.so, which is not installed" in lines[0]
    assert QT_ABORT not in run.stderr.lower() and "qt.qpa" not in run.stderr


def test_the_replay_window_says_it_too(fakes, tmp_path):
    env = _clean_env(DISPLAY=":99", QT_QPA_PLATFORM_PLUGIN_PATH=str(fakes["broken_platforms"]))
    run = subprocess.run([str(_companion_command()), "replay", "1"], capture_output=True, text=True, cwd=tmp_path,
                         env=env, timeout=120)
    assert run.returncode == 2, run.stderr
    assert "the window cannot open" in run.stderr and "libccdep.so" in run.stderr
    assert QT_ABORT not in run.stderr.lower()


# --- the real window under Xvfb ------------------------------------------------------------------------------

@pytest.fixture
def xvfb(tmp_path):
    """An X server of the test's own; yields its DISPLAY (":N", a free number Xvfb picked)."""
    _need("Xvfb")
    read, write = os.pipe()
    log = open(tmp_path / "xvfb.log", "wb")
    server = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", "1280x900x24", "-nolisten", "tcp"],
                              pass_fds=(write,), stdout=log, stderr=subprocess.STDOUT)
    os.close(write)
    try:
        number = b""
        deadline = time.monotonic() + 30
        while not number.endswith(b"\n") and time.monotonic() < deadline:
            chunk = os.read(read, 16)
            if not chunk:
                break
            number += chunk
        assert number.strip().isdigit(), f"Xvfb did not start: {(tmp_path / 'xvfb.log').read_text()}"
        yield f":{number.strip().decode()}"
    finally:
        os.close(read)
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def _colours(png: Path) -> int:
    run = subprocess.run(["identify", "-format", "%k", str(png)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    return int(run.stdout.strip())


def test_the_demo_window_opens_on_a_real_x_server(xvfb, tmp_path):
    _need("xdotool", "import", "identify")
    env = _clean_env(DISPLAY=xvfb, QT_QPA_PLATFORM="xcb")
    assert env["COMPANION_CONFIG_DIR"].startswith(str(tmp_path)), "the settings stay in the test's folder"
    x_env = {**os.environ, "DISPLAY": xvfb}
    stdout, stderr = tmp_path / "companion.out", tmp_path / "companion.err"
    with open(stdout, "wb") as out, open(stderr, "wb") as err:
        app = subprocess.Popen([str(_companion_command()), "--demo"], stdout=out, stderr=err, cwd=tmp_path, env=env)
    try:
        window = ""
        deadline = time.monotonic() + 60
        while not window and time.monotonic() < deadline:
            assert app.poll() is None, f"companion ended ({app.returncode}): {stderr.read_text()}"
            found = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", "^Call Companion$"],
                                   capture_output=True, text=True, env=x_env, timeout=30)
            window = found.stdout.split()[0] if found.stdout.split() else ""
            if not window:
                time.sleep(0.25)
        assert window, f"no 'Call Companion' window was mapped on {xvfb}: {stderr.read_text()}"

        shot = tmp_path / "xcb_demo.png"
        colours = 0
        deadline = time.monotonic() + 30
        while colours < 64 and time.monotonic() < deadline:  # a blank server is one colour; the window, hundreds
            time.sleep(0.5)
            grab = subprocess.run(["import", "-window", "root", str(shot)], capture_output=True, text=True,
                                  env=x_env, timeout=60)
            assert grab.returncode == 0, grab.stderr
            colours = _colours(shot)
        assert colours >= 64, f"the screenshot is nearly blank ({colours} colours): {shot}"
        geometry = subprocess.run(["xdotool", "getwindowgeometry", window], capture_output=True, text=True,
                                  env=x_env, timeout=30).stdout
        assert "Geometry:" in geometry, geometry
        assert app.poll() is None, f"companion ended while drawing: {stderr.read_text()}"
    finally:
        if app.poll() is None:
            app.send_signal(signal.SIGTERM)  # as a logout does: the window closes, the call ends
        try:
            code = app.wait(timeout=60)
        except subprocess.TimeoutExpired:
            app.kill()
            app.wait()
            code = None
    assert code == 0, f"companion did not end cleanly on SIGTERM ({code}): {stderr.read_text()}"
    errors = stderr.read_text()
    assert QT_ABORT not in errors.lower() and "Traceback" not in errors, errors
