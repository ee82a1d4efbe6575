"""The mock COH in-process: TP/SL orders are validated, checked on chain, stored, and closed by
the TP/SL bot through its own delegation when the mark crosses a trigger."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest

from harness import flow
from harness.keys import LocalKey
from harness.model import Domain
from harness.services import CohClient, ServiceError, Services, SolverClient
from harness.services.published import coh_quote_id_number

from .conftest import BASE, User, make_services, opened_position, subscribe

WS = "/solver/api/ws/notifications"


@pytest.fixture
def stack() -> Iterator:
    """Its own chain per test: these tests move the mark price."""
    yield from make_services()


def tpsl(services: Services, signer: LocalKey, user: User, va: str, quote_id: int, domain=None):
    backend = services.backend
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
        take_profit=Decimal("68250.5"),
        stop_loss=Decimal("61750.5"),
    )


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


def test_a_cancelled_leg_no_longer_triggers(
    services: Services, solver: SolverClient, coh: CohClient, http, user: User
) -> None:
    va, quote_id = opened_position(services, solver, user)
    order = tpsl(services, user.session, user, va, quote_id)
    coh_id = coh.submit(order)
    spec = http.get(f"{BASE}/coh/api/v5/signing-spec-del").json()
    assert spec["primaryType"] == "ConditionalOrderDelete"
    domain = services.backend.context.tpsl_domain()

    def delete(key: LocalKey) -> tuple:
        message, signature = flow.build_tpsl_delete(
            domain,
            key,
            virtual_account=va,
            salt=order.order.salt,
            coh_quote_id=coh_quote_id_number(coh_id),  # the delete message's number
            conditional_order_type="take_profit",
        )
        return domain, message, signature, key.address

    stranger = LocalKey.generate()
    with pytest.raises(ServiceError) as caught:
        coh.cancel(*delete(stranger))
    assert caught.value.code == 3011
    assert coh.cancel(*delete(user.session)) == coh_id
    with pytest.raises(ServiceError, match="only a new order"):
        coh.cancel(*delete(user.session))
    assert coh.set_mock_price(1, "68300.0")["triggered"] == []
    assert services.backend.system.quote(quote_id)["quoteStatus"] == 4  # still OPENED


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
    ):
        assert path in message, path
