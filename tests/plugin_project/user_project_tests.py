"""A frontend team's own tests, as in the README: run from a separate project by
tests/test_pytest_fixtures.py (pytester), with nothing but the installed package."""

from decimal import Decimal

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness import flow, wire
from harness.pricing import LockedParamsPct
from harness.services import AmbiguousSubmission, CohClient, SolverClient

LOCKED = LockedParamsPct.from_response(
    {"cva": "2", "lf": "1", "partyAmm": "5", "partyBmm": "0", "leverage": "10"}
)


def open_body(context, user, deadline):
    return flow.build_instant_open(
        context,
        user.session,
        sub_account=user.sub_account,
        symbol=context.symbols[0],
        side="long",
        quantity=Decimal("0.015"),
        leverage=10,
        mark_price=Decimal("65000.5"),
        locked_params=LOCKED,
        trading_fee=Decimal("0.0006"),
        deadline=deadline,
    ).body


def test_open_runs_on_chain_through_the_services(symmio_chain, symmio_user, symmio_services):
    context = symmio_services.services.backend.context
    accepted = symmio_services.solver.instant_open(
        open_body(context, symmio_user, symmio_chain.chain.now() + 3600)
    )
    status = symmio_services.solver.temp_quote_status(accepted.temp_quote_id)
    assert status["state"] == "Opened" and status["quote_id"] == 1
    assert symmio_chain.system.quote(1)["quoteStatus"] == 4  # OPENED
    assert "private" in repr(symmio_user.session) and "hidden" in repr(symmio_user.session)


def test_state_never_leaks_between_tests(symmio_chain, symmio_user):
    assert symmio_chain.system.nonce(symmio_user.sub_account) == 0
    assert symmio_chain.system.quote(1)["quoteStatus"] == 0  # the open above was undone


def test_my_client_against_the_mock_solver(mock_solver, symmio_context, symmio_user, symmio_chain):
    body = wire.instant_open_to_wire(
        open_body(symmio_context, symmio_user, symmio_chain.chain.now() + 3600)
    )
    got = httpx.post("https://solver.team.test/api/instant_trade/instant_open", json=body)
    assert got.status_code == 200 and got.json()["temp_quote_id"] < 0
    body["sendQuote"]["signature"] = "0x" + "11" * 65
    refused = httpx.post("https://solver.team.test/api/instant_trade/instant_open", json=body)
    assert refused.status_code == 400 and refused.json()["code"] == 3000
    mock_solver.assert_called("instant_open", times=2)
    mock_solver.assert_refused("instant_open", 3000)


def test_my_client_survives_a_lost_reply(mock_solver, symmio_context, symmio_user, symmio_chain):
    mock_solver.fault("instant_open", "reply_lost")
    body = wire.instant_open_to_wire(
        open_body(symmio_context, symmio_user, symmio_chain.chain.now() + 3600)
    )
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.post("https://solver.team.test/api/instant_trade/instant_open", json=body)
    (call,) = mock_solver.assert_called("instant_open", times=1)
    assert call.fault == "reply_lost" and call.body["temp_quote_id"] < 0  # it was accepted


def test_my_tpsl_client_against_the_mock_coh(mock_coh, symmio_context, symmio_user):
    spec = httpx.get("https://coh.symmio.test/api/v5/signing-spec").json()
    assert spec["primaryType"] == "ConditionalOrder"
    order = flow.build_tpsl(
        symmio_context.tpsl_domain(),
        symmio_user.session,
        sub_account=symmio_user.sub_account,
        virtual_account=symmio_user.sub_account,
        affiliate=symmio_context.affiliate,
        quote_id=1,
        symbol=symmio_context.symbols[0],
        side="long",
        quantity=Decimal("0.004"),
        mark_price=Decimal("65000.5"),
        take_profit=Decimal("68250.5"),
    )
    body = wire.tpsl_to_wire(order)
    assert httpx.post("https://coh.symmio.test/api/v5/", json=body).json()["successful"] is True
    assert httpx.post("https://coh.symmio.test/api/v5/", json=body).status_code == 409  # replay
    body["typedData"]["message"]["takeProfit"]["quantity"] = "0.0045"
    assert httpx.post("https://coh.symmio.test/api/v5/", json=body).json()["code"] == 407
    mock_coh.assert_called("tpsl", times=3)
    coh = CohClient("https://coh.symmio.test")
    (row,) = coh.search(
        party_a_address=symmio_user.sub_account, conditional_order_type="take_profit"
    )
    message, signature = flow.build_tpsl_delete(
        symmio_context.tpsl_domain(),
        symmio_user.session,
        virtual_account=symmio_user.sub_account,
        coh_quote_id=row["coh_quote_id"],
        conditional_order_type="take_profit",
    )
    cancelled = coh.cancel(
        symmio_context.tpsl_domain(), message, signature, symmio_user.session.address
    )
    assert cancelled == row["coh_quote_id"]
    assert coh.search(party_a_address=symmio_user.sub_account)[0]["state"] == "canceled"


