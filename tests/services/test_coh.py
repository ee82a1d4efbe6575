"""The mock COH in-process: TP/SL orders are validated, checked on chain, stored, and closed by
the TP/SL bot through its own delegation when the mark crosses a trigger."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from email.utils import formatdate

import pytest

from harness import eip712, flow, wire
from harness.context import context_from_json
from harness.keys import LocalKey
from harness.model import Domain, TpslRequest
from harness.services import CohClient, ServiceError, Services, SolverClient
from harness.services.client import _delete_body as client_delete_body
from harness.services.coh import coh_quote_id_text, parse_coh_quote_id
from harness.services.notify_client import CANCELED_STATES, order_state
from harness.validator.engine import validate_body

from .conftest import BASE, User, make_services, opened_position, subscribe

WS = "/solver/api/ws/notifications"


@pytest.fixture
def stack() -> Iterator:
    """Its own chain per test: these tests move the mark price."""
    yield from make_services()


def tpsl(
    services: Services, signer: LocalKey, user: User, va: str, quote_id: int, domain=None, **legs
):
    backend = services.backend
    legs = {"take_profit": Decimal("68250.5"), "stop_loss": Decimal("61750.5"), **legs}
    return flow.build_tpsl(
        domain or backend.context.tpsl_domain(),
        signer,
        sub_account=user.sub_account,
        virtual_account=va,
        affiliate=backend.system.affiliate,
        quote_id=quote_id,
        symbol=backend.markets[1].symbol,
        side="long",
        quantity=Decimal("0.015"),
        mark_price=backend.prices[1],
        **legs,
    )


def signed_order(services: Services, user: User, va: str, quote_id: int, **changes) -> dict:
    """A correctly signed order of the valid legs (long, mark 65000.5: TP 68250.5, SL 61750.5,
    each 0.015 at price 65000.5) with leg fields replaced (`tp_conditional_price="0"`, ...):
    orders `flow.build_tpsl` would refuse to build."""
    order = tpsl(services, user.session, user, va, quote_id).order
    tp = {k[3:]: v for k, v in changes.items() if k.startswith("tp_")}
    sl = {k[3:]: v for k, v in changes.items() if k.startswith("sl_")}
    order = replace(
        order,
        take_profit=replace(order.take_profit, **tp),
        stop_loss=replace(order.stop_loss, **sl),
    )
    domain = services.backend.context.tpsl_domain()
    signature = user.session.sign_digest(eip712.digest(domain, order))
    return wire.tpsl_to_wire(TpslRequest(domain, order, user.session.address, signature))


def test_signing_spec_serves_the_context_domain(services: Services, coh: CohClient, http) -> None:
    assert coh.signing_spec() == services.backend.context.tpsl_domain()
    spec = http.get(f"{BASE}/coh/api/v5/signing-spec").json()
    assert spec["primaryType"] == "ConditionalOrder"
    assert list(spec["types"]["ConditionalOrder"][0].values()) == ["virtualAccount", "address"]


def test_tpsl_set_then_a_price_move_makes_the_bot_close_on_chain(
    services: Services, http, solver: SolverClient, coh: CohClient, user: User
) -> None:
    system = services.backend.system
    va, quote_id = opened_position(services, solver, user)
    coh_id = coh.submit(tpsl(services, user.session, user, va, quote_id))
    (tp, sl) = coh.search(party_a_address=va)
    assert (tp["conditional_order_type"], tp["state"], tp["coh_quote_id"]) == (
        "take_profit",
        "new",
        coh_id,
    )
    assert sl["conditional_order_type"] == "stop_loss"
    assert coh.set_mock_price(1, "66000.0")["triggered"] == []  # between the triggers
    nonce_before = system.nonce(va)
    with http.websocket_connect(WS) as ws:
        subscribe(ws, user.sub_account)
        moved = coh.set_mock_price(1, Decimal("68300.0"))
        frame = ws.receive_json()
    (hit,) = moved["triggered"]
    assert hit["conditional_order_type"] == "take_profit" and hit["state"] == "triggered"
    quote = system.quote(quote_id)
    assert quote["quoteStatus"] == 7 and quote["closedAmount"] == quote["quantity"]  # CLOSED
    # the close was signed by the bot for the VA: its receipt's batch carries the bot's op
    tx = system.chain.w3.eth.get_transaction(hit["tx_hash"])
    assert services.backend.bot.address[2:].lower() in tx["input"].hex()
    assert system.nonce(va) == nonce_before  # salt-only replay protection, as the user's ops
    assert frame["data"]["last_seen_action"] == "FillMarketOrderInstantClose"
    assert frame["data"]["avg_price_close"] == "68300"
    states = {r["conditional_order_type"]: r["state"] for r in coh.search(party_a_address=va)}
    assert states == {"take_profit": "triggered", "stop_loss": "canceled"}


def test_tpsl_refused_when_the_signer_holds_no_session_marker(
    services: Services, solver: SolverClient, coh: CohClient, user: User
) -> None:
    va, quote_id = opened_position(services, solver, user)
    with pytest.raises(ServiceError) as caught:
        coh.submit(tpsl(services, LocalKey.generate(), user, va, quote_id))
    assert (caught.value.code, caught.value.http_status) == (3011, 403)
    assert "isDelegationActive" in str(caught.value)
    assert coh.search() == []


def test_tpsl_with_another_domain_is_refused_by_rule(
    services: Services, solver: SolverClient, coh: CohClient, user: User
) -> None:
    va, quote_id = opened_position(services, solver, user)
    served = services.backend.context.tpsl_domain()
    other = Domain("SymmioConditionalOrder", "1", served.chain_id, served.verifying_contract)
    with pytest.raises(ServiceError) as caught:
        coh.submit(tpsl(services, user.session, user, va, quote_id, domain=other))
    assert caught.value.code == 3000 and "tpsl.domain" in caught.value.rule_ids


def test_tpsl_on_a_quote_of_another_account_is_refused(
    services: Services, solver: SolverClient, coh: CohClient, user: User
) -> None:
    va, quote_id = opened_position(services, solver, user)
    with pytest.raises(ServiceError) as caught:
        coh.submit(tpsl(services, user.session, user, va, quote_id + 1000))
    assert caught.value.code == 3012 and "quoteId" in str(caught.value)


def test_search_configs_and_mock_price_errors(coh: CohClient, http) -> None:
    configs = coh.configs()
    assert set(configs) == {
        "MaxRequestTimeDeltaSeconds",
        "MinPriceDistancePercent",
        "MinProfitStopLossSpreadPercent",
        "MaxActiveOrdersPerUser",
    }
    bad = http.post(f"{BASE}/coh/api/v5/search/", json={"state": ["open"]})
    assert bad.status_code == 400 and bad.json()["error_detail"].endswith(
        "state: expected null or a list of pending, new, triggered, triggered_pending, "
        "canceled, killed"
    )
    for body, field in (
        ({"symbol_id": 1, "price": 68000}, "price"),
        ({"symbol_id": 1, "price": "68000.05"}, "price"),
        ({"symbol_id": 9, "price": "1"}, "symbol_id"),
    ):
        response = http.post(f"{BASE}/coh/mock/price", json=body)
        assert response.status_code in (400, 404), body
        assert f"{field}:" in response.json()["error_detail"], response.json()


def coh_text(coh_id: int | str) -> str:
    """The order's "coh<N>" id, whichever form the POST reply gives."""
    return coh_id if isinstance(coh_id, str) else coh_quote_id_text(coh_id)


