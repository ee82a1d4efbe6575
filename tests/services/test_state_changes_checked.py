"""Every state change of the mock validates completely before it mutates (issue 19): a mark the
chain cannot hold is refused and nothing is stored; `/mock/onboard` refuses addresses that can
never be a session key, each by name."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from harness.keys import LocalKey
from harness.wire import eip55

from .conftest import User, make_services, opened_position


@pytest.fixture
def stack() -> Iterator:
    """Its own chain per test: these tests move the mark price and onboard keys."""
    yield from make_services()


@pytest.mark.parametrize("digits", [61, 70, 78])
def test_mock_price_beyond_uint256_wei_is_refused_and_the_mark_kept(services, http, solver, digits):
    before = services.backend.prices[1]
    got = http.post("/coh/mock/price", json={"symbol_id": 1, "price": "1" * digits})
    assert got.status_code == 400, f"a {digits}-digit mark: expected 400, got {got.status_code}"
    detail = got.json()["error_detail"]
    assert detail.startswith("price:") and "uint256" in detail, f"names field and limit: {detail}"
    assert services.backend.prices[1] == before, "the refused mark was stored"
    session = LocalKey.generate()
    user = User(session, services.backend.onboard(session.address).sub_account)
    va, _ = opened_position(services, solver, user)  # trading still works after the refusal
    assert va.startswith("0x"), f"no position opened after the refused mark: {va}"


def test_mock_price_at_the_uint256_limit_is_accepted(services, http):
    from harness.services.backend import MAX_MARK_WEI

    whole = str(MAX_MARK_WEI // 10**18)
    got = http.post("/coh/mock/price", json={"symbol_id": 1, "price": whole})
    assert got.status_code == 200, f"the largest whole mark the chain holds: {got.text}"


def reserved(services) -> list[tuple[str, str]]:
    b = services.backend
    return [
        ("zero", "0x" + "00" * 20),
        ("InstantLayer", b.system.instant_layer.address),
        ("AccountLayer", b.system.account_layer.address),
        ("Symmio core", b.system.core.address),
        ("collateral", b.system.collateral.address),
        ("PartyB", b.system.party_b.address),
        ("hedger", b.system.hedger.address),
        ("TP/SL bot", b.bot.address),
    ]


def test_onboard_refuses_every_address_that_cannot_be_a_session_key(services, http):
    for name, address in reserved(services):
        got = http.post("/mock/onboard", json={"session_key": eip55(address)})
        body = got.json()
        assert got.status_code == 400 and body["code"] == 3002, f"{name}: {got.status_code}"
        assert name in body["error_detail"], f"{name} not named: {body['error_detail']}"


def test_onboard_refuses_a_key_already_bound_to_another_user(http):
    key = LocalKey.generate().address
    first = http.post("/mock/onboard", json={"session_key": key})
    assert first.status_code == 200, first.text
    again = http.post("/mock/onboard", json={"session_key": key})
    body = again.json()
    assert again.status_code == 400 and body["code"] == 3002, again.text
    assert first.json()["sub_account"] in body["error_detail"], body["error_detail"]
