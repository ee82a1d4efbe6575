"""`serve --deployment arbitrum`: the services over the v0.8.6 mocks. `/context` names the
generation and the GaslessLayer; `/mock/onboard` grants by an owner-signed grant operation
relayed by the GaslessLayer, with the v0.8.6 session-key set. (Judging v0.8.6 bodies is the
validator's; this covers the chain side of the services.)"""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterator

import httpx
import pytest
from web3 import Web3

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from harness import artifacts
from harness import calldata as cd
from harness.context import context_from_json
from harness.keys import LocalKey
from harness.protocol import V0_8_6
from harness.services import Services, embedded_backend
from harness.services.launch import ServeProcess

from ..anvil_needed import needs_anvil

BASE = "http://127.0.0.1"


@pytest.fixture(scope="module")
def stack() -> Iterator[tuple[Services, TestClient]]:
    services = Services(embedded_backend(generation=V0_8_6))
    with TestClient(services.app, base_url=BASE) as http:
        yield services, http


def test_the_v086_context_names_its_generation_and_gasless_layer(
    stack: tuple[Services, TestClient],
) -> None:
    services, http = stack
    served = http.get("/context").json()
    assert served["contracts_version"] == "0.8.6", served
    assert served["gasless_layer"] == services.backend.system.gasless_layer.address
    assert context_from_json(served).generation is V0_8_6, "the context reads back as v0.8.6"


def test_v086_contract_symbols_serve_the_fee_cap_minimums_as_enigma_does(
    stack: tuple[Services, TestClient],
) -> None:
    """Enigma's rows carry min_open/min_close_solver_fee_cap (decimal strings; the SDK defaults
    them to "0": its market mapper and CHANGELOG), on v0.8.6 only."""
    _, http = stack
    rows = http.get("/solver/api/contract-symbols").json()["symbols"]
    assert rows and all(
        (r["min_open_solver_fee_cap"], r["min_close_solver_fee_cap"]) == ("0", "0") for r in rows
    ), rows
    local = Services(embedded_backend())
    with TestClient(local.app, base_url=BASE) as v085:
        rows = v085.get("/solver/api/contract-symbols").json()["symbols"]
    assert all("min_open_solver_fee_cap" not in r for r in rows), "v0.8.5 rows are unchanged"


def test_mock_onboard_on_v086_grants_the_v086_session_key_set(
    stack: tuple[Services, TestClient],
) -> None:
    services, http = stack
    session = LocalKey.generate()
    got = http.post("/mock/onboard", json={"session_key": session.address})
    assert got.status_code == 200, got.text
    sub = got.json()["sub_account"]
    system = services.backend.system
    for selector in cd.session_key_selectors(V0_8_6):
        assert system.is_delegation_active(sub, session.address, selector), selector.hex()
    legacy = cd.SEND_QUOTE_WITH_AFFILIATE_AND_DATA.selector
    assert not system.is_delegation_active(sub, session.address, legacy), "no v0.8.5 open"


@pytest.mark.anvil
@needs_anvil
def test_serve_on_anvil_with_deployment_arbitrum_deploys_the_v086_mocks() -> None:
    serve_process = ServeProcess(args=("--chain", "anvil", "--deployment", "arbitrum"))
    try:
        context = context_from_json(httpx.get(f"{serve_process.base}/context").json())
        assert context.generation is V0_8_6, "the served context names v0.8.6"
        assert context.gasless_layer is not None and context.rpc_url is not None
        w3 = Web3(Web3.HTTPProvider(context.rpc_url))
        code = bytes(w3.eth.get_code(context.instant_layer))
        deployed = bytes.fromhex(
            artifacts.load_artifact("InstantLayerV086")["deployedBytecode"][2:]
        )
        assert len(code) == len(deployed), "the InstantLayer on anvil is the v0.8.6 mock"
        assert bytes(w3.eth.get_code(context.gasless_layer)), "the GaslessLayer is deployed"
    finally:
        serve_process.stop()


def test_the_gasless_layer_is_refused_as_a_session_key(
    stack: tuple[Services, TestClient],
) -> None:
    services, http = stack
    gasless = services.backend.system.gasless_layer.address
    got = http.post("/mock/onboard", json={"session_key": gasless})
    assert got.status_code == 400, got.text
    assert "the GaslessLayer contract" in got.text, got.text


