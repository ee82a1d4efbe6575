"""A local anvil node (Foundry's JSON-RPC dev chain): find it, start it, stop it, never orphan it.

The binary comes from the npm package `@foundry-rs/anvil-linux-amd64`, pinned by the lockfile in
`tools/anvil/` (`npm ci --prefix tools/anvil`); `SYMMIO_ANVIL` (a path) or `anvil` on PATH are
used instead when set or found. A node listens on 127.0.0.1 only, on an explicit port, with the
Prague hardfork (what our artifacts are compiled for) and chain id 31337.

No orphan, however the parent ends:
- the child is started with `prctl(PR_SET_PDEATHSIG, SIGTERM)` (Linux): the kernel signals it
  when the thread that started it dies, even by SIGKILL. So start it from a thread that lives as
  long as the process (the main thread, or uvicorn's event-loop thread);
- every running node is stopped at interpreter exit (`atexit`), and `Anvil` is a context manager;
- a server stops it from its lifespan shutdown or a signal handler with `Anvil.stop()` (or
  `stop_process(pid)` when only the PID is at hand): uvicorn re-raises SIGTERM after its own
  shutdown, so a `finally:` around `server.run()` never runs.

The dev accounts are derived from anvil's public mnemonic with eth-account's HD wallet, the same
derivation anvil uses (a test compares them with `eth_accounts`). Their keys are public test keys
and may be printed as anvil prints them; they hold test ETH only.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import HarnessError

#: anvil's public development mnemonic ("test test ... junk"): test funds only, never real ones.
DEV_MNEMONIC = "test test test test test test test test test test test junk"
#: anvil's own default chain id.
ANVIL_CHAIN_ID = 31337
#: What the compiled artifacts target (contracts/build.mjs sets evmVersion "prague").
HARDFORK = "prague"
HOST = "127.0.0.1"
#: The folder whose package.json + package-lock.json pin the anvil binary.
TOOLS_DIR = Path(__file__).resolve().parents[1] / "tools" / "anvil"
_PACKAGED_BINARY = Path("node_modules") / "@foundry-rs" / "anvil-linux-amd64" / "bin" / "anvil"
ENV_VAR = "SYMMIO_ANVIL"
INSTALL_HINT = "npm ci --prefix tools/anvil"

_PR_SET_PDEATHSIG = 1


class AnvilError(HarnessError):
    """anvil cannot be found, cannot start, or stopped answering. The message is one line."""


@dataclass(frozen=True, slots=True)
class DevAccount:
    """A funded dev account: EIP-55 address and its (public, test-only) 0x-hex private key."""

    address: str
    private_key: str


def dev_accounts(count: int = 10, mnemonic: str = DEV_MNEMONIC) -> tuple[DevAccount, ...]:
    """The first `count` accounts of `mnemonic` at m/44'/60'/0'/0/i, as anvil derives them."""
    from eth_account import Account

    Account.enable_unaudited_hdwallet_features()
    out = []
    for i in range(count):
        acct = Account.from_mnemonic(mnemonic, account_path=f"m/44'/60'/0'/0/{i}")
        out.append(DevAccount(acct.address, "0x" + bytes(acct.key).hex()))
    return tuple(out)


def find_anvil(
    environ: Mapping[str, str] | None = None,
    tools_dir: Path = TOOLS_DIR,
    search_path: str | None = None,
) -> Path:
    """The anvil binary: `$SYMMIO_ANVIL`, else tools/anvil's node_modules, else PATH."""
    env = os.environ if environ is None else environ
    if env.get(ENV_VAR):
        given = Path(env[ENV_VAR])
        if given.is_file() and os.access(given, os.X_OK):
            return given
        raise AnvilError(
            f"{ENV_VAR}={given} is not an executable file: point it at the anvil binary"
        )
    local = tools_dir / _PACKAGED_BINARY
    if local.is_file() and os.access(local, os.X_OK):
        return local
    on_path = shutil.which(
        "anvil", path=search_path if search_path is not None else env.get("PATH")
    )
    if on_path:
        return Path(on_path)
    raise AnvilError(
        f"anvil not found: run `{INSTALL_HINT}` (it installs the pinned "
        f"@foundry-rs/anvil-linux-amd64), or set {ENV_VAR} to an anvil binary"
    )