def cancel_of(services: Services, key: LocalKey, va: str, coh_id, leg: str = "take_profit"):
    """A CancelConditionalOrder signed by `key` with a fresh salt of its own."""
    domain = services.backend.context.tpsl_domain()
    message, signature = flow.build_tpsl_delete(
        domain,
        key,
        virtual_account=va,
        coh_quote_id=coh_text(coh_id),
        conditional_order_type=leg,
    )
    return domain, message, signature, key.address


def test_signing_spec_del_serves_cancel_conditional_order_with_string_salt_and_id(http) -> None:
    spec = http.get(f"{BASE}/coh/api/v5/signing-spec-del").json()
    assert spec["primaryType"] == "CancelConditionalOrder"
    assert spec["types"]["CancelConditionalOrder"] == [
        {"name": "virtualAccount", "type": "address"},
        {"name": "salt", "type": "string"},
        {"name": "cohQuoteId", "type": "string"},
        {"name": "conditionalOrderType", "type": "string"},
    ], spec["types"]


def test_a_cancelled_leg_no_longer_triggers(
    services: Services, solver: SolverClient, coh: CohClient, user: User
) -> None:
    va, quote_id = opened_position(services, solver, user)
    order = tpsl(services, user.session, user, va, quote_id)
    coh_id = coh.submit(order)
    with pytest.raises(ServiceError) as caught:
        coh.cancel(*cancel_of(services, LocalKey.generate(), va, coh_id))
    assert caught.value.code == 3011, caught.value
    cancel = cancel_of(services, user.session, va, coh_id)
    assert cancel[1].salt != str(order.order.salt)  # the cancel signs its own salt
    assert coh.cancel(*cancel) == coh_text(coh_id)
    with pytest.raises(ServiceError, match="only a new order"):  # a fresh cancel of it
        coh.cancel(*cancel_of(services, user.session, va, coh_id))
    assert coh.set_mock_price(1, "68300.0")["triggered"] == []
    assert services.backend.system.quote(quote_id)["quoteStatus"] == 4  # still OPENED