@pytest.mark.parametrize(
    ("name", "function"),
    [("InstantLayer", "grantDelegations"), ("SymmioCore", "sendQuote"), ("GaslessLayer", None)],
)
def test_v086_serves_the_abis_of_its_own_mocks(
    stack: tuple[Services, TestClient], name: str, function: str | None
) -> None:
    """A client building calls from GET /abi/{name} gets the deployed v0.8.6 mocks' ABIs (the
    capped sendQuote, grantDelegations, the GaslessLayer), not the v0.8.5 ones."""
    _, http = stack
    got = http.get(f"/abi/{name}")
    assert got.status_code == 200, got.text
    functions = {e["name"] for e in got.json() if e.get("type") == "function"}
    if function is not None:
        assert function in functions, sorted(functions)
    else:
        assert "relayWalletBatch" in functions, sorted(functions)


@pytest.mark.server
@pytest.mark.subprocess
def test_serve_deployment_arbitrum_runs_the_v086_flow_for_a_client_configured_from_context() -> (
    None
):
    """`serve --deployment arbitrum` on the embedded chain, a client that knows only the base
    URL: /context names v0.8.6 and the profile; the open it builds is the capped sendQuote with
    the served minimums; the close runs; the TP/SL is signed under Arbitrum's COH domain as the
    COH serves it and a mark move makes the bot close the rest."""
    from decimal import Decimal

    from harness import flow
    from harness.deployments import ARBITRUM
    from harness.services import CohClient, SolverClient

    with ServeProcess(args=("--deployment", "arbitrum", "--quiet")) as served:
        base = served.base
        context = context_from_json(httpx.get(f"{base}/context", timeout=30).json())
        assert context.generation is V0_8_6 and context.deployment is not None
        assert context.deployment.name == "arbitrum", context.deployment
        symbol = context.symbols[0]  # type: ignore[index]
        session = LocalKey.generate()
        sub = httpx.post(
            f"{base}/mock/onboard", json={"session_key": session.address}, timeout=30
        ).json()["sub_account"]
        with SolverClient(f"{base}/solver") as solver, CohClient(f"{base}/coh") as coh:
            (row,) = [r for r in solver.contract_symbols() if r["symbol_id"] == symbol.id]
            mark = Decimal("65000.5")
            deadline = int(time.time()) + 3600
            opened = flow.build_instant_open(
                context,
                session,
                sub_account=sub,
                symbol=symbol,
                side="long",
                quantity=Decimal("0.015"),
                leverage=10,
                mark_price=mark,
                locked_params=solver.locked_params(symbol.name, 10),
                trading_fee=Decimal(row["trading_fee"]),
                deadline=deadline,
            )
            send = opened.body.send_quote.signed_operation.call_data
            assert send[:4] == cd.SEND_QUOTE.selector, "the open is the capped sendQuote"
            status = solver.temp_quote_status(solver.instant_open(opened.body).temp_quote_id)
            va, quote_id = status["party_a_account"], status["quote_id"]
            closed = flow.build_instant_close(
                context,
                session,
                virtual_account=va,
                quote_id=quote_id,
                symbol=symbol,
                side="long",
                quantity=Decimal("0.010"),
                mark_price=mark,
                deadline=deadline,
            )
            solver.instant_close(closed.body)  # a refusal raises ServiceError
            spec = coh.signing_spec()
            assert (spec.name, spec.version) == (
                ARBITRUM.coh.domain_name,  # type: ignore[union-attr]
                ARBITRUM.coh.domain_version,  # type: ignore[union-attr]
            )
            assert spec.verifying_contract == context.tpsl_bot, "the COH wallet is the bot"
            take_profit = Decimal("68250.5")
            coh.submit(
                flow.build_tpsl(
                    spec,
                    session,
                    sub_account=sub,
                    virtual_account=va,
                    affiliate=context.affiliate,
                    quote_id=quote_id,
                    symbol=symbol,
                    side="long",
                    quantity=Decimal("0.005"),
                    mark_price=mark,
                    take_profit=take_profit,
                    stop_loss=Decimal("61750.5"),
                )
            )
            (hit,) = coh.set_mock_price(symbol.id, take_profit)["triggered"]
            assert hit["tx_hash"], hit