_LISTENING = re.compile(r"Listening on " + re.escape(HOST) + r":(\d+)")


def free_port() -> int:
    """A port that was free on 127.0.0.1 a moment ago (the kernel's choice)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((HOST, port))
        except OSError:
            return False
        return True


def _die_with_parent(parent_pid: int) -> None:
    """preexec_fn: ask the kernel for SIGTERM when the parent dies; exit if it already has."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: atexit and stop() remain
        return
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)


def rpc_call(url: str, method: str, params: list[Any] | None = None, timeout: float = 2.0) -> Any:
    """One JSON-RPC request (stdlib only, so waiting for the node pulls in nothing)."""
    payload = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []})
    request = urllib.request.Request(
        url, payload.encode(), {"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        answer = json.loads(response.read())
    if "error" in answer:
        raise AnvilError(f"{method} failed: {answer['error'].get('message', answer['error'])}")
    return answer["result"]


def process_alive(pid: int) -> bool:
    """True while `pid` runs (a zombie counts as ended)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def stop_process(pid: int, timeout: float = 5.0) -> None:
    """SIGTERM `pid`, then SIGKILL if it still runs after `timeout` s. Safe in a signal handler."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _reap(pid) and not process_alive(pid):
            return
        time.sleep(0.02)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    end = time.monotonic() + 2.0
    while time.monotonic() < end and (_reap(pid) or process_alive(pid)):
        time.sleep(0.02)


def _reap(pid: int) -> bool:
    """Reap our own child if it has exited; True while it still runs (or is not ours)."""
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return False  # not our child (or already reaped): process_alive decides
    return done == 0


_RUNNING: dict[int, Anvil] = {}
_RUNNING_LOCK = threading.Lock()


@atexit.register
def _stop_all() -> None:
    with _RUNNING_LOCK:
        nodes = list(_RUNNING.values())
    for node in nodes:
        node.stop()


class Anvil:
    """One anvil node on 127.0.0.1.

    `start()` returns once `eth_chainId` answers (or raises AnvilError, leaving nothing behind);
    `stop()` is idempotent. `rpc_url`, `chain_id`, `pid` and `accounts` (the funded dev accounts)
    are what a server prints and a client needs. Start it from a thread that lives as long as the
    process: the parent-death signal is tied to the starting thread.

    >>> with Anvil() as node:            # doctest: +SKIP
    ...     node.rpc_url, node.chain_id, node.accounts[0].address
    """

    def __init__(
        self,
        *,
        port: int | None = None,
        chain_id: int = ANVIL_CHAIN_ID,
        accounts: int = 10,
        balance_eth: int = 10_000,
        binary: str | Path | None = None,
        startup_timeout: float = 30.0,
        stop_timeout: float = 5.0,
        extra_args: tuple[str, ...] = (),
    ) -> None:
        if port is not None and not (
            isinstance(port, int) and not isinstance(port, bool) and 0 <= port <= 65535
        ):
            raise AnvilError(f"port: expected an integer 0..65535 (0: a free one), got {port!r}")
        self._requested_port = port
        self.chain_id = chain_id
        self._account_count = accounts
        self._balance_eth = balance_eth
        self._binary = Path(binary) if binary is not None else None
        self._startup_timeout = startup_timeout
        self._stop_timeout = stop_timeout
        self._extra_args = tuple(extra_args)
        self._process: subprocess.Popen[bytes] | None = None
        self._log: Any = None
        self.port: int | None = None
        self._accounts: tuple[DevAccount, ...] | None = None

    # ---------------------------------------------------------------- what a client needs

    @property
    def rpc_url(self) -> str:
        if self.port is None:
            raise AnvilError("anvil is not started")
        return f"http://{HOST}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def accounts(self) -> tuple[DevAccount, ...]:
        if self._accounts is None:
            self._accounts = dev_accounts(self._account_count)
        return self._accounts

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    # ---------------------------------------------------------------- life cycle

    def command(self, binary: Path, port: int) -> list[str]:
        return [
            str(binary),
            "--host",
            HOST,
            "--port",
            str(port),
            "--hardfork",
            HARDFORK,
            "--chain-id",
            str(self.chain_id),
            "--mnemonic",
            DEV_MNEMONIC,
            "--accounts",
            str(self._account_count),
            "--balance",
            str(self._balance_eth),
            *self._extra_args,
        ]

    def start(self) -> Anvil:
        """Start the node and wait (bounded) until its JSON-RPC answers with our chain id."""
        if self._process is not None:
            raise AnvilError("anvil is already started")
        binary = self._binary or find_anvil()
        # Without a requested port anvil binds port 0 and says which port it got: no window in
        # which another process (another test's node) could take a port we picked for it.
        port = self._requested_port or 0
        if port and not _port_is_free(port):
            raise AnvilError(f"anvil cannot listen on {HOST}:{port}: the port is busy")
        # anvil logs every request to stdout: a file, never a pipe nobody drains.
        self._log = tempfile.TemporaryFile(prefix="symmio-anvil-")  # noqa: SIM115 (closed by stop)
        parent = os.getpid()
        try:
            self._process = subprocess.Popen(
                self.command(binary, port),
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                preexec_fn=lambda: _die_with_parent(parent),
                process_group=0,  # a terminal's Ctrl-C reaches the parent, which stops us
                close_fds=True,
            )
        except OSError as exc:
            self._log.close()
            raise AnvilError(f"anvil could not be executed ({binary}): {exc.strerror}") from None
        self.port = port or None
        with _RUNNING_LOCK:
            _RUNNING[self._process.pid] = self
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + self._startup_timeout
        while True:
            code = self._process.poll()
            if code is not None:
                raise AnvilError(self._early_exit_message(code))
            if self.port is None:
                self.port = self._listening_port()
                if self.port is None:  # not bound yet
                    if time.monotonic() >= deadline:
                        raise AnvilError(
                            f"anvil did not start listening within {self._startup_timeout:g} s"
                        )
                    time.sleep(0.05)
                    continue
            try:
                answered = int(rpc_call(self.rpc_url, "eth_chainId", timeout=1.0), 16)
            except (OSError, urllib.error.URLError, ValueError):
                answered = None
            if answered is not None:
                if answered != self.chain_id:
                    raise AnvilError(
                        f"anvil on {self.rpc_url} answered chain id {answered}, "
                        f"expected {self.chain_id}"
                    )
                return
            if time.monotonic() >= deadline:
                raise AnvilError(
                    f"anvil did not answer JSON-RPC on {self.rpc_url} within "
                    f"{self._startup_timeout:g} s"
                )
            time.sleep(0.05)

    def _listening_port(self) -> int | None:
        """The port in anvil's `Listening on 127.0.0.1:N` line, once it has printed it."""
        self._log.flush()
        self._log.seek(0)
        head = self._log.read(1 << 16).decode("utf-8", "replace")
        self._log.seek(0, os.SEEK_END)
        found = _LISTENING.search(head)
        return int(found.group(1)) if found else None

    def _early_exit_message(self, code: int) -> str:
        tail = self.log_tail()
        if "in use" in tail.lower():
            return f"anvil cannot listen on {HOST}:{self.port}: the port is busy"
        last = next((line for line in reversed(tail.splitlines()) if line.strip()), "")
        why = f": {last.strip()[:200]}" if last else ""
        return f"anvil exited during start-up (exit code {code}){why}"

    def log_tail(self, limit: int = 4096) -> str:
        """The end of anvil's own output (its start-up banner, errors, request log)."""
        if self._log is None or self._log.closed:
            return ""
        self._log.flush()
        size = self._log.seek(0, os.SEEK_END)
        self._log.seek(max(0, size - limit))
        text = self._log.read().decode("utf-8", "replace")
        self._log.seek(0, os.SEEK_END)
        return text

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after the stop timeout. Idempotent; safe from a signal handler
        or a lifespan shutdown."""
        process, self._process = self._process, None
        if process is not None:
            with _RUNNING_LOCK:
                _RUNNING.pop(process.pid, None)
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    process.send_signal(signal.SIGTERM)
                try:
                    process.wait(self._stop_timeout)
                except subprocess.TimeoutExpired:
                    process.kill()
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        process.wait(2.0)
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> Anvil:
        return self.start() if self._process is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = f"pid {self.pid} on {self.rpc_url}" if self.running else "stopped"
        return f"Anvil({state}, chain id {self.chain_id})"


def start_anvil(**kwargs: Any) -> Anvil:
    """`Anvil(**kwargs).start()`: a running node, or AnvilError with a one-line reason."""
    return Anvil(**kwargs).start()
