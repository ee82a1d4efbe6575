"""`symmio-harness serve` for real: a loopback uvicorn server in a child process, port 0."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from decimal import Decimal

import httpx
import pytest
from websockets.sync.client import connect

from harness import flow
from harness.context import context_from_json
from harness.keys import LocalKey
from harness.services import CohClient, SolverClient

STARTUP_SECONDS = 30


def _start() -> tuple[subprocess.Popen, str, list[str]]:
    proc = subprocess.Popen(
        [sys.executable, "-c", "from harness.cli import main; main()", "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    lines: list[str] = []
    deadline = time.monotonic() + STARTUP_SECONDS
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if line.startswith("context file: "):
            base = lines[0].rsplit(" ", 1)[1]
            return proc, base, lines
    proc.kill()
    raise AssertionError("serve did not print its URLs in time:\n" + "\n".join(lines))


@pytest.fixture
def server():
    proc, base, lines = _start()
    try:
        yield base, lines
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@pytest.mark.server
@pytest.mark.subprocess
def test_serve_runs_open_over_http_and_websocket_on_loopback(server) -> None:
    base, lines = server
    assert base.startswith("http://127.0.0.1:") and not base.endswith(":0")
    context = context_from_json(json.loads(lines[-1].split(": ", 1)[1]))
    described = httpx.get(f"{base}/context", timeout=10).json()
    # no rpc_url: the embedded chain; the live marks and the COH's limits (TP/SL market rules)
    extras = {"collateral", "tpsl_bot", "test_accounts", "mark_prices", "coh_limits"}
    assert {k: v for k, v in described.items() if k not in extras} == context.to_json()
    assert set(described) - set(context.to_json()) == extras
    session = LocalKey.generate()
    onboarded = httpx.post(
        f"{base}/mock/onboard", json={"session_key": session.address}, timeout=10
    ).json()
    solver = SolverClient(f"{base}/solver")
    symbol = context.symbols[0]
    marks = httpx.get(f"{context.price_url}/api/v1/prices/{symbol.name}", timeout=10)
    mark = json.loads(marks.text, parse_float=Decimal)[symbol.name]["markPrice"]
    plan = flow.build_instant_open(
        context,
        session,
        sub_account=onboarded["sub_account"],
        symbol=symbol,
        side="long",
        quantity=Decimal("0.015"),
        leverage=10,
        mark_price=mark,
        locked_params=solver.locked_params(symbol.name, 10),
        trading_fee=Decimal("0.0006"),
        deadline=int(time.time()) + 3600,
    )
    ws_url = base.replace("http://", "ws://") + "/solver/api/ws/notifications"
    pattern = {
        "app_name": "t",
        "address": onboarded["sub_account"],
        "primary_identifier": "*",
        "secondary_identifier": "*",
    }
    with connect(ws_url, open_timeout=10, close_timeout=2) as ws:
        ws.send(json.dumps({"channel_patterns": [pattern]}))
        assert json.loads(ws.recv(timeout=10)) == {"subscribed": [pattern]}
        accepted = solver.instant_open(plan.body)
        frame = json.loads(ws.recv(timeout=10))
    assert frame["data"]["temp_quote_id"] == accepted.temp_quote_id
    assert frame["data"]["action_status"] == "success" and frame["data"]["quote_id"] == 1
    solver.close()
    with CohClient(f"{base}/coh") as coh:
        assert coh.signing_spec() == context.tpsl_domain()


def test_serve_refuses_a_non_loopback_host() -> None:
    from typer.testing import CliRunner

    from harness.cli import app

    result = CliRunner().invoke(app, ["serve", "--host", "0.0.0.0"])
    assert result.exit_code == 2
    assert "not a loopback address" in result.output and "Traceback" not in result.output
