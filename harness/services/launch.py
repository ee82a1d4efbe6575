"""`symmio-harness serve` in a child process on a free loopback port, for load tests,
benchmarks and users' own tests: started, its banner read, stopped."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from ..context import Context, context_from_json
from ..errors import HarnessError

STARTUP_SECONDS = 60


class ServeProcess:
    """A running `serve`: `base` (http://127.0.0.1:PORT), `context`, `lines` (the banner)."""

    def __init__(
        self, startup_seconds: float = STARTUP_SECONDS, *, args: tuple[str, ...] = ()
    ) -> None:
        """`args` go to `serve` (e.g. `("--chain", "anvil", "--quiet")`)."""
        command = [sys.executable, "-c", "from harness.cli import main; main()", "serve"]
        self.proc = subprocess.Popen(
            [*command, "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self.lines: list[str] = []
        deadline = time.monotonic() + startup_seconds
        assert self.proc.stdout is not None
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            self.lines.append(line.rstrip("\n"))
            if line.startswith("context file: "):
                self.base = self.lines[0].rsplit(" ", 1)[1]
                self.context: Context = context_from_json(json.loads(line.split(": ", 1)[1]))
                self.log: list[str] = []
                threading.Thread(target=self._drain, daemon=True).start()
                return
        self.stop()
        raise HarnessError("serve did not print its URLs in time:\n" + "\n".join(self.lines))

    def _drain(self) -> None:
        """Keep reading the child's output (its log), so it never blocks on a full pipe."""
        assert self.proc.stdout is not None
        try:
            for line in self.proc.stdout:
                if len(self.log) < 1000:
                    self.log.append(line.rstrip("\n"))
        except ValueError:  # closed by stop()
            pass

    @property
    def pid(self) -> int:
        return self.proc.pid

    def rss_bytes(self) -> int:
        """The child's resident memory (Linux /proc), 0 where unavailable."""
        try:
            status = Path(f"/proc/{self.proc.pid}/status").read_text()
        except OSError:
            return 0
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        return 0

    def children(self) -> list[int]:
        """The PIDs of the server's own children (anvil under `--chain anvil`, the embedded
        chain's process and multiprocessing's resource tracker under `--chain embedded`), from
        Linux /proc; [] where unavailable."""
        try:
            return [
                int(pid)
                for task in Path(f"/proc/{self.proc.pid}/task").iterdir()
                for pid in (task / "children").read_text().split()
            ]
        except OSError:
            return []

    def cpu_seconds(self) -> tuple[float, float]:
        """CPU time (user + system) used so far by the server and by its own children (the
        chain: anvil, or the embedded chain's process), from Linux /proc; (0, 0) where
        unavailable. Unlike wall time it hardly changes with what else runs on the machine."""
        try:
            return _cpu(self.proc.pid), sum(_cpu(pid) for pid in self.children())
        except OSError:
            return 0.0, 0.0

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()

    def __enter__(self) -> ServeProcess:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def _cpu(pid: int) -> float:
    """Seconds of CPU a process used (user + system; /proc/PID/stat fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
