"""Can Qt's Linux platform plugin load? Asked before any PySide6 GUI import, because Qt cannot be asked.

When a shared library that Qt's xcb (X11) plugin needs is missing, which is common on a fresh Debian
or Ubuntu desktop (libxcb-cursor0, libxcb-icccm4, ...), `QApplication()` does not raise: Qt prints
"could not load the Qt platform plugin" and aborts the process. So the window first looks at the
plugin file itself: `ldd` lists every library it needs, through Qt's own libraries (found by RUNPATH
$ORIGIN), and "=> not found" marks what is missing. Without `ldd`, the ELF dynamic sections are read
and each library is looked for or loaded with ctypes. The missing libraries are then named with
the Debian/Ubuntu and Fedora packages that install them (resources/qt_linux_packages.toml).

Nothing here imports Qt: PySide6's folder is found with importlib's finder, the plugin by its path.
Which platforms Qt tries, and in what order, follows QGuiApplicationPrivate::createPlatformIntegration
(Qt 6): QT_QPA_PLATFORM when set (a ';' list, options after ':'); otherwise wayland first in a
Wayland session (WAYLAND_DISPLAY or XDG_SESSION_TYPE=wayland), then xcb. The window is refused only
when every platform Qt would try has a plugin with missing libraries. A platform this check does not
know (offscreen, eglfs, ...) or whose plugin it cannot find is left to Qt.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import re
import shutil
import struct
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping, Optional, Sequence

# The plugin files a platform's name is served by, newest Qt first (Qt before 6.x split wayland in two).
PLUGIN_FILES = {
    "xcb": ("libqxcb.so",),
    "wayland": ("libqwayland.so", "libqwayland-generic.so"),
    "wayland-egl": ("libqwayland.so", "libqwayland-egl.so"),
}
PACKAGES_RESOURCE = "qt_linux_packages.toml"
_NOT_FOUND = re.compile(r"^\s*(\S+)\s+=>\s+not found\s*$")
_DLOPEN_MISSING = re.compile(r"([^\s:]+): cannot open shared object file")


@dataclass(frozen=True)
class PluginProblem:
    platform: str  # "xcb", "wayland"
    plugin: Path
    missing: tuple[str, ...]  # library file names, as the plugin asks for them
    overridden: bool = False  # the plugin was found through QT_QPA_PLATFORM_PLUGIN_PATH / QT_PLUGIN_PATH


# --- which platforms Qt will try -------------------------------------------------------------------

def platforms_to_try(env: Mapping[str, str]) -> list[str]:
    """The platform plugin names Qt tries, in order (lower case, options stripped)."""
    explicit = env.get("QT_QPA_PLATFORM", "")
    if explicit:
        entries = explicit.split(";")
    else:
        entries = []
        if env.get("WAYLAND_DISPLAY") or env.get("XDG_SESSION_TYPE") == "wayland":
            entries.append("wayland")
        entries.append("xcb")  # PySide6's Qt is built with xcb as its default platform
    names = [entry.split(":", 1)[0].strip().lower() for entry in entries]
    return [name for name in names if name]


# --- where the plugin is -----------------------------------------------------------------------------

def pyside_platforms_dir() -> Optional[Path]:
    """PySide6's own platforms folder, found without importing PySide6."""
    try:
        spec = importlib.util.find_spec("PySide6")
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    roots = list(spec.submodule_search_locations or [])
    if not roots and spec.origin:
        roots = [str(Path(spec.origin).parent)]
    for root in roots:
        folder = Path(root) / "Qt" / "plugins" / "platforms"
        if folder.is_dir():
            return folder
    return None


def plugin_dirs(env: Mapping[str, str]) -> list[tuple[Path, bool]]:
    """The folders Qt looks in for platform plugins, in Qt's order, each with 'is it an override'."""
    folders: list[tuple[Path, bool]] = []
    if env.get("QT_QPA_PLATFORM_PLUGIN_PATH"):
        folders.append((Path(env["QT_QPA_PLATFORM_PLUGIN_PATH"]), True))
    bundled = pyside_platforms_dir()
    if bundled is not None:
        folders.append((bundled, False))
    for entry in env.get("QT_PLUGIN_PATH", "").split(os.pathsep):
        if entry:
            folders.append((Path(entry) / "platforms", True))
    return folders


def find_plugin(platform: str, env: Mapping[str, str]) -> Optional[tuple[Path, bool]]:
    """The plugin file Qt tries first for `platform`, or None when there is none (or none we know)."""
    for folder, overridden in plugin_dirs(env):
        for name in PLUGIN_FILES.get(platform, ()):
            candidate = folder / name
            if candidate.is_file():
                return candidate, overridden
    return None


# --- what the plugin needs -----------------------------------------------------------------------------

def missing_libraries(plugin: Path, use_ldd: bool = True) -> list[str]:
    """The shared libraries `plugin` needs (directly or through the libraries it loads) that do not resolve."""
    if use_ldd:
        found = _missing_by_ldd(plugin)
        if found is not None:
            return found
    return _missing_by_elf(plugin)