def test_a_replayed_cancel_signature_is_refused_as_a_replay(
    services: Services, solver: SolverClient, coh: CohClient, http, user: User
) -> None:
    va, quote_id = opened_position(services, solver, user)
    coh_id = coh.submit(tpsl(services, user.session, user, va, quote_id))
    cancel = cancel_of(services, user.session, va, coh_id, "stop_loss")
    coh.cancel(*cancel)
    with pytest.raises(ServiceError) as caught:
        coh.cancel(*cancel)
    assert (caught.value.http_status, caught.value.code) == (409, 3013), caught.value
    assert "replay" in str(caught.value)
    states = {r["conditional_order_type"]: r["state"] for r in coh.search(party_a_address=va)}
    assert states == {"take_profit": "new", "stop_loss": "canceled"}, states


def test_a_cancel_names_the_order_by_virtual_account_coh_id_and_leg(
    services: Services, solver: SolverClient, coh: CohClient, user: User
) -> None:
    va, quote_id = opened_position(services, solver, user)
    order = tpsl(
        services, user.session, user, va, quote_id, stop_loss=None, take_profit=Decimal("68250.5")
    )
    coh_id = coh.submit(order)
    for wrong in (
        cancel_of(services, user.session, user.sub_account, coh_id),  # not the order's VA
        cancel_of(services, user.session, va, coh_id, "stop_loss"),  # no such leg
        cancel_of(services, user.session, va, coh_quote_id_text(10_000)),  # no such order
    ):
        with pytest.raises(ServiceError) as caught:
            coh.cancel(*wrong)
        assert caught.value.code == 3012 and "cohQuoteId" in str(caught.value), caught.value
    assert coh.cancel(*cancel_of(services, user.session, va, coh_id)) == coh_text(coh_id)


def test_a_cancel_with_a_bare_number_as_coh_quote_id_is_refused_naming_the_field(
    services: Services, solver: SolverClient, coh: CohClient, http, user: User
) -> None:
    va, quote_id = opened_position(services, solver, user)
    coh_id = coh.submit(tpsl(services, user.session, user, va, quote_id))
    domain, message, signature, signer = cancel_of(services, user.session, va, coh_id)
    body = client_delete_body(domain, message, signature, signer)
    body["typedData"]["message"]["cohQuoteId"] = str(parse_coh_quote_id(message.coh_quote_id))
    response = http.request("DELETE", f"{BASE}/coh/api/v5/", json=body)
    assert response.status_code == 400, response.text
    assert (
        'typedData.message.cohQuoteId: expected the order\'s id as a string "coh<N>"'
        in (response.json()["error_detail"])
    )