def test_the_mock_solver_serves_symbols_and_error_codes(mock_solver, symmio_context):
    solver = SolverClient("https://solver.team.test")
    (row,) = solver.contract_symbols()
    assert row["name"] == symmio_context.symbols[0].name and "mark_price" not in row  # prices
    assert {"3000", "3013"} <= set(solver.error_codes()), "the published {code: message} map"
    assert {c["code"] for c in solver.error_codes_detailed()} >= {3000, 3013}


def test_a_lost_reply_is_not_reposted(mock_solver, symmio_context, symmio_user, symmio_chain):
    mock_solver.fault("instant_open", "reply_lost")  # accepted, then the connection drops
    body = open_body(symmio_context, symmio_user, symmio_chain.chain.now() + 3600)
    client = SolverClient("https://solver.team.test")  # or your own client code
    with pytest.raises(AmbiguousSubmission) as lost:  # no chain read given: it cannot tell
        client.instant_open(body)
    assert len(lost.value.digests) == 2  # addMargin and sendQuote
    mock_solver.assert_called("instant_open", times=1)  # never re-posted


def test_with_a_chain_read_the_lost_reply_is_reconciled(symmio_chain, symmio_user, symmio_services):
    from harness.services import Reconciled

    faults = symmio_services.services.backend.faults
    from harness.services.faults import Armed

    faults.arm("instant_open", Armed("error_after_execute", 1))
    context = symmio_services.services.backend.context
    got = symmio_services.solver.instant_open(
        open_body(context, symmio_user, symmio_chain.chain.now() + 3600)
    )
    assert isinstance(got, Reconciled) and symmio_chain.system.quote(1)["quoteStatus"] == 4


STARTS = []


@settings(
    max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(units=st.integers(1, 10**9))
def test_hypothesis_examples_do_not_leak(symmio_chain, symmio_user, units):
    token = symmio_chain.system.collateral.functions
    with symmio_chain.isolated():
        start = token.balanceOf(symmio_user.address).call()
        STARTS.append(start)
        symmio_chain.system.mint(symmio_user.address, units)
        assert token.balanceOf(symmio_user.address).call() == start + units
    assert len(set(STARTS)) == 1, STARTS  # every example started from the same state


@pytest.mark.live
def test_a_live_test_is_skipped_unless_asked_for():
    raise AssertionError("a live test ran without --live")


def test_my_bot_reads_marks_from_the_mock_price_service(mock_prices, symmio_context):
    from harness.services.price_client import mark_of

    name = symmio_context.symbols[0].name
    assert mark_of("https://prices.symmio.test", name) == Decimal("65000.5")
    mock_prices.set_price(name, "66000.25")
    got = httpx.get(f"https://prices.symmio.test/api/v1/prices/{name},NOPE")
    assert list(got.json()) == [name] and '"markPrice":66000.25' in got.text
    assert [route for route, _ in mock_prices.calls] == ["prices", "prices"]


@pytest.mark.symmio_deployment("arbitrum")
def test_on_arbitrum_the_open_is_capped_and_the_grant_was_an_operation(
    symmio_chain, symmio_user, symmio_services, symmio_context, mock_coh
):
    from harness import calldata as cd
    from harness.protocol import V0_8_6

    assert symmio_context.generation is V0_8_6 and symmio_chain.system.gasless_layer is not None
    for selector in cd.session_key_selectors(V0_8_6):
        assert symmio_chain.system.is_delegation_active(
            symmio_user.sub_account, symmio_user.session_key, selector
        )
    context = symmio_services.services.backend.context
    body = open_body(context, symmio_user, symmio_chain.chain.now() + 3600)
    assert body.send_quote.signed_operation.call_data[:4] == cd.SEND_QUOTE.selector
    accepted = symmio_services.solver.instant_open(body)
    assert symmio_services.solver.temp_quote_status(accepted.temp_quote_id)["state"] == "Opened"
    spec = httpx.get("https://coh.symmio.test/api/v5/signing-spec").json()
    assert spec["domain"]["name"] == "SymmioConditionalOrder", spec["domain"]


@pytest.mark.symmio_deployment("base")
def test_on_base_the_mock_solver_speaks_rasa(
    mock_solver, symmio_context, symmio_user, symmio_chain
):
    body = wire.instant_open_to_wire(
        open_body(symmio_context, symmio_user, symmio_chain.chain.now() + 3600)
    )
    got = httpx.post("https://solver.team.test/api/instant_trade/open", json=body)
    assert got.status_code == 200 and got.json()["party_a_address"] == symmio_user.sub_account
    enigma = httpx.post("https://solver.team.test/api/instant_trade/instant_open", json=body)
    assert enigma.status_code == 404 and enigma.json() == {"detail": "Not Found"}
