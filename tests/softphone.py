"""A virtual softphone for tests and benchmarks: a PulseAudio server of our own with null sinks."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path


def start_pulse(runtime: Path, sinks=("agent_mic", "softphone")) -> dict:
    """Start PulseAudio with its runtime folder in `runtime`; returns the environment that reaches it."""
    missing = [t for t in ("pulseaudio", "pactl", "paplay") if shutil.which(t) is None]
    if missing:
        raise RuntimeError(f"the virtual softphone needs {', '.join(missing)} (bash .ci/run installs them)")
    runtime.mkdir(parents=True, exist_ok=True)
    runtime.chmod(0o700)
    env = dict(os.environ, XDG_RUNTIME_DIR=str(runtime), HOME=str(runtime))
    env.pop("PULSE_SERVER", None)
    args = ["pulseaudio", "-D", "--exit-idle-time=-1", "-n", "--disable-shm=true", "--load=module-native-protocol-unix"]
    args += [f"--load=module-null-sink sink_name={sink}" for sink in sinks]
    subprocess.run(args, env=env, check=True, capture_output=True, timeout=30)
    for _ in range(100):
        if subprocess.run(["pactl", "info"], env=env, capture_output=True).returncode == 0:
            return env
        time.sleep(0.1)
    raise RuntimeError("PulseAudio did not come up")


def stop_pulse(env: dict) -> None:
    subprocess.run(["pulseaudio", "-k"], env=env, capture_output=True, timeout=30)
