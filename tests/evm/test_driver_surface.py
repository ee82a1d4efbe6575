"""The driver (harness.chain.System) reaches the contracts only through their real surface."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from web3.middleware import Web3Middleware

from harness import calldata as cd
from harness.chain import System, surface

from .scenario import DEPOSIT_UNITS, FILL_PRICE, Scenario

pytestmark = pytest.mark.evm


def record_calls(s: Scenario, request: pytest.FixtureRequest) -> list[tuple[str, str, bytes]]:
    """(method, to, selector) of every call and transaction sent from now to the test's end."""
    seen: list[tuple[str, str, bytes]] = []
    w3 = s.chain.w3

    class Recorder(Web3Middleware):
        def request_processor(self, method: Any, params: Any) -> Any:
            if method in ("eth_call", "eth_sendTransaction", "eth_estimateGas"):
                tx = params[0]
                if tx.get("to"):
                    data = tx.get("data") or tx.get("input") or "0x"
                    data = data if isinstance(data, str) else "0x" + bytes(data).hex()
                    to = w3.to_checksum_address(tx["to"])
                    seen.append((method, to, bytes.fromhex(data[2:10])))
            return method, params

    w3.middleware_onion.add(Recorder, name="surface-recorder")
    request.addfinalizer(lambda: w3.middleware_onion.remove("surface-recorder"))
    return seen


def lifecycle(s: Scenario, user: Any) -> None:
    """Onboard (`user`: address or key), open, close, revoke, read, with the plain driver."""
    driver = System(s.chain, s.system.deployment)  # the plain driver, not the mock system
    onboarded = driver.onboard(
        user,
        s.session.address,
        s.bot.address,
        deposit_units=DEPOSIT_UNITS,
        expiry=s.chain.now() + 86_400,
    )
    s = Scenario(
        driver, s.user, s.session, s.bot, s.hedger, s.stranger, s.snapshot, onboarded.sub_account
    )
    opened = driver.instant_open(s.open_plan().body, opened_price=FILL_PRICE)
    s.virtual_account, s.quote_id = opened.virtual_account, opened.quote_id
    driver.instant_close(s.close_plan(s.session, Decimal("0.001")).body)
    s.chain.send(
        driver.revoke_tx(
            s.user.address, s.sub, s.session.address, [cd.ADD_MARGIN_TO_NEXT_VA.selector]
        )
    )
    driver.nonce(s.sub), driver.is_delegation_active(s.sub, s.session.address, b"\x00\x00\x00\x01")


def outside_the_surface(
    seen: list[tuple[str, str, bytes]], contract_at: dict[str, str]
) -> list[tuple[str, str, str]]:
    return [
        (method, contract_at.get(to, to), selector.hex())
        for method, to, selector in seen
        if to not in contract_at or selector not in surface.selectors(contract_at[to])
    ]


def test_a_whole_lifecycle_calls_nothing_outside_the_real_surface(
    deployed: Scenario, request: pytest.FixtureRequest
) -> None:
    s = deployed
    s.system.mint(s.user.address, DEPOSIT_UNITS)  # the faucet is mock-only: before recording
    d = s.system.deployment
    contract_at = {
        d.instant_layer: "InstantLayer",
        d.account_layer: "AccountLayer",
        d.symmio_core: "SymmioCore",
        d.collateral: "ERC20",
    }
    seen = record_calls(s, request)
    lifecycle(s, s.user.address)

    assert seen, "nothing was recorded"
    assert outside_the_surface(seen, contract_at) == [], "calls outside the real surface"
    reached = {contract_at[to] for _, to, _ in seen}
    assert reached == {"InstantLayer", "AccountLayer", "ERC20"}, reached


def test_a_whole_v086_lifecycle_calls_nothing_outside_the_v086_surface(
    deployed086: Scenario, request: pytest.FixtureRequest
) -> None:
    """Onboarded with a grant operation relayed by the GaslessLayer, opened capped."""
    s = deployed086
    s.system.mint(s.user.address, DEPOSIT_UNITS)
    d = s.system.deployment
    assert d.gasless_layer is not None, "a v0.8.6 deployment has a GaslessLayer"
    contract_at = {
        d.instant_layer: "InstantLayerV086",
        d.account_layer: "AccountLayerV086",
        d.symmio_core: "SymmioCoreV086",
        d.collateral: "ERC20",
        d.gasless_layer: "GaslessLayer",
    }
    seen = record_calls(s, request)
    lifecycle(s, s.user)

    assert outside_the_surface(seen, contract_at) == [], "calls outside the v0.8.6 surface"
    reached = {contract_at[to] for _, to, _ in seen}
    assert reached == {"InstantLayerV086", "AccountLayerV086", "ERC20", "GaslessLayer"}, reached
