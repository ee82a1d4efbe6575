"""upnlSig's three client regimes through the mock solver's HTTP route, on the embedded chain.

Each regime opens a position at the mark (real-world.md §3: all three conform, none warned).
For the SDK's flex range the solver fills the upnlSig region itself, as the PartyB sending the
transaction; a flex range naming another filler or covering other bytes is refused by the
validator before anything reaches the chain.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from harness import calldata as cd
from harness import eip712, pricing, upnl_sig, wire
from harness.chain.mocks import PARTY_B_EXECUTE
from harness.keys import LocalKey
from harness.model import FlexField, InstantOpen, WrappedOperation
from harness.services import Services, SolverClient
from harness.services.published import TX_HASH_HEADER, WARNINGS_HEADER
from harness.upnl_sig import UpnlSigRegime

from .conftest import User, open_plan

OPEN_ROUTE = "/solver/api/instant_trade/instant_open"


def _plan(services: Services, user: User, regime: UpnlSigRegime):
    return open_plan(services, user, upnl_sig=regime, upnl_sig_timestamp=services.backend.now())


@pytest.mark.parametrize("regime", list(UpnlSigRegime), ids=lambda r: r.value)
def test_each_upnl_sig_regime_opens_at_the_mark_without_warning(
    services: Services, http, user: User, regime: UpnlSigRegime
) -> None:
    backend = services.backend
    response = http.post(
        OPEN_ROUTE, json=wire.instant_open_to_wire(_plan(services, user, regime).body)
    )
    assert response.status_code == 200, response.json()
    assert WARNINGS_HEADER not in response.headers, response.headers
    assert set(response.json()) == {"temp_quote_id", "partyBmm"}, response.json()
    status = http.get(f"/solver/api/temp_quote_status/{response.json()['temp_quote_id']}").json()
    assert status["state"] == "Opened", status
    quote = backend.system.quote(status["quote_id"])
    assert quote["quoteStatus"] == 4, quote  # OPENED
    assert quote["openedPrice"] == backend.mark_wei(1), (
        f"opened at {quote['openedPrice']}, the mark is {backend.mark_wei(1)}"
    )


def test_the_solver_fills_the_flex_range_as_the_party_b_at_the_fill_price(
    services: Services, http, user: User
) -> None:
    backend = services.backend
    plan = _plan(services, user, UpnlSigRegime.SDK_FLEX)
    response = http.post(OPEN_ROUTE, json=wire.instant_open_to_wire(plan.body))
    assert response.status_code == 200, response.json()
    tx = backend.chain.w3.eth.get_transaction(response.headers[TX_HASH_HEADER])
    assert tx["to"] == backend.system.party_b.address, "the PartyB relays: it is msg.sender"
    target, inner = PARTY_B_EXECUTE.decode(bytes(tx["input"])).values()
    assert target.lower() == backend.system.instant_layer.address.lower()
    sent = cd.EXECUTE_TEMPLATE.decode(inner)
    (flex,) = plan.body.send_quote.signed_operation.flex_fields
    (fill,) = sent["fills"][1]  # [addMargin, sendQuote, lockQuote, openPosition]
    assert sent["flexFillerSignatures"][1] == (b"",), "the sender is the filler: no signature"
    assert len(fill) == flex.length
    _, _, upnl, price, _, _ = upnl_sig.decode_region(fill)
    assert (upnl, price) == (0, backend.mark_wei(1)), "the fill carries the fill price"


def _resigned_flex(services: Services, user: User, flex: FlexField) -> InstantOpen:
    body = _plan(services, user, UpnlSigRegime.SDK_FLEX).body
    op = replace(body.send_quote.signed_operation, flex_fields=(flex,))
    domain = services.backend.system.domain
    send = WrappedOperation(op, user.session.sign_digest(eip712.digest(domain, op)))
    return replace(body, send_quote=send)


def _region_flex(services: Services, user: User) -> FlexField:
    call = _plan(services, user, UpnlSigRegime.SDK_FLEX).body.send_quote.signed_operation
    (flex,) = call.flex_fields
    return flex


@pytest.mark.parametrize(
    ("mutate", "rule"),
    [
        (
            lambda flex: replace(flex, authorized_flex_filler=LocalKey(b"\x07" * 32).address),
            "open.upnl-sig-flex-filler",
        ),
        (lambda flex: replace(flex, offset=flex.offset - 32), "open.upnl-sig-flex-range"),
        (lambda flex: replace(flex, length=flex.length - 32), "open.upnl-sig-flex-range"),
    ],
    ids=["another-filler", "range-moved", "range-short"],
)
def test_a_flex_range_for_another_filler_or_other_bytes_is_refused_before_the_chain(
    services: Services, http, user: User, mutate, rule: str
) -> None:
    chain = services.backend.chain
    before = chain.latest_block()
    body = _resigned_flex(services, user, mutate(_region_flex(services, user)))
    response = http.post(OPEN_ROUTE, json=wire.instant_open_to_wire(body))
    assert response.status_code == 400, response.json()
    assert response.json()["rule_ids"] == [rule], response.json()
    assert chain.latest_block() == before, "nothing reached the chain"


def test_the_sdk_placeholder_price_is_the_requested_price_not_the_mark(
    services: Services, solver: SolverClient, user: User
) -> None:
    """The SDK signs the slippage-adjusted price; the solver still fills at the mark."""
    plan = _plan(services, user, UpnlSigRegime.SDK_PLACEHOLDER)
    signed = cd.SEND_QUOTE_WITH_AFFILIATE_AND_DATA.decode(
        plan.body.send_quote.signed_operation.call_data
    )
    assert signed["upnlSig"][3] == pricing.to_wei(plan.requested_price, "price")
    assert signed["upnlSig"][3] != services.backend.mark_wei(1)
    status = solver.temp_quote_status(solver.instant_open(plan.body).temp_quote_id)
    assert status["state"] == "Opened"
