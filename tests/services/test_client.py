"""The sync client against recorded answers (respx): what it sends and how it reads replies."""

from __future__ import annotations

import json
from decimal import Decimal

import httpx
import pytest

from harness import wire
from harness.demo import example_context, label_address
from harness.keys import LocalKey
from harness.model import InstantOpen
from harness.services import CohClient, ServiceError, SolverClient

SOLVER = "http://solver.test"
COH = "http://coh.test"


def _open_body() -> InstantOpen:
    from harness import flow
    from harness.pricing import LockedParamsPct

    ctx = example_context()
    plan = flow.build_instant_open(
        ctx,
        LocalKey(b"\x01" * 32),
        sub_account=label_address("SubAccount"),
        symbol=ctx.symbols[0],
        side="long",
        quantity=Decimal("0.015"),
        leverage=10,
        mark_price=Decimal("65000.5"),
        locked_params=LockedParamsPct.from_response(
            {"cva": "2", "lf": "1", "partyAmm": "5", "partyBmm": "0", "leverage": "10"}
        ),
        trading_fee=Decimal("0.0006"),
        deadline=2_000_000_000,
    )
    return plan.body


def test_instant_open_posts_the_canonical_body_and_reads_the_temp_id(respx_mock) -> None:
    body = _open_body()
    route = respx_mock.post(f"{SOLVER}/api/instant_trade/instant_open").mock(
        return_value=httpx.Response(200, json={"temp_quote_id": -7, "partyBmm": "0"})
    )
    accepted = SolverClient(SOLVER).instant_open(body)
    assert (accepted.temp_quote_id, accepted.party_b_mm) == (-7, "0")
    sent = json.loads(route.calls.last.request.content)
    assert sent == wire.instant_open_to_wire(body)
    assert sent["sendQuote"]["signedOperation"]["maxUses"] == "1"  # decimal strings on the wire


def test_a_refusal_becomes_a_service_error_with_code_and_rule_ids(respx_mock) -> None:
    refusal = {
        "code": 3000,
        "error_message": "the body does not conform to v0.8.5",
        "error_detail": "1 violation(s)",
        "category": "validation",
        "http_status": 400,
        "rule_ids": ["salt.zero"],
        "findings": [],
    }
    respx_mock.post(f"{SOLVER}/api/instant_trade/instant_close").mock(
        return_value=httpx.Response(400, json=refusal)
    )
    with pytest.raises(ServiceError) as caught:
        SolverClient(SOLVER).instant_close([])
    err = caught.value
    assert (err.code, err.category, err.http_status, err.rule_ids) == (
        3000,
        "validation",
        400,
        ["salt.zero"],
    )


def test_a_positive_temp_quote_id_is_refused(respx_mock) -> None:
    respx_mock.post(f"{SOLVER}/api/instant_trade/instant_open").mock(
        return_value=httpx.Response(200, json={"temp_quote_id": 5, "partyBmm": "0"})
    )
    with pytest.raises(ServiceError, match="negative temp_quote_id"):
        SolverClient(SOLVER).instant_open({})


def test_non_json_and_unreachable_answers_are_service_errors(respx_mock) -> None:
    respx_mock.get(f"{SOLVER}/api/contract-symbols").mock(
        return_value=httpx.Response(502, text="<html>bad gateway</html>")
    )
    respx_mock.get(f"{SOLVER}/api/error_codes").mock(side_effect=httpx.ConnectError("refused"))
    client = SolverClient(SOLVER)
    with pytest.raises(ServiceError) as caught:
        client.contract_symbols()
    assert caught.value.http_status == 502
    with pytest.raises(ServiceError, match="ConnectError"):
        client.error_codes()


def test_locked_params_sends_the_leverage_and_reads_strings(respx_mock) -> None:
    route = respx_mock.get(f"{SOLVER}/api/get_locked_params/BTCUSDT").mock(
        return_value=httpx.Response(
            200, json={"cva": "2", "lf": "1", "partyAmm": "5", "partyBmm": "0", "leverage": "10"}
        )
    )
    params = SolverClient(SOLVER).locked_params("BTCUSDT", 10)
    assert route.calls.last.request.url.params["leverage"] == "10"
    assert (params.cva, params.party_amm, params.leverage) == (Decimal(2), Decimal(5), 10)


def test_locked_params_as_json_numbers_are_refused(respx_mock) -> None:
    respx_mock.get(f"{SOLVER}/api/get_locked_params/BTCUSDT").mock(
        return_value=httpx.Response(
            200, json={"cva": 2, "lf": "1", "partyAmm": "5", "partyBmm": "0", "leverage": "10"}
        )
    )
    with pytest.raises(ValueError, match="locked_params.cva"):
        SolverClient(SOLVER).locked_params("BTCUSDT", 10)


def test_coh_client_sends_app_name_and_reads_the_served_domain(respx_mock) -> None:
    ctx = example_context()
    domain = ctx.tpsl_domain()
    spec = respx_mock.get(f"{COH}/api/v5/signing-spec").mock(
        return_value=httpx.Response(
            200, json={"domain": domain.as_dict(), "types": {}, "primaryType": "ConditionalOrder"}
        )
    )
    stored = respx_mock.post(f"{COH}/api/v5/").mock(
        return_value=httpx.Response(
            200, json={"successful": True, "message": "ok", "coh_quote_id": "coh12"}
        )
    )
    client = CohClient(COH, app_name="my-frontend")
    assert client.signing_spec() == domain
    assert spec.calls.last.request.headers["App-Name"] == "my-frontend"
    assert client.submit({"typedData": {}}) == "coh12"
    assert stored.calls.last.request.headers["App-Name"] == "my-frontend"


def test_coh_unsuccessful_answer_is_an_error(respx_mock) -> None:
    respx_mock.post(f"{COH}/api/v5/").mock(
        return_value=httpx.Response(200, json={"successful": "false", "message": "407"})
    )
    with pytest.raises(ServiceError, match="not stored"):
        CohClient(COH).submit({})
