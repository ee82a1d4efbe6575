"""`serve --chain anvil` as a frontend uses it: a real JSON-RPC chain, the frontend's own wallet
for steps 1-5 and the owner's revocation, the services for the open, `/context?owner=`, and no
anvil left behind; plus the edge every server has (CORS, one log line per request, warnings in
2xx answers, ABIs) checked in-process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import warnings
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from web3 import Web3

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from harness import flow, pricing, wire
from harness.anvil import AnvilError, rpc_call
from harness.chain import Chain, Deployment, System
from harness.context import Symbol, context_from_json
from harness.keys import LocalKey
from harness.services import CohClient, ServiceError, Services, SolverClient, embedded_backend
from harness.services.launch import ServeProcess
from harness.services.published import INFO_HEADER, WARNINGS_HEADER, read_harness_list

from ..anvil_needed import needs_anvil

CLI = str(Path(sys.executable).with_name("symmio-harness"))
DEV_KEY_1 = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"  # anvil's public


def banner(serve: ServeProcess) -> list[str]:
    """The whole banner: the lines up to the context file, then the test accounts' lines."""
    deadline = time.monotonic() + 30
    while not any(line.startswith("(9) 0x") for line in serve.log[-12:]):
        assert time.monotonic() < deadline, "the test accounts were not printed"
        time.sleep(0.05)
    return serve.lines + serve.log


def gone(url: str) -> bool:
    end = time.monotonic() + 15
    while time.monotonic() < end:
        try:
            rpc_call(url, "eth_chainId", timeout=0.5)
        except (OSError, AnvilError, ValueError):
            return True
        time.sleep(0.1)
    return False


@pytest.mark.anvil
@pytest.mark.server
@pytest.mark.subprocess
@needs_anvil
def test_a_frontend_wallet_runs_steps_1_to_5_and_the_services_take_its_session_key() -> None:
    with ServeProcess(120, args=("--chain", "anvil", "--quiet")) as serve:  # stop(): SIGTERM
        lines = banner(serve)
        text = "\n".join(lines)
        base = serve.base
        rpc_url = next(line for line in lines if line.startswith("JSON-RPC URL: ")).split(": ")[1]
        assert "chain id 31337" in lines[0]
        assert "anvil's public dev keys: test funds on this local chain only" in text
        assert DEV_KEY_1 in text  # printed as anvil prints it
        described = httpx.get(f"{base}/context", timeout=10).json()
        assert described["rpc_url"] == rpc_url and len(described["test_accounts"]) == 9
        context = context_from_json(
            {
                k: v
                for k, v in described.items()
                if k not in ("rpc_url", "collateral", "tpsl_bot", "test_accounts")
            }
        )
        # the frontend's own wallet: anvil dev account 1, signing its own transactions
        chain = Chain(Web3(Web3.HTTPProvider(rpc_url)), sign_locally=True)
        owner = LocalKey(DEV_KEY_1)
        chain.add_key(owner, fund_wei=0)
        deployment = Deployment.seen_from(context, described["collateral"])
        wallet = System(chain, deployment)
        session = LocalKey.generate()
        units = 1_000 * 10**6
        done = wallet.onboard(
            owner.address,
            session.address,
            described["tpsl_bot"],
            deposit_units=units,
            expiry=chain.now() + 86_400,
        )
        mine = httpx.get(f"{base}/context", params={"owner": owner.address}, timeout=10).json()
        assert (mine["sub_account"], mine["session_key"]) == (done.sub_account, session.address)
        assert "virtual_account" not in mine

        solver = SolverClient(f"{base}/solver")
        symbol: Symbol = context.symbols[0]
        mark = json.loads(
            httpx.get(f"{context.price_url}/api/v1/price", timeout=10).text,
            parse_float=Decimal,
        )[0]["markPrice"]
        plan = flow.build_instant_open(
            context,
            session,
            sub_account=done.sub_account,
            symbol=symbol,
            side="long",
            quantity=Decimal("0.01"),
            leverage=10,
            mark_price=mark,
            locked_params=solver.locked_params(symbol.name, 10),
            trading_fee=Decimal("0.0006"),
            deadline=int(time.time()) + 3_600,
        )
        accepted = solver.instant_open(plan.body)
        assert accepted.warnings == (), "a conforming open is answered without warnings"
        assert solver.instant_quote_id(accepted.temp_quote_id) == 1
        mine = httpx.get(f"{base}/context", params={"owner": owner.address}, timeout=10).json()
        assert mine["virtual_account"].startswith("0x")
        solver.close()

        # the COH on anvil refuses what the real one would never hold (here a leg above the
        # position's open quantity, read from anvil) and stores the same order within it
        with CohClient(f"{base}/coh") as coh:

            def order(quantity: str):
                return flow.build_tpsl(
                    coh.signing_spec(),
                    session,
                    sub_account=done.sub_account,
                    virtual_account=mine["virtual_account"],
                    affiliate=context.affiliate,
                    quote_id=1,
                    symbol=symbol,
                    side="long",
                    quantity=Decimal(quantity),
                    mark_price=mark,
                    take_profit=Decimal("68250.5"),
                )

            with pytest.raises(ServiceError) as refused:
                coh.submit(order("0.02"))
            assert refused.value.rule_ids == ["tpsl.quantity-position"], refused.value
            assert coh.submit(order("0.01")).startswith("coh")

        # the owner's own revocation through the JSON-RPC URL: initiate, then finalize at the ETA
        marker = flow.session_key_delegation(done.sub_account, session.address, 1).selectors[-1]
        chain.send(wallet.revoke_tx(owner.address, done.sub_account, session.address, [marker]))
        eta = wallet.pending_revocation_eta(done.sub_account, session.address, marker)
        chain.time_travel(eta)
        chain.send(
            wallet.revoke_tx(
                owner.address, done.sub_account, session.address, [marker], finalize=True
            )
        )
        assert not wallet.is_delegation_active(done.sub_account, session.address, marker)
    assert gone(rpc_url), "anvil outlived serve's SIGTERM"