def test_a_malformed_delete_names_every_bad_field(http) -> None:
    response = http.request(
        "DELETE",
        f"{BASE}/coh/api/v5/",
        json={
            "typedData": {"types": {}, "primaryType": "X", "domain": {}, "message": {}},
            "signature": "0x12",
            "signer": "0xabc",
        },
    )
    assert response.status_code == 400
    message = response.json()["error_detail"]
    for path in (
        "signer:",
        "signature:",
        "typedData.primaryType:",
        "typedData.types:",
        "typedData.domain.name:",
        "typedData.message.salt:",
        "typedData.message.cohQuoteId:",
    ):
        assert path in message, path


# --- orders the COH cannot hold: one refusal per rule, on the embedded chain --------------------
# The position: long 0.015 BTCUSDT, mark 65000.5; the served limits: MinPriceDistancePercent 0.1,
# MinProfitStopLossSpreadPercent 0.2. Each refusal names its rule, and the limit with its values.

REFUSALS = [
    pytest.param(
        {"tp_conditional_price": "64000.0"},
        "tpsl.trigger-side",
        ("takeProfit.conditionalPrice", "64000.0 is below the mark 65000.5"),
        id="tpsl.trigger-side[long take-profit below the mark]",
    ),
    pytest.param(
        {"sl_conditional_price": "66000.0"},
        "tpsl.trigger-side",
        ("stopLoss.conditionalPrice", "66000.0 is above the mark 65000.5"),
        id="tpsl.trigger-side[long stop-loss above the mark]",
    ),
    pytest.param(
        {"tp_conditional_price": "65000.5"},
        "tpsl.trigger-at-mark",
        ("equals the mark 65000.5", "fire at once"),
        id="tpsl.trigger-at-mark",
    ),
    pytest.param(
        {"tp_conditional_price": "0"},
        "tpsl.trigger-zero",
        ("takeProfit.conditionalPrice", "trigger 0"),
        id="tpsl.trigger-zero",
    ),
    pytest.param(
        {"sl_price": "0"},
        "tpsl.price-zero",
        ("stopLoss.price", "price 0"),
        id="tpsl.price-zero",
    ),
    pytest.param(
        {"tp_quantity": "0.02"},
        "tpsl.quantity-position",
        ("takeProfit.quantity", "0.02, above the open quantity 0.015"),
        id="tpsl.quantity-position",
    ),
    pytest.param(
        {"sl_conditional_price": "68300.0"},
        "tpsl.sl-beyond-tp",
        ("stopLoss.conditionalPrice",),
        id="tpsl.sl-beyond-tp",
    ),
    pytest.param(
        {"tp_conditional_price": "65050.0"},
        "tpsl.min-distance",
        ("0.0762 % of the mark 65000.5 away", "MinPriceDistancePercent is 0.1"),
        id="tpsl.min-distance",
    ),
]


@pytest.mark.parametrize(("legs", "rule", "words"), REFUSALS)
def test_an_order_the_coh_cannot_hold_is_refused_by_its_rule_and_never_fires(
    services: Services, solver: SolverClient, http, user: User, legs, rule, words
) -> None:
    va, quote_id = opened_position(services, solver, user)
    response = http.post(
        f"{BASE}/coh/api/v5/", json=signed_order(services, user, va, quote_id, **legs)
    )
    assert response.status_code == 400, response.text
    refused = response.json()
    assert refused["code"] == 3000 and rule in refused["rule_ids"], refused
    finding = next(f for f in refused["findings"] if f["rule"] == rule)
    for word in words:
        assert word in f"{finding['path']}: {finding['message']}", (word, finding)
    detail = refused["error_detail"]
    assert rule in detail or refused["rule_ids"][0] != rule, detail
    assert http.post(f"{BASE}/coh/api/v5/search/", json={"party_a_address": va}).json() == {
        "data": [],
        "count": 0,
    }
    for price in ("64000.0", "70000.0"):  # nothing stored, so nothing fires either way
        assert (
            http.post(f"{BASE}/coh/mock/price", json={"symbol_id": 1, "price": price}).json()[
                "triggered"
            ]
            == []
        )
    assert services.backend.system.quote(quote_id)["quoteStatus"] == 4  # still OPENED


