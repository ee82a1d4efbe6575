"""The happy path on chain: steps 1-7 as the spec's end-to-end summary lists them, then the TP/SL
bot closing the rest through its own delegation; plus the revert decoder's input forms."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from eth_abi import encode
from eth_tester.exceptions import TransactionFailed
from web3.exceptions import ContractCustomError, ContractLogicError, ContractPanicError

from harness import addresses, artifacts, eip712, flow, pricing
from harness import calldata as cd
from harness.chain import FILL_CLOSE_REQUEST
from harness.protocol import V0_8_5
from harness.revert import (
    EMPTY_REVERT,
    ERROR_STRING_SELECTOR,
    PANIC_SELECTOR,
    Reverted,
    decode_revert,
    decode_revert_data,
    format_revert,
)

from .scenario import DEPOSIT_UNITS, FILL_PRICE, MARK, Scenario

pytestmark = pytest.mark.evm

E18 = 10**18
OPENED, CLOSED = 4, 7


def test_happy_path_steps_1_to_7_then_the_tpsl_bot_closes_the_rest(deployed: Scenario) -> None:
    s, system, chain = deployed, deployed.system, deployed.chain
    user = s.user.address
    core, al = system.mock["SymmioCore"], system.mock["AccountLayer"]

    # 1. createSubAccounts: the address follows the formula (global nonce 1), owned by the user
    sub, _ = system.create_sub_account(user, "happy")
    assert sub == addresses.sub_account_address(system.affiliate, user, 1)
    assert al.functions.ownerOf(sub).call() == user
    s.sub_account = sub

    # 2. approve the CORE (the ERC20 spender), then depositForAccount: 6 decimals in, 18 inside
    system.mint(user, DEPOSIT_UNITS)
    system.approve(user, DEPOSIT_UNITS)
    assert system.collateral.functions.allowance(user, core.address).call() == DEPOSIT_UNITS
    system.deposit(user, sub, DEPOSIT_UNITS)
    assert system.balance(sub) == 1_000 * E18
    assert system.collateral.functions.balanceOf(core.address).call() == DEPOSIT_UNITS

    # 3. bind through _call
    system.bind(user, sub)
    assert tuple(core.functions.getBindState(sub).call()[:2]) == (1, system.party_b.address)

    # 4-5. delegations: the session key's trading set, the bot's close set
    expiry = chain.now() + 86_400
    system.grant_delegation(user, flow.session_key_delegation(sub, s.session.address, expiry))
    system.grant_delegation(user, flow.tpsl_bot_delegation(sub, s.bot.address, expiry))
    for key, selectors in ((s.session, cd.SESSION_KEY_SELECTORS), (s.bot, cd.TPSL_BOT_SELECTORS)):
        for selector in selectors:
            assert system.is_delegation_active(sub, key.address, selector), selector.hex()
    assert not system.is_delegation_active(sub, s.bot.address, cd.ADD_MARGIN_TO_NEXT_VA.selector)

    # 6. instant open: ONE transaction, the quote id injected into lockQuote and openPosition
    plan = s.open_plan()
    predicted = al.functions.predictNextVirtualAccountAddress(
        sub, plan.va_isolation_type, s.symbol.id
    ).call()
    assert predicted == addresses.virtual_account_address(sub, 1)
    before = chain.latest_block()
    opened = system.instant_open(plan.body, opened_price=FILL_PRICE)
    assert chain.latest_block() == before + 1 == opened.sent.block_number, "one block"
    assert (opened.quote_id, opened.virtual_account) == (1, predicted)
    ops = [plan.body.add_margin, plan.body.send_quote]
    for op in ops:  # each signed operation used once (the PartyB's two are fresh as well)
        assert system.usage_count(eip712.digest(system.domain, op.signed_operation)) == 1
    quote = system.quote(1)
    assert quote["quoteStatus"] == OPENED
    assert (quote["partyA"], quote["partyB"]) == (predicted, system.party_b.address)
    assert quote["quantity"] == pricing.to_wei(plan.quantity)
    assert quote["openedPrice"] == FILL_PRICE
    assert cd.decode_quote_data(quote["data"]) == plan.uuid
    assert system.balance(sub) == 1_000 * E18 - plan.margin_wei
    locked = plan.locked.total_party_a
    assert core.functions.lockedBalanceOf(predicted).call() == locked
    assert system.balance(predicted) == plan.margin_wei - locked
    assert al.functions.getVirtualAccount(predicted).call()[1] == sub
    assert tuple(core.functions.getBindState(predicted).call()[:2]) == (1, system.party_b.address)
    s.virtual_account, s.quote_id = predicted, 1

    # 7. instant close by the session key, signerAccount = the VA (delegation found on the parent)
    close = s.close_plan(s.session, Decimal("0.010"))
    assert close.body.operations[0].signed_operation.signer_account.addr == predicted
    system.instant_close(close.body, closed_price=FILL_PRICE)
    quote = system.quote(1)
    assert quote["quoteStatus"] == OPENED
    assert quote["closedAmount"] == pricing.to_wei(Decimal("0.010"))
    digest = eip712.digest(system.domain, close.body.operations[0].signed_operation)
    assert system.usage_count(digest) == 1

    # 8. the TP/SL order is signed by the session key; when it triggers, the bot closes the rest
    order = flow.build_tpsl(
        s.context().tpsl_domain(),
        s.session,
        sub_account=sub,
        virtual_account=predicted,
        affiliate=system.affiliate,
        quote_id=1,
        symbol=s.symbol,
        side="long",
        quantity=Decimal("0.005"),
        mark_price=MARK,
        take_profit=Decimal("68250.5"),
    )
    assert eip712.recover(order.domain, order.order, order.signature) == s.session.address
    # the bot's delegation is stored on the sub-account; the view does not map the VA to it
    close = cd.REQUEST_TO_CLOSE_POSITION.selector
    assert system.is_delegation_active(sub, s.bot.address, close)
    assert not system.is_delegation_active(predicted, s.bot.address, close)
    bot_close = s.close_plan(s.bot, Decimal("0.005"), mark=Decimal("68250.5"))
    system.instant_close(bot_close.body, closed_price=pricing.to_wei(Decimal("68250.5")))
    quote = system.quote(1)
    assert quote["quoteStatus"] == CLOSED
    assert core.functions.lockedBalanceOf(predicted).call() == 0
    assert system.balance(predicted) == plan.margin_wei


def test_the_bot_cannot_open_with_its_close_only_delegation(onboarded: Scenario) -> None:
    plan = onboarded.open_plan(onboarded.bot)
    assert onboarded.chain.revert_of(onboarded.system.instant_open_tx(plan.body)) == (
        "InvalidDelegation",
        (),
    )


def test_a_reverted_transaction_is_mined_and_raises_the_decoded_error(onboarded: Scenario) -> None:
    s = onboarded
    op = s.sign(s.stranger, s.add_margin_call())
    before = s.chain.latest_block()
    with pytest.raises(Reverted) as caught:
        s.system.execute_batch([op])
    assert (caught.value.name, caught.value.error_args) == ("InvalidDelegation", ())
    assert s.chain.latest_block() == before + 1, "mined with status 0"
    assert "executeBatch: reverted with InvalidDelegation()" in str(caught.value)


def test_a_failed_transaction_is_named_at_its_own_block_time(onboarded: Scenario) -> None:
    """The reason is read at the failed block's timestamp: an operation whose deadline is that
    very second fails for its real reason (no delegation), not DeadlineExpired a second later."""
    s = onboarded
    op = s.sign(s.stranger, s.add_margin_call(), deadline=s.chain.now())
    with pytest.raises(Reverted) as caught:
        s.system.execute_batch([op])
    assert caught.value.decoded == ("InvalidDelegation", ())


# ------------------------------------------------------------------------------- revert decoder
CUSTOM = bytes.fromhex("bc3088ef") + encode(["uint256"], [17])  # DeadlineExpired(17)
NESTED = bytes.fromhex("05677227") + encode(
    ["uint256", "bytes"], [2, bytes.fromhex("a9e649e9")]
)  # OperationFailed(2, InvalidDelegation())


@pytest.mark.parametrize(
    ("raised", "expected"),
    [
        pytest.param(
            TransactionFailed(f"execution reverted: {CUSTOM!r}"),
            ("DeadlineExpired", (17,)),
            id="eth-tester-custom-error-bytes-repr",
        ),
        pytest.param(
            TransactionFailed("execution reverted: SymmioCore: low deadline"),
            ("Error", ("SymmioCore: low deadline",)),
            id="eth-tester-error-string-text",
        ),
        pytest.param(
            TransactionFailed(repr(NESTED)),
            ("OperationFailed", (2, ("InvalidDelegation", ()))),
            id="eth-tester-direct-operation-failed-recursive",
        ),
        pytest.param(
            TransactionFailed("execution reverted: b''"), (EMPTY_REVERT, ()), id="eth-tester-empty"
        ),
        pytest.param(
            ContractCustomError("0x" + CUSTOM.hex(), data="0x" + CUSTOM.hex()),
            ("DeadlineExpired", (17,)),
            id="json-rpc-contract-custom-error",
        ),
        pytest.param(
            ContractLogicError(
                "execution reverted",
                data="0x" + (ERROR_STRING_SELECTOR + encode(["string"], ["boom"])).hex(),
            ),
            ("Error", ("boom",)),
            id="json-rpc-error-string",
        ),
        pytest.param(
            ContractPanicError(
                "Panic", data="0x" + (PANIC_SELECTOR + encode(["uint256"], [17])).hex()
            ),
            ("Panic", (17,)),
            id="json-rpc-panic",
        ),
        pytest.param(
            {"code": 3, "message": "execution reverted", "data": "0x" + NESTED.hex()},
            ("OperationFailed", (2, ("InvalidDelegation", ()))),
            id="json-rpc-error-object",
        ),
        pytest.param(
            "Reverted 0x" + CUSTOM.hex(), ("DeadlineExpired", (17,)), id="reverted-prefix-text"
        ),
        pytest.param(
            bytes.fromhex("deadbeef01"), ("<unknown 0xdeadbeef>", (b"\x01",)), id="unknown-selector"
        ),
    ],
)
def test_revert_decoder_reads_every_source(raised: object, expected: tuple) -> None:
    assert decode_revert(raised) == expected


def test_revert_decoder_formats_nested_errors() -> None:
    assert format_revert(decode_revert_data(NESTED)) == "OperationFailed(2, InvalidDelegation())"


def test_revert_decoder_refuses_what_is_not_a_revert() -> None:
    with pytest.raises(Exception, match="not a revert"):
        decode_revert(ValueError("nothing to see"))


# ------------------------------------------------------------------------------- constants
_CONTRACT_OF = {
    "symmio_core": "SymmioCore",
    "account_layer": "AccountLayer",
    "instant_layer": "InstantLayer",
    "erc20": "MockERC20",
}


def test_every_calldata_function_exists_in_the_compiled_mocks() -> None:
    """harness.calldata's v0.8.5 signatures (and the PartyB fill) are the v0.8.5 mocks' functions;
    the only exception is the requestToClosePosition overload that is a delegation key."""
    for fn in (*cd.functions_of(V0_8_5).values(), FILL_CLOSE_REQUEST):
        if fn is cd.REQUEST_TO_CLOSE_POSITION_WITH_UPNL_SIG or fn is cd.LEGACY_EXECUTE_BATCH:
            continue
        entries = artifacts.abi(_CONTRACT_OF[fn.contract])
        signatures = {artifacts.signature(e) for e in entries if e["type"] == "function"}
        assert fn.signature in signatures, f"{fn.contract}: {fn.signature}"
    core = {artifacts.signature(e) for e in artifacts.abi("SymmioCore") if e["type"] == "function"}
    assert cd.REQUEST_TO_CLOSE_POSITION_WITH_UPNL_SIG.signature not in core


def test_an_open_without_add_margin_runs_on_the_active_va(opened: Scenario) -> None:
    """{sendQuote} alone (the solver's documented {addMargin?, sendQuote}): the VA already
    holds margin, so the open runs as [sendQuote, lockQuote, openPosition] on it."""
    s = opened
    system = s.system
    plan = s.open_plan(quantity=Decimal("0.001"))
    body = replace(plan.body, add_margin=None)
    again = system.instant_open(body, opened_price=FILL_PRICE)
    assert (again.quote_id, again.virtual_account) == (2, s.va)
    assert system.quote(2)["quoteStatus"] == OPENED and system.quote(2)["partyA"] == s.va
