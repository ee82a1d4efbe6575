"""examples/typescript/flow.mjs waits for the server, and every failure line names its step.

Before step 1 the flow polls `GET {base}/context` (every 250 ms, up to
SYMMIO_CONTEXT_WAIT_SECONDS, default 30) while the server is not there yet (connection refused)
or still starting (502/503/504). When it never answers, the flow exits 1 with one line naming the
URL and what to start. Every failure line starts with where the flow was (`setup`, `wallet`,
`step 1` ... `step 8`), an unexpected error included.

Loopback only: a closed port, and a tiny HTTP server that answers 503 twice, then serves a
context, the ABIs and a JSON-RPC endpoint that knows only its chain id (so step 1 fails fast).
Skipped (with the fix) when node or the example's node_modules are absent, unless
SYMMIO_REQUIRE_NODE is set.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from harness import artifacts
from harness.anvil import dev_accounts
from harness.context import load_context
from harness.services.server import ABI_NAMES

from .node_needed import EXAMPLE, NODE, REPO, needs_node

pytestmark = [pytest.mark.subprocess, needs_node]

SERVE_HINT = "symmio-harness serve --chain anvil"


def _flow(base: str, wait_seconds: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SYMMIO_CONTEXT_WAIT_SECONDS": wait_seconds}
    for name in ("SYMMIO_SOLVER_URL", "SYMMIO_COH_URL", "SYMMIO_OWNER_INDEX"):
        env.pop(name, None)
    return subprocess.run(
        [str(NODE), str(EXAMPLE / "flow.mjs"), base],
        capture_output=True,
        text=True,
        timeout=20,
        env=env,
        check=False,
    )


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_flow_exits_1_with_one_line_naming_the_url_when_context_never_answers() -> None:
    base = f"http://127.0.0.1:{_closed_port()}"
    done = _flow(base, "1")
    lines = done.stderr.splitlines()
    assert done.returncode == 1, f"exit {done.returncode}: {done.stderr}{done.stdout}"
    assert len(lines) == 1, f"expected one line, got {len(lines)}: {done.stderr}"
    assert f"{base}/context" in lines[0], f"the line does not name the URL: {lines[0]}"
    assert SERVE_HINT in lines[0], f"the line does not say what to start: {lines[0]}"
    assert lines[0].startswith("setup: "), f"the line does not name the step: {lines[0]}"


def test_flow_refuses_a_wait_that_is_not_a_number_of_seconds() -> None:
    done = _flow(f"http://127.0.0.1:{_closed_port()}", "soon")
    assert done.returncode == 2, f"exit {done.returncode}: {done.stderr}"
    assert done.stderr.startswith("SYMMIO_CONTEXT_WAIT_SECONDS: "), done.stderr


class _LateServer(ThreadingHTTPServer):
    """503 on the first `starting` GETs of /context, then a context whose JSON-RPC endpoint
    (POST /rpc) answers eth_chainId and refuses everything else."""

    daemon_threads = True

    def __init__(self, starting: int) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.starting = starting
        self.context_gets: list[int] = []  # the status of each GET /context, in order
        self.lock = threading.Lock()
        base = f"http://127.0.0.1:{self.server_address[1]}"
        context = load_context(REPO / "fixtures" / "contexts" / "full.json")
        self.chain_id = context.chain_id
        accounts = [a.address for a in dev_accounts(3)]  # public anvil dev addresses
        self.context = {
            **context.to_json(),
            "rpc_url": f"{base}/rpc",
            "collateral": accounts[0],
            "tpsl_bot": accounts[1],
            "test_accounts": accounts,
            "price_url": f"{base}/price",
            "price_ws_url": f"{base.replace('http', 'ws')}/price/ws",
        }


class _Handler(BaseHTTPRequestHandler):
    server: _LateServer

    def log_message(self, format: str, *args: object) -> None:
        return

    def _send(self, status: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if self.path == "/context":
            with self.server.lock:
                starting = len(self.server.context_gets) < self.server.starting
                status = 503 if starting else 200
                self.server.context_gets.append(status)
            self._send(status, {"detail": "starting"} if starting else self.server.context)
        elif self.path.startswith("/abi/") and self.path[5:] in ABI_NAMES:
            self._send(200, artifacts.abi(ABI_NAMES[self.path[5:]]))
        else:
            self._send(404, {"detail": f"no route {self.path}"})

    def do_POST(self) -> None:
        calls = json.loads(self.rfile.read(int(self.headers.get("content-length", "0"))))
        answers = [self._rpc(c) for c in (calls if isinstance(calls, list) else [calls])]
        self._send(200, answers if isinstance(calls, list) else answers[0])

    def _rpc(self, call: dict) -> dict:
        if call.get("method") == "eth_chainId":
            return {"jsonrpc": "2.0", "id": call.get("id"), "result": hex(self.server.chain_id)}
        error = {"code": -32000, "message": f"this test node refuses {call.get('method')}"}
        return {"jsonrpc": "2.0", "id": call.get("id"), "error": error}


@pytest.fixture
def late_server() -> Iterator[_LateServer]:
    server = _LateServer(starting=2)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.mark.server
def test_flow_waits_through_503_and_names_step_1_when_it_fails_there(
    late_server: _LateServer,
) -> None:
    base = f"http://127.0.0.1:{late_server.server_address[1]}"
    done = _flow(base, "10")
    lines = done.stderr.splitlines()
    assert late_server.context_gets[:2] == [503, 503], late_server.context_gets
    assert 200 in late_server.context_gets, (
        f"the flow stopped waiting before /context answered: {late_server.context_gets}; "
        f"{done.stderr}"
    )
    assert done.returncode == 1, f"exit {done.returncode}: {done.stderr}{done.stdout}"
    assert len(lines) == 1, f"expected one failure line, got: {done.stderr}"
    assert lines[0].startswith("step 1: "), f"the failure does not name step 1: {lines[0]}"