@pytest.mark.subprocess
def test_serve_with_a_missing_anvil_is_one_line_and_exit_2(tmp_path: Path) -> None:
    done = subprocess.run(
        [CLI, "serve", "--chain", "anvil", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "SYMMIO_ANVIL": str(tmp_path / "no-anvil")},
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("serve failed: "), done.stderr
    assert "Traceback" not in done.stdout + done.stderr


# ------------------------------------------------------------------ the edge, in-process


@pytest.fixture(scope="module")
def edge():
    lines: list[str] = []
    services = Services(embedded_backend(), access_log=lines.append)
    with TestClient(services.app, base_url="http://testserver") as http:
        yield services, http, lines


def test_a_browser_preflight_from_a_loopback_origin_is_answered(edge) -> None:
    _, http, _ = edge
    got = http.options(
        "/solver/api/instant_trade/instant_open",
        headers={
            "Origin": "http://localhost:5173",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert got.status_code == 200
    assert got.headers["access-control-allow-origin"] == "http://localhost:5173"
    assert "POST" in got.headers["access-control-allow-methods"]
    plain = http.get("/context", headers={"Origin": "http://127.0.0.1:3000"})
    assert plain.headers["access-control-allow-origin"] == "http://127.0.0.1:3000"


def test_a_foreign_origin_is_not_allowed_by_default_but_can_be_configured(edge) -> None:
    _, http, _ = edge
    got = http.get("/context", headers={"Origin": "https://app.example"})
    assert "access-control-allow-origin" not in got.headers
    services = Services(edge[0].backend, cors_origins=["https://app.example"])
    with TestClient(services.app, base_url="http://testserver") as other:
        got = other.get("/context", headers={"Origin": "https://app.example"})
    assert got.headers["access-control-allow-origin"] == "https://app.example"


def test_every_request_gets_one_log_line_with_status_rules_and_time(edge) -> None:
    _, http, lines = edge
    lines.clear()
    http.get("/solver/api/contract-symbols")
    http.post("/solver/api/instant_trade/instant_open", json={"sendQuote": {}})
    assert len(lines) == 2, lines
    assert lines[0].startswith("GET /solver/api/contract-symbols 200 ") and lines[0].endswith(" ms")
    assert lines[1].startswith("POST /solver/api/instant_trade/instant_open 400 refused: ")


def open_bodies(services: Services, *quantities: str) -> list[dict]:
    """Canonical instant_open bodies of one freshly onboarded user, one per quantity."""
    backend = services.backend
    session = LocalKey.generate()
    done = backend.onboard(session.address)
    context = backend.system.context(sub_account=done.sub_account, session_key=session.address)
    locked = pricing.LockedParamsPct.from_response(
        {**backend.markets[1].locked_params, "leverage": "10"}
    )
    plans = [
        flow.build_instant_open(
            context,
            session,
            sub_account=done.sub_account,
            symbol=context.symbols[0],
            side="long",
            quantity=Decimal(quantity),
            leverage=10,
            mark_price=backend.prices[1],
            locked_params=locked,
            trading_fee=Decimal("0.0006"),
            deadline=backend.now() + 3_600,
        )
        for quantity in quantities
    ]
    return [wire.instant_open_to_wire(plan.body) for plan in plans]


def test_a_body_with_warnings_is_accepted_and_the_warnings_header_lists_them(edge) -> None:
    services, http, lines = edge
    first, second = open_bodies(services, "0.01", "0.001")
    assert http.post("/solver/api/instant_trade/instant_open", json=first).status_code == 200
    del second["addMargin"]  # the VA funded by the first open holds the margin
    lines.clear()
    got = http.post("/solver/api/instant_trade/instant_open", json=second)
    assert got.status_code == 200, got.text
    noted = read_harness_list(got.headers, WARNINGS_HEADER)
    assert [w["rule_id"] for w in noted] == ["open.add-margin-absent"], got.headers
    assert lines[-1].startswith("POST /solver/api/instant_trade/instant_open 200 warnings: ")


def test_an_sdk_style_json_number_is_information_not_a_warning(edge) -> None:
    services, http, _ = edge
    (body,) = open_bodies(services, "0.01")
    body["sendQuote"]["signedOperation"]["maxUses"] = 1  # the published schema: an integer
    got = http.post("/solver/api/instant_trade/instant_open", json=body)
    assert got.status_code == 200, got.text
    assert WARNINGS_HEADER not in got.headers, got.headers
    info = read_harness_list(got.headers, INFO_HEADER)
    assert [i["rule_id"] for i in info] == ["uint.json-number"], got.headers


@pytest.mark.parametrize("name", ["AccountLayer", "InstantLayer", "SymmioCore", "ERC20"])
def test_the_abis_are_served(edge, name: str) -> None:
    _, http, _ = edge
    got = http.get(f"/abi/{name}")
    assert got.status_code == 200 and any(e.get("type") == "function" for e in got.json())


def test_an_unknown_abi_is_refused_naming_the_served_ones(edge) -> None:
    _, http, _ = edge
    got = http.get("/abi/Nope")
    assert got.status_code == 400 and "served: AccountLayer" in got.json()["error_detail"]


def test_an_open_without_add_margin_is_accepted_with_its_warning(edge) -> None:
    services, http, _ = edge
    first, second = open_bodies(services, "0.01", "0.001")
    got = http.post("/solver/api/instant_trade/instant_open", json=first)
    assert got.status_code == 200, got.text
    del second["addMargin"]  # the VA funded by the first open holds the margin
    got = http.post("/solver/api/instant_trade/instant_open", json=second)
    assert got.status_code == 200, got.text
    noted = read_harness_list(got.headers, WARNINGS_HEADER)
    assert [w["rule_id"] for w in noted] == ["open.add-margin-absent"], got.headers
    assert set(got.json()) == {"temp_quote_id", "partyBmm"}, "the published reply only"


def test_get_context_is_a_context_file_the_validator_reads(edge, tmp_path: Path) -> None:
    services, http, _ = edge
    (body,) = open_bodies(services, "0.01")
    answer = http.get("/context").json()
    path = tmp_path / "context.json"
    path.write_text(json.dumps(answer))
    (path.parent / "open.json").write_text(json.dumps(body))
    done = subprocess.run(
        [CLI, "validate", "--context", str(path), str(path.parent / "open.json")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_an_unreadable_body_names_the_readers_rule(edge) -> None:
    _, http, lines = edge
    lines.clear()
    got = http.post(
        "/solver/api/instant_trade/instant_open",
        content=b"[" * 100_000 + b"]" * 100_000,
        headers={"content-type": "application/json"},
    )
    assert got.status_code == 400 and got.json()["rule_ids"] == ["input.limits"]
    assert lines[-1].startswith(
        "POST /solver/api/instant_trade/instant_open 400 refused: input.limits"
    )
