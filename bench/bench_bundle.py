"""The bundled app: its size, and cold start to a visible window on a real X server (Xvfb).

Run by hand (needs xvfb and x11-utils):  python bench/bench_bundle.py
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def du(path: Path) -> int:
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="bundle-"))
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "ERROR", "--distpath", str(work / "dist"),
                    "--workpath", str(work / "build"), str(ROOT / "packaging/pyinstaller/companion.spec")], check=True, cwd=ROOT)
    build_s = time.perf_counter() - t
    app = work / "dist" / "companion"
    total = du(app)
    parts = sorted(((du(p) if p.is_dir() else p.lstat().st_size), p.name) for p in (app / "_internal").iterdir() if not p.is_symlink())[-5:]
    archive = shutil.make_archive(str(work / "bundle"), "gztar", root_dir=work / "dist", base_dir="companion")
    print(f"built in {build_s:.0f} s; one-folder app {total / 1e6:.0f} MB, {Path(archive).stat().st_size / 1e6:.0f} MB as tar.gz")
    print("largest parts: " + ", ".join(f"{name} {size / 1e6:.0f} MB" for size, name in reversed(parts)))

    display = ":97"
    xvfb = subprocess.Popen(["Xvfb", display, "-screen", "0", "1280x800x24"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)
    env = dict(os.environ, DISPLAY=display, QT_QPA_PLATFORM="xcb", COMPANION_CONFIG_DIR=str(work / "cfg"),
               COMPANION_DATA_DIR=str(work / "data"))
    (work / "cfg").mkdir()
    (work / "cfg" / "window.ini").write_text("[General]\nsetup_done=true\n")
    starts = []
    try:
        for _ in range(5):
            subprocess.run(["sync"])
            begin = time.perf_counter()
            proc = subprocess.Popen([str(app / "companion")], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            while time.perf_counter() - begin < 30:
                out = subprocess.run(["xwininfo", "-display", display, "-name", "Call Companion"], capture_output=True, text=True)
                if "Map State: IsViewable" in out.stdout:
                    break
                time.sleep(0.01)
            starts.append(time.perf_counter() - begin)
            proc.terminate()
            proc.wait(10)
    finally:
        xvfb.terminate()
    print(f"start to visible window (Xvfb): median {statistics.median(starts):.2f} s, "
          f"first {starts[0]:.2f} s, max {max(starts):.2f} s over {len(starts)} starts")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
