"""harness.chain over JSON-RPC: our system deployed on a real anvil node and driven through the
real surface (keys signed locally, receipts polled, time travel and snapshots over evm_* calls),
and the local-signing path on the embedded chain."""

from __future__ import annotations

from decimal import Decimal

import pytest
from web3 import Web3

from harness import calldata as cd
from harness import flow, pricing
from harness.anvil import Anvil
from harness.chain import Chain, deploy_system
from harness.context import Symbol
from harness.demo import Market
from harness.keys import LocalKey
from harness.primitives import keccak
from harness.protocol import V0_8_6, Protocol
from harness.revert import Reverted

from .anvil_needed import needs_anvil

MARKET = Market()
LOCKED = pricing.LockedParamsPct.from_response(MARKET.locked_params)


def key(label: str) -> LocalKey:
    return LocalKey(keccak(f"symmio-harness rpc test {label}".encode()))


def lifecycle(chain: Chain, generation: type[Protocol] | None = None) -> None:
    """Deploy, onboard a fresh user, open, close: the driver's whole path on `chain`. On v0.8.6
    the onboarding grants by an owner-signed operation relayed by the GaslessLayer and the open
    is the capped sendQuote, whose caps (the symbol's minimums) the core stores."""
    if generation is None:
        system = deploy_system(chain, hedger=key("hedger"))
    else:
        symbol = Symbol(1, "BTCUSDT", 1, 3, Decimal("0.0006"), Decimal("0.0004"))
        system = deploy_system(
            chain, hedger=key("hedger"), generation=generation, symbols=(symbol,)
        )
    user, session = key("user"), key("session")
    chain.add_key(user)
    expiry = chain.now() + 86_400
    owner = user.address if generation is None else user
    done = system.onboard(owner, session.address, deposit_units=10**9, expiry=expiry)
    ctx = system.context(sub_account=done.sub_account, session_key=session.address)
    plan = flow.build_instant_open(
        ctx,
        session,
        sub_account=done.sub_account,
        symbol=system.symbols[0],
        side="long",
        quantity=MARKET.quantity,
        leverage=10,
        mark_price=MARKET.mark_price,
        locked_params=LOCKED,
        trading_fee=Decimal("0.0006"),
        deadline=chain.now() + 3_600,
    )
    opened = system.instant_open(plan.body)
    assert opened.quote_id == 1 and system.quote(1)["quoteStatus"] == 4  # OPENED
    if generation is not None:
        assert system.solver_fee_caps(1) == (6 * 10**14, 4 * 10**14), "the capped open's caps"
    close = flow.build_instant_close(
        ctx,
        session,
        virtual_account=opened.virtual_account,
        quote_id=opened.quote_id,
        symbol=system.symbols[0],
        side="long",
        quantity=MARKET.quantity,
        mark_price=MARKET.mark_price,
        deadline=chain.now() + 3_600,
    )
    system.instant_close(close.body)
    assert system.quote(1)["quoteStatus"] == 7  # CLOSED
    # a revert over JSON-RPC decodes like one on eth-tester
    with pytest.raises(Reverted) as caught:
        system.instant_close(close.body)
    assert caught.value.decoded[0] == "MaxUsesExceeded"


@pytest.mark.evm
def test_keys_signed_locally_drive_the_embedded_chain() -> None:
    lifecycle(Chain(sign_locally=True))


@pytest.mark.anvil
@needs_anvil
def test_the_driver_runs_the_lifecycle_on_anvil_and_travels_in_time() -> None:
    with Anvil() as node:
        chain = Chain(Web3(Web3.HTTPProvider(node.rpc_url)))
        assert chain.chain_id == node.chain_id and chain.tester is None
        snap = chain.snapshot()
        lifecycle(chain)
        target = chain.now() + 1_000
        chain.time_travel(target)
        assert chain.now() == target
        chain.revert(snap)
        assert chain.latest_block() < 5


@pytest.mark.anvil
@needs_anvil
def test_the_driver_runs_the_v086_lifecycle_on_anvil() -> None:
    with Anvil() as node:
        lifecycle(Chain(Web3(Web3.HTTPProvider(node.rpc_url))), V0_8_6)


@pytest.mark.evm
def test_a_node_without_unlocked_accounts_sends_only_from_added_keys(monkeypatch) -> None:
    from harness.chain import ChainError, node

    tester = Chain()  # funds the key below from its own admin, then is seen as a public node
    key = LocalKey.generate()
    tester.add_key(key)
    monkeypatch.setattr(node, "_unlocked_accounts", lambda w3: [])
    public = Chain(tester.w3, sign_locally=True)
    assert public.view_sender() == {}
    with pytest.raises(ChainError, match="no unlocked account: send from a key added with add_key"):
        _ = public.admin
    public.add_key(key, fund_wei=0)
    transfer = flow.TxRequest("self-transfer", key.address, key.address, b"", cd.ERC20_APPROVE)
    sent = public.send(transfer, gas=30_000)
    assert sent.gas_used == 21_000