def test_the_first_refused_rule_is_named_with_its_limit_in_the_message(
    services: Services, solver: SolverClient, http, user: User
) -> None:
    va, quote_id = opened_position(services, solver, user)
    body = signed_order(services, user, va, quote_id, tp_conditional_price="65050.0")
    message = http.post(f"{BASE}/coh/api/v5/", json=body).json()["error_detail"]
    assert "tpsl.min-distance" in message and "MinPriceDistancePercent is 0.1" in message, message


def test_a_take_profit_and_stop_loss_too_close_together_break_the_spread_limit(
    services: Services, solver: SolverClient, http, user: User
) -> None:
    # with the served limits (distance 0.1 %, spread 0.2 %) two legs that clear the distance are
    # always >= 0.2 % apart; a COH serving a wider spread floor refuses them
    services.coh.limits = replace(
        services.coh.limits, min_profit_stop_loss_spread_percent=Decimal("0.5")
    )
    va, quote_id = opened_position(services, solver, user)
    body = signed_order(
        services, user, va, quote_id, tp_conditional_price="65150.0", sl_conditional_price="64900.0"
    )
    refused = http.post(f"{BASE}/coh/api/v5/", json=body).json()
    assert refused["rule_ids"] == ["tpsl.tp-sl-spread"], refused
    assert (
        "0.3846 % of the mark 65000.5 apart; MinProfitStopLossSpreadPercent is 0.5"
        in (refused["error_detail"])
    )


def test_the_mark_an_order_is_judged_against_is_the_live_one(
    services: Services, solver: SolverClient, coh: CohClient, user: User
) -> None:
    va, quote_id = opened_position(services, solver, user)
    order = tpsl(services, user.session, user, va, quote_id, stop_loss=None)
    coh.set_mock_price(1, "69000.0")  # the take-profit 68250.5 is now below the mark
    with pytest.raises(ServiceError) as caught:
        coh.submit(order)
    assert "tpsl.trigger-side" in caught.value.rule_ids, caught.value


def test_a_request_dated_beyond_max_request_time_delta_is_refused(
    services: Services, solver: SolverClient, http, user: User
) -> None:
    va, quote_id = opened_position(services, solver, user)
    now = services.coh.clock()
    body = wire.tpsl_to_wire(tpsl(services, user.session, user, va, quote_id))
    stale = http.post(
        f"{BASE}/coh/api/v5/", json=body, headers={"Date": formatdate(now - 120, usegmt=True)}
    )
    assert (stale.status_code, stale.json()["code"]) == (400, 3015), stale.text
    assert "MaxRequestTimeDeltaSeconds is 60" in stale.json()["error_detail"]
    assert "120 s from the service clock" in stale.json()["error_detail"]
    fresh = http.post(
        f"{BASE}/coh/api/v5/", json=body, headers={"Date": formatdate(now - 5, usegmt=True)}
    )
    assert fresh.status_code == 200, fresh.text


def test_a_request_without_a_date_is_not_judged_by_the_time_limit_as_the_sdk_sends_none(
    services: Services, solver: SolverClient, http, user: User
) -> None:
    va, quote_id = opened_position(services, solver, user)
    body = wire.tpsl_to_wire(tpsl(services, user.session, user, va, quote_id))
    assert "date" not in {k.lower() for k in http.headers}
    assert http.post(f"{BASE}/coh/api/v5/", json=body).status_code == 200


def test_an_unreadable_date_is_refused_naming_the_header(http) -> None:
    response = http.post(f"{BASE}/coh/api/v5/", json={}, headers={"Date": "yesterday"})
    assert (
        response.status_code == 400
        and "Date: 'yesterday' is not an HTTP date" in (response.json()["error_detail"])
    )


def test_app_name_is_accepted_absent_and_refused_empty(
    services: Services, solver: SolverClient, http, user: User
) -> None:
    va, quote_id = opened_position(services, solver, user)
    body = wire.tpsl_to_wire(tpsl(services, user.session, user, va, quote_id))
    empty = http.post(f"{BASE}/coh/api/v5/", json=body, headers={"App-Name": " "})
    assert empty.status_code == 400 and "App-Name:" in empty.json()["error_detail"], empty.text
    assert http.post(f"{BASE}/coh/api/v5/", json=body).status_code == 200  # absent: accepted


