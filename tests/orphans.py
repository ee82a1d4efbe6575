"""A child process (anvil, the embedded chain's process) must never outlive the process that
started it: helpers that start such a parent, kill it, and wait for the child to be gone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from harness.anvil import process_alive

REPO = Path(__file__).resolve().parents[1]


def wait_gone(pid: int, timeout: float = 15.0) -> bool:
    """True once `pid` has ended (within `timeout` seconds)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if not process_alive(pid):
            return True
        time.sleep(0.05)
    return not process_alive(pid)


def assert_child_dies_with_killed_parent(
    script: str, parent_signal: signal.Signals, child: str
) -> None:
    """Run `script` (it starts the child, prints the child's PID, then waits), send the parent
    `parent_signal` (SIGKILL: no atexit, no finally), and require the child, named `child` in
    the failure, to be gone."""
    parent = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        assert parent.stdout is not None and parent.stderr is not None
        line = parent.stdout.readline().decode().strip()
        assert line.isdigit(), f"the parent printed {line!r}; stderr: {parent.stderr.read()!r}"
        pid = int(line)
        assert process_alive(pid), f"{child} {pid} was not running"
        parent.send_signal(parent_signal)
        parent.wait(10)
        assert wait_gone(pid), f"{child} {pid} outlived its parent killed by {parent_signal.name}"
    finally:
        parent.kill()
        parent.wait(10)
