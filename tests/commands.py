"""The installed `companion` command as a user runs it, for every test that runs it.

A process of its own, started outside the checkout (`tests.installed.OUTSIDE`, so it runs the
installed app), with the test's environment: the test's own data and settings folders (the autouse
fixture in tests/conftest.py sets them), plus `extra_env`, or exactly `env` when given.
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Callable, Mapping, Optional

from tests.installed import OUTSIDE


def companion(*args: object, env: Optional[Mapping[str, str]] = None, extra_env: Optional[Mapping[str, str]] = None,
              input: Optional[str] = None, timeout: float = 300,
              preexec_fn: Optional[Callable[[], None]] = None) -> subprocess.CompletedProcess:
    environment = dict(os.environ if env is None else env)
    environment.update(extra_env or {})
    return subprocess.run([sys.executable, "-m", "ui", *map(str, args)], input=input, capture_output=True,
                          text=True, env=environment, cwd=OUTSIDE, timeout=timeout, preexec_fn=preexec_fn)


def companion_popen(*args: object, env: Optional[Mapping[str, str]] = None,
                    extra_env: Optional[Mapping[str, str]] = None, **popen: object) -> subprocess.Popen:
    """The same command left running (stdout and stderr piped, text), for a test that signals or stops it."""
    environment = dict(os.environ if env is None else env)
    environment.update(extra_env or {})
    popen = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True, **popen}
    return subprocess.Popen([sys.executable, "-m", "ui", *map(str, args)], env=environment, cwd=OUTSIDE,
                            **popen)