def _missing_by_ldd(plugin: Path) -> Optional[list[str]]:
    """ldd's "not found" lines; None when ldd is absent or cannot read the file."""
    ldd = shutil.which("ldd")
    if ldd is None:
        return None
    try:
        run = subprocess.run([ldd, str(plugin)], capture_output=True, text=True, timeout=20,
                             env={**os.environ, "LC_ALL": "C"})
    except (OSError, subprocess.SubprocessError):
        return None
    missing = _unique(m.group(1) for m in map(_NOT_FOUND.match, run.stdout.splitlines()) if m)
    if run.returncode != 0 and not missing:
        return None  # "not a dynamic executable", an ldd that fails: read the file ourselves
    return missing


def _missing_by_elf(plugin: Path) -> list[str]:
    """Without ldd: walk DT_NEEDED through RPATH/RUNPATH ($ORIGIN), LD_LIBRARY_PATH, then the system loader."""
    missing: list[str] = []
    seen: set[str] = set()
    loaded: dict[str, Optional[str]] = {}  # system library name -> the missing name dlopen reported, or None

    def walk(path: Path) -> None:
        key = str(path.resolve())
        if key in seen:
            return
        seen.add(key)
        try:
            needed, rpath, runpath = read_dynamic(path)
        except (OSError, ValueError, struct.error):
            return  # not an ELF file we can read: nothing to say about it
        origin = str(path.resolve().parent)

        def expand(dirs: list[str]) -> list[str]:
            return [d.replace("$ORIGIN", origin).replace("${ORIGIN}", origin) for d in dirs]

        env_dirs = [d for d in os.environ.get("LD_LIBRARY_PATH", "").split(":") if d]
        search = (expand(rpath) if not runpath else []) + env_dirs + expand(runpath)
        for name in needed:
            if "/" in name:
                if Path(name).is_file():
                    walk(Path(name))
                else:
                    missing.append(name)
                continue
            local = next((Path(d) / name for d in search if (Path(d) / name).is_file()), None)
            if local is not None:
                walk(local)
                continue
            if name not in loaded:
                loaded[name] = _dlopen_problem(name)
            problem = loaded[name]
            if problem is not None:
                missing.append(problem)

    walk(plugin)
    return _unique(missing)


def _dlopen_problem(name: str) -> Optional[str]:
    """None when the system loader finds `name` and everything it needs, else the library it did not find."""
    try:
        ctypes.CDLL(name)
    except OSError as exc:
        match = _DLOPEN_MISSING.search(str(exc))
        return match.group(1) if match else name
    return None


def read_dynamic(path: Path) -> tuple[list[str], list[str], list[str]]:
    """An ELF file's DT_NEEDED names and its DT_RPATH and DT_RUNPATH folders (as written, $ORIGIN kept)."""
    data = path.read_bytes()
    if data[:4] != b"\x7fELF":
        raise ValueError(f"{path} is not an ELF file")
    bits64 = data[4] == 2
    end = "<" if data[5] == 1 else ">"
    if bits64:
        phoff, = struct.unpack_from(end + "Q", data, 0x20)
        phentsize, phnum = struct.unpack_from(end + "HH", data, 0x36)
        phdr, dyn = end + "IIQQQQQQ", end + "qQ"
    else:
        phoff, = struct.unpack_from(end + "I", data, 0x1C)
        phentsize, phnum = struct.unpack_from(end + "HH", data, 0x2A)
        phdr, dyn = end + "IIIIIIII", end + "iI"
    loads, dynamic = [], None
    for i in range(phnum):
        fields = struct.unpack_from(phdr, data, phoff + i * phentsize)
        if bits64:
            p_type, _flags, p_offset, p_vaddr, _paddr, p_filesz = fields[:6]
        else:
            p_type, p_offset, p_vaddr, _paddr, p_filesz = fields[:5]
        if p_type == 1:  # PT_LOAD
            loads.append((p_vaddr, p_offset, p_filesz))
        elif p_type == 2:  # PT_DYNAMIC
            dynamic = (p_offset, p_filesz)
    if dynamic is None:
        return [], [], []
    entries = []
    size = struct.calcsize(dyn)
    for offset in range(dynamic[0], dynamic[0] + dynamic[1] - size + 1, size):
        tag, value = struct.unpack_from(dyn, data, offset)
        if tag == 0:  # DT_NULL
            break
        entries.append((tag, value))
    strtab_addr = next((value for tag, value in entries if tag == 5), None)  # DT_STRTAB
    if strtab_addr is None:
        return [], [], []
    strtab = next((strtab_addr - vaddr + off for vaddr, off, filesz in loads if vaddr <= strtab_addr < vaddr + filesz),
                  strtab_addr)

    def string(at: int) -> str:
        stop = data.index(b"\0", strtab + at)
        return data[strtab + at:stop].decode("utf-8", "replace")

    needed = [string(value) for tag, value in entries if tag == 1]  # DT_NEEDED
    rpath = [d for tag, value in entries if tag == 15 for d in string(value).split(":") if d]  # DT_RPATH
    runpath = [d for tag, value in entries if tag == 29 for d in string(value).split(":") if d]  # DT_RUNPATH
    return needed, rpath, runpath