def frames(ws, count: int) -> list[dict]:
    return [ws.receive_json() for _ in range(count)]


def test_order_states_reach_the_coh_websocket_as_the_sdk_reads_them(
    services: Services, solver: SolverClient, coh: CohClient, http, user: User
) -> None:
    va, quote_id = opened_position(services, solver, user)
    order = tpsl(services, user.session, user, va, quote_id)
    with http.websocket_connect("/coh/api/v5/ws") as ws:
        subscribe(ws, user.sub_account)  # the SDK subscribes with the sub-account
        posted = http.post(
            f"{BASE}/coh/api/v5/",
            json=wire.tpsl_to_wire(order),
            headers={"App-Name": "Arbitrum_COH_Production"},
        )
        coh_id = coh_text(posted.json()["coh_quote_id"])
        tp, sl = frames(ws, 2)
        coh.cancel(*cancel_of(services, user.session, va, coh_id, "stop_loss"))
        (cancelled,) = frames(ws, 1)
        coh.set_mock_price(1, "68300.0")
        (triggered,) = frames(ws, 1)
    assert tp == {
        "app_name": "Arbitrum_COH_Production",
        "primary_identifier": quote_id,
        "secondary_identifier": 0,
        "address": user.sub_account,
        "type": "report",
        "timestamp": tp["timestamp"],
        "data": {
            "successful": True,
            "coh_quote_id": coh_id,
            "conditional_order_type": "take_profit",
            "state": "new",
        },
    }, tp
    assert isinstance(tp["timestamp"], int) and abs(tp["timestamp"] - services.coh.clock()) < 60
    assert (sl["data"]["conditional_order_type"], sl["data"]["state"]) == ("stop_loss", "new")
    assert (cancelled["data"]["conditional_order_type"], cancelled["data"]["state"]) == (
        "stop_loss",
        "canceled",
    )
    assert (triggered["data"]["conditional_order_type"], triggered["data"]["state"]) == (
        "take_profit",
        "triggered",
    )


def test_the_notifications_client_confirms_an_order_and_its_cancel_on_the_coh_websocket(
    services: Services, solver: SolverClient, coh: CohClient, http, user: User
) -> None:
    va, quote_id = opened_position(services, solver, user)
    with http.websocket_connect("/coh/api/v5/ws") as ws:
        subscribe(ws, user.sub_account)
        coh_id = coh.submit(tpsl(services, user.session, user, va, quote_id, stop_loss=None))
        new = ws.receive_json()
        coh.cancel(*cancel_of(services, user.session, va, coh_id))
        canceled = ws.receive_json()
    assert order_state(coh_id)(new) and not order_state(coh_id)(canceled)
    assert order_state(coh_text(coh_id), CANCELED_STATES)(canceled)
    assert not order_state(coh_quote_id_text(999))(new)


def test_context_hands_the_validator_the_marks_and_limits_the_coh_judges_with(
    services: Services, solver: SolverClient, http, user: User
) -> None:
    va, quote_id = opened_position(services, solver, user)
    http.post(f"{BASE}/coh/mock/price", json={"symbol_id": 1, "price": "66000.0"})
    served = http.get(f"{BASE}/context").json()
    assert served["mark_prices"] == {"1": "66000.0"}, served.get("mark_prices")
    assert served["coh_limits"]["MinPriceDistancePercent"] == "0.1", served["coh_limits"]
    context = context_from_json(served)
    body = signed_order(services, user, va, quote_id)  # TP 68250.5, SL 61750.5: valid
    assert validate_body(body, kind="tpsl", context=context).verdict == "pass"
    wrong = signed_order(services, user, va, quote_id, tp_conditional_price="65500.0")
    result = validate_body(wrong, kind="tpsl", context=context)
    refused = http.post(f"{BASE}/coh/api/v5/", json=wrong).json()
    assert sorted(result.rule_ids) == ["tpsl.trigger-side"] == refused["rule_ids"], refused
