"""The embedded chain (eth-tester + py-evm) run in a child process of its own.

py-evm is pure Python: in the server's process it holds the interpreter lock for most of every
open it executes, and everything else the server does (reading requests, judging bodies,
answering refusals) waits for its turn. `start_child_chain()` runs the same `EthereumTester` in a
child process and gives back a `Chain` whose web3 provider and `tester` forward to it over a
pipe. The Chain takes exactly the code paths it takes on an in-process tester (`Chain.tester` is
set, web3 applies eth-tester's own request middleware); only the execution runs on another core.

The child is started with the "spawn" method (the parent may run threads: forking them is
unsafe), ignores SIGINT (a Ctrl-C in the terminal reaches the whole process group; the parent
decides when its chain stops) and exits when the pipe closes, so it never outlives the parent.
What crosses the pipe is pickled: JSON-RPC requests and their answers, the handful of
`EthereumTester` methods `Chain` calls (`CHILD_TESTER_METHODS`), and exceptions raised in the
child, raised again in the parent as they were.
"""

from __future__ import annotations

import multiprocessing
import pickle
import signal
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from web3 import EthereumTesterProvider, Web3
from web3.providers.base import BaseProvider

from .node import Chain, ChainError

#: the EthereumTester methods `Chain` calls on its `tester`: the only ones the child runs
CHILD_TESTER_METHODS = frozenset(
    {
        "add_account",
        "get_block_by_number",
        "mine_blocks",
        "revert_to_snapshot",
        "take_snapshot",
        "time_travel",
    }
)
#: seconds the child has to start (import eth-tester and py-evm, make the genesis block)
START_SECONDS = 60.0
#: seconds a stopping child has to exit before it is terminated
STOP_SECONDS = 5.0


def _child_main(conn: Connection) -> None:
    """The child: one EthereumTester, answering requests from the pipe in order until it
    closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    provider = EthereumTesterProvider()
    tester = provider.ethereum_tester
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        kind, name, args = message
        try:
            if kind == "rpc":
                value = provider.make_request(name, args)
            elif kind == "tester" and name in CHILD_TESTER_METHODS:
                value = getattr(tester, name)(*args)
            elif kind == "ping":
                value = None
            else:
                raise ChainError(f"the embedded chain's process has no request {kind} {name!r}")
            answer: tuple[bool, Any] = (True, value)
        except Exception as exc:  # raised again in the parent
            answer = (False, _portable(exc))
        try:
            conn.send(answer)
        except (EOFError, OSError):
            return


def _portable(exc: Exception) -> Exception:
    """`exc` if it survives pickling, else a ChainError naming it."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return ChainError(f"{type(exc).__name__}: {exc}")
    return exc


class ChildChainProcess:
    """The parent's end: the child process and the pipe to it (one request at a time)."""

    def __init__(self, start_seconds: float = START_SECONDS) -> None:
        context = multiprocessing.get_context("spawn")
        ours, theirs = context.Pipe()
        self._process = context.Process(
            target=_child_main, args=(theirs,), name="symmio-embedded-chain", daemon=True
        )
        self._process.start()
        theirs.close()
        self._conn = ours
        self._lock = threading.Lock()
        try:
            ours.send(("ping", "", ()))
            if not ours.poll(start_seconds):
                raise ChainError(
                    f"the embedded chain's process did not start in {start_seconds:g} s"
                )
            ours.recv()
        except (EOFError, OSError):
            self.stop()
            raise ChainError(
                "the embedded chain's process ended while starting "
                f"(exit code {self._process.exitcode})"
            ) from None
        except BaseException:
            self.stop()
            raise

    @property
    def pid(self) -> int | None:
        return self._process.pid

    def alive(self) -> bool:
        return self._process.is_alive()

    def ask(self, kind: str, name: str, args: Any) -> Any:
        """One request to the child ("rpc", or "tester" for an EthereumTester method): its
        answer, or the exception it raised, raised here."""
        with self._lock:
            try:
                self._conn.send((kind, name, args))
                ok, value = self._conn.recv()
            except (EOFError, OSError) as exc:
                raise ChainError(
                    f"the embedded chain's process is gone (exit code {self._process.exitcode})"
                ) from exc
        if not ok:
            raise value
        return value

    def stop(self) -> None:
        """Close the pipe (the child exits on it) and wait for the child; terminate it if it
        lingers, or if a request still holds the pipe after STOP_SECONDS (that request then
        fails as "gone"). Safe to call more than once."""
        if self._lock.acquire(timeout=STOP_SECONDS):
            try:
                self._conn.close()
            finally:
                self._lock.release()
            self._process.join(STOP_SECONDS)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(STOP_SECONDS)
        self._conn.close()


class ChildTester:
    """What `Chain.tester` is on a child chain: the child's EthereumTester, method by method
    (only `CHILD_TESTER_METHODS`)."""

    def __init__(self, child: ChildChainProcess) -> None:
        self._child = child

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if name not in CHILD_TESTER_METHODS:
            raise AttributeError(name)
        return lambda *args: self._child.ask("tester", name, args)


class ChildProvider(BaseProvider):
    """A web3 provider answered by the child's EthereumTesterProvider, with that provider's own
    request middleware (transaction defaults, eth-tester's formatting) applied here, as web3
    applies it to an in-process tester."""

    _middleware = EthereumTesterProvider._middleware
    request_func = EthereumTesterProvider.request_func

    def __init__(self, child: ChildChainProcess) -> None:
        super().__init__()
        self.child = child
        self.ethereum_tester = ChildTester(child)

    def make_request(self, method: Any, params: Any) -> Any:
        return self.child.ask("rpc", method, params)

    def is_connected(self, show_traceback: bool = False) -> bool:
        return self.child.alive()


def start_child_chain() -> tuple[Chain, ChildChainProcess]:
    """A fresh embedded chain running in a child process: the Chain, and the process (call its
    `stop()` when done; it also ends with this process)."""
    child = ChildChainProcess()
    try:
        return Chain(Web3(ChildProvider(child))), child
    except BaseException:
        child.stop()
        raise