def _unique(names: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(names))


# --- the verdict -----------------------------------------------------------------------------------------

def check_platform(env: Optional[Mapping[str, str]] = None, use_ldd: bool = True) -> list[PluginProblem]:
    """Empty when Qt can load a platform plugin (or this check cannot tell); else each tried plugin's problem."""
    env = os.environ if env is None else env
    if not sys.platform.startswith("linux"):
        return []
    problems: list[PluginProblem] = []
    for platform in platforms_to_try(env):
        if platform not in PLUGIN_FILES:
            return []  # offscreen, eglfs, ...: Qt's business
        found = find_plugin(platform, env)
        if found is None:
            return []  # no plugin file we know of: leave the verdict to Qt
        plugin, overridden = found
        missing = missing_libraries(plugin, use_ldd=use_ldd)
        if not missing:
            return []  # this platform loads: Qt stops here
        problems.append(PluginProblem(platform, plugin, tuple(missing), overridden))
    return problems


PackageTable = Mapping[str, Mapping[str, list[str]]]  # library stem -> {"debian": [...], "fedora": [...]}


def load_packages() -> dict[str, dict[str, list[str]]]:
    """library stem ("libxcb-cursor") -> {"debian": [...], "fedora": [...]}; empty when the table is unreadable."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # Python 3.10
        import tomli as tomllib
    from companion.resources import resource_path

    try:
        table = tomllib.loads(resource_path(PACKAGES_RESOURCE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {name: dict(row) for name, row in table.get("libraries", {}).items() if isinstance(row, dict)}


def library_stem(name: str) -> str:
    """libxcb-cursor.so.0 -> libxcb-cursor (the table's key)."""
    base = name.rsplit("/", 1)[-1]
    return base.split(".so", 1)[0]


def packages_for(libraries: Sequence[str], table: Optional[PackageTable] = None) -> tuple[list[str], list[str], list[str]]:
    """(Debian packages, Fedora packages, libraries no package is known for)."""
    table = load_packages() if table is None else table
    debian: list[str] = []
    fedora: list[str] = []
    unknown: list[str] = []
    for library in libraries:
        row = table.get(library_stem(library))
        if not row:
            unknown.append(library)
            continue
        debian.extend(row.get("debian", []))
        fedora.extend(row.get("fedora", []))
    return _unique(debian), _unique(fedora), unknown


def _and(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def problem_message(problems: Sequence[PluginProblem], table: Optional[PackageTable] = None) -> str:
    """One paragraph: what the window needs and the command that installs it (no "companion: " prefix)."""
    libraries = _unique(name for problem in problems for name in problem.missing)
    plugins = []
    for problem in problems:
        where = f" ({problem.plugin})" if problem.overridden else ""
        plugins.append(f"{problem.platform}{where}")
    noun = "platform plugin needs" if len(problems) == 1 else "platform plugins need"
    verb = "which is not installed" if len(libraries) == 1 else "which are not installed"
    text = f"the window cannot open: Qt's {_and(plugins)} {noun} {_and(libraries)}, {verb}."
    debian, fedora, unknown = packages_for(libraries, table)
    if debian or fedora:
        it = "it" if len(libraries) == 1 else "them"
        install = []
        if debian:
            install.append(f"sudo apt install {' '.join(debian)} (Debian/Ubuntu)")
        if fedora:
            install.append(f"sudo dnf install {' '.join(fedora)} (Fedora)")
        text += f" Install {it}: {' or '.join(install)}."
    if unknown:
        first = unknown[0]
        which = "the package that provides" if len(unknown) == 1 else "the packages that provide"
        text += (f" Find {which} {_and(unknown)} with 'apt-file search {first}' (Debian/Ubuntu) "
                 f"or 'dnf provides */{first}' (Fedora).")
    return text


def display_problem(env: Optional[Mapping[str, str]] = None) -> Optional[str]:
    """The message to print (then exit 2) when Qt would abort loading its platform plugin, else None.

    The check only advises: should it fail itself, the window goes on and Qt has its say."""
    try:
        problems = check_platform(env)
        return problem_message(problems) if problems else None
    except Exception:  # noqa: BLE001 - a bug here must not keep a working window from opening
        if os.environ.get("COMPANION_DEBUG"):
            raise
        return None


if __name__ == "__main__":  # python -m companion.display_check: what the window would say
    for name in platforms_to_try(os.environ):
        located = find_plugin(name, os.environ)
        print(f"{name}: {located[0] if located else 'no plugin found'}")
    print(display_problem() or "the platform plugin's libraries are all installed")
