"""Flow builders: every step's payload, and the rules the spec snippets get wrong."""

from __future__ import annotations

from decimal import Decimal

import pytest
from eth_utils import to_checksum_address

from harness import calldata as cd
from harness import eip712, flow, pricing, wire
from harness.context import Context, Symbol
from harness.errors import InputError
from harness.keys import LocalKey
from harness.model import ZERO_LEG, ZERO_SEND_QUOTE

SESSION = LocalKey(b"\x01" * 32)
USER = LocalKey(b"\x02" * 32)


def _addr(byte: int) -> str:
    return to_checksum_address(bytes([byte]) * 20)


CONTEXT = Context(
    chain_id=31337,
    instant_layer=_addr(0xA1),
    account_layer=_addr(0xA2),
    symmio_core=_addr(0xA3),
    hedger=_addr(0xB1),
    affiliate=_addr(0xAF),
)
SUB = _addr(0x51)
VA = _addr(0x5A)
BTC = Symbol(1, "BTCUSDT", 1, 3)
LOCKED = pricing.LockedParamsPct.from_response(
    {"cva": "2", "lf": "1", "partyAmm": "5", "partyBmm": "0.5", "leverage": "10"}
)
DEADLINE = 4_102_444_800  # 2100-01-01


def example_open_args(**overrides: object) -> dict[str, object]:
    """The example open's arguments to `flow.build_instant_open` (after the context and key)."""
    args: dict[str, object] = dict(
        sub_account=SUB,
        symbol=BTC,
        side="long",
        quantity=Decimal("0.015"),
        leverage=10,
        mark_price=Decimal("65000.5"),
        locked_params=LOCKED,
        trading_fee=Decimal("0.0006"),
        deadline=DEADLINE,
        quote_uuid="11111111-2222-3333-4444-555555555555",
        salts=(b"\x01" * 32, b"\x02" * 32),
    )
    args.update(overrides)
    return args


def example_open(side: str = "long", **overrides) -> flow.OpenPlan:
    return flow.build_instant_open(CONTEXT, SESSION, **example_open_args(side=side, **overrides))


def example_tpsl(**overrides):
    args = dict(
        sub_account=SUB,
        virtual_account=VA,
        affiliate=_addr(0xAF),
        quote_id=7,
        symbol=BTC,
        side="long",
        quantity=Decimal("0.015"),
        mark_price=Decimal("65000.5"),
        take_profit=Decimal("70000"),
        stop_loss=Decimal("60000.5"),
        salt=12345,
    )
    args.update(overrides)
    return flow.build_tpsl(CONTEXT.tpsl_domain(), SESSION, **args)


DOMAIN = eip712.instant_layer_domain(CONTEXT.chain_id, CONTEXT.instant_layer)


def test_open_ops_sign_for_the_sub_account_with_the_session_key() -> None:
    plan = example_open()
    for wrapped, target in (
        (plan.body.add_margin, CONTEXT.account_layer),
        (plan.body.send_quote, CONTEXT.symmio_core),
    ):
        op = wrapped.signed_operation
        assert op.signer == SESSION.address
        assert op.signer_account.addr == SUB and op.signer_account.is_party_b is False
        assert op.target == target
        assert op.max_uses == 1 and op.replay_attack_header.nonce == 0
        assert op.flex_fields == ()
        assert eip712.recover(DOMAIN, op, wrapped.signature) == SESSION.address


def test_open_calldata_decodes_to_the_computed_numbers() -> None:
    plan = example_open()
    add = cd.ADD_MARGIN_TO_NEXT_VA.decode(plan.body.add_margin.signed_operation.call_data)
    assert add == {
        "subAccount": SUB.lower(),
        "vaIsolationType": cd.VA_ISO_MARKET_LONG,
        "symbolId": 1,
        "amount": plan.margin_wei,
    }
    send = cd.SEND_QUOTE_WITH_AFFILIATE_AND_DATA.decode(
        plan.body.send_quote.signed_operation.call_data
    )
    assert send["partyBsWhiteList"] == (CONTEXT.hedger.lower(),)
    assert send["positionType"] == cd.POSITION_LONG and send["orderType"] == cd.ORDER_MARKET
    assert send["price"] == 68_250_600_000_000_000_000_000  # 65000.5 * 1.05 = 68250.525 -> up
    assert send["quantity"] == 15 * 10**15
    assert (send["cva"], send["lf"], send["partyAmm"], send["partyBmm"]) == (
        plan.locked.cva,
        plan.locked.lf,
        plan.locked.party_amm,
        plan.locked.party_bmm,
    )
    assert send["deadline"] == DEADLINE
    assert cd.is_empty_upnl_sig(send["upnlSig"])
    assert cd.decode_quote_data(send["data"]) == "11111111-2222-3333-4444-555555555555"


def test_locked_values_follow_the_formulas() -> None:
    plan = example_open()
    notional = Decimal("68250.6") * Decimal("0.015")  # 1023.759
    assert plan.notional == notional
    assert plan.locked.cva == pricing.to_wei(notional * 2 / 1000)  # cva% / (100 * leverage)
    assert plan.locked.lf == pricing.to_wei(notional * 1 / 1000)
    assert plan.locked.party_amm == pricing.to_wei(notional * 5 / 1000)
    assert plan.locked.party_bmm == pricing.to_wei(notional * Decimal("0.5") / 100)  # no leverage


def test_short_open_uses_short_va_and_buffered_margin() -> None:
    plan = example_open(side="short")
    add = cd.ADD_MARGIN_TO_NEXT_VA.decode(plan.body.add_margin.signed_operation.call_data)
    assert add["vaIsolationType"] == cd.VA_ISO_MARKET_SHORT
    assert plan.requested_price == Decimal("61750.4")  # 65000.5 * 0.95 = 61750.475 -> down
    expected = Decimal("65000.5") * Decimal("1.10") * Decimal("0.015") / 10 * Decimal("1.0012")
    assert plan.margin_wei == pricing.to_wei(expected)


def test_close_signs_for_the_va_and_slips_the_other_way() -> None:
    plan = flow.build_instant_close(
        CONTEXT,
        SESSION,
        virtual_account=VA,
        quote_id=7,
        symbol=BTC,
        side="long",
        quantity=Decimal("0.015"),
        mark_price=Decimal("65000.5"),
        deadline=DEADLINE,
    )
    (wrapped,) = plan.body.operations
    op = wrapped.signed_operation
    assert op.signer_account.addr == VA and op.target == CONTEXT.symmio_core
    args = cd.REQUEST_TO_CLOSE_POSITION.decode(op.call_data)
    assert args["quoteId"] == 7 and args["orderType"] == cd.ORDER_MARKET
    assert plan.close_price == Decimal("61750.4") <= Decimal("65000.5")
    body = wire.instant_close_to_wire(plan.body)
    assert isinstance(body, list) and len(body) == 1


def test_tpsl_legs_and_wire() -> None:
    request = example_tpsl(stop_loss=None)
    order = request.order
    assert order.stop_loss == ZERO_LEG and order.send_quote == ZERO_SEND_QUOTE
    assert order.take_profit.conditional_price_type == "last_close"
    assert (
        order.take_profit.quantity == "0.015" and order.take_profit.conditional_price == "70000.0"
    )
    body = wire.tpsl_to_wire(request)
    assert body["typedData"]["message"]["salt"] == "12345"
    assert body["typedData"]["domain"]["name"] == "ConditionalOrder"
    assert eip712.recover(request.domain, order, request.signature) == SESSION.address


def test_tpsl_precision_is_never_fixed_up() -> None:
    with pytest.raises(InputError, match=r"take_profit: 70000\.05 has more than 1 decimal places"):
        example_tpsl(take_profit=Decimal("70000.05"))


def test_tpsl_triggers_must_sit_on_the_right_side_of_the_mark() -> None:
    with pytest.raises(InputError, match="take_profit: must be above the mark"):
        example_tpsl(take_profit=Decimal("60000"))
    with pytest.raises(InputError, match="stop_loss: must be above the mark"):
        example_tpsl(side="short", take_profit=Decimal("60000"), stop_loss=Decimal("60000.5"))


def test_tpsl_needs_a_leg() -> None:
    with pytest.raises(InputError, match="at least one"):
        example_tpsl(take_profit=None, stop_loss=None)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"quantity": Decimal("0")}, "quantity"),
        ({"quantity": Decimal("-1")}, "quantity"),
        ({"quantity": Decimal("0.0155")}, "quantity"),
        ({"quantity": 0.015}, "quantity"),
        ({"leverage": 0}, "leverage"),
        ({"side": "buy"}, "side"),
        ({"slippage_pct": Decimal("100")}, "slippage_pct"),
        ({"mark_price": "abc"}, "mark_price"),
        ({"leverage": 5}, "locked_params.leverage"),
        ({"deadline": -1}, "deadline"),
        ({"sub_account": VA.lower()}, "sub_account"),
    ],
)
def test_invalid_open_arguments_raise_one_clear_error(overrides: dict, field: str) -> None:
    with pytest.raises(InputError) as info:
        example_open(**overrides)
    assert info.value.field == field, str(info.value)


def test_deadline_zero_is_kept_not_replaced() -> None:
    wrapped = flow.sign_operation(
        CONTEXT, SESSION, CONTEXT.symmio_core, b"\x50\x1e\x89\x1f", SUB, deadline=0
    )
    assert wrapped.signed_operation.replay_attack_header.deadline == 0


def test_setup_steps_target_the_right_contracts() -> None:
    create = flow.create_sub_account(CONTEXT, USER.address, "bot")
    assert create.to == CONTEXT.account_layer
    args = cd.CREATE_SUB_ACCOUNTS.decode(create.data)
    assert args["creations"][0][2:] == (
        CONTEXT.symmio_core.lower(),
        cd.SUB_ISO_MARKET_DIRECTION,
        True,
    )
    approve = flow.approve_collateral(CONTEXT, USER.address, _addr(0xC0), 10**6)
    assert cd.ERC20_APPROVE.decode(approve.data)["spender"] == CONTEXT.symmio_core.lower(), (
        "Symmio core is the ERC20 spender, not the AccountLayer"
    )
    bind = flow.bind(CONTEXT, USER.address, SUB)
    call = cd.ACCOUNT_LAYER_CALL.decode(bind.data)
    assert call["account"] == SUB.lower()
    assert cd.BIND_TO_PARTY_B.decode(call["calls"][0]) == {"partyB": CONTEXT.hedger.lower()}


def test_delegations() -> None:
    info = flow.session_key_delegation(SUB, SESSION.address, DEADLINE)
    tx = flow.grant_delegation(CONTEXT, USER.address, info)
    assert tx.to == CONTEXT.instant_layer and tx.sender == USER.address
    decoded = cd.GRANT_DELEGATION.decode(tx.data)["info"]
    assert decoded[2] == cd.SESSION_KEY_SELECTORS
    with pytest.raises(InputError, match="SelfDelegation"):
        flow.grant_delegation(
            CONTEXT, USER.address, flow.session_key_delegation(SUB, USER.address, DEADLINE)
        )


def test_signed_delegation_nonce_must_be_positive() -> None:
    info = flow.tpsl_bot_delegation(SUB, _addr(0xB0), DEADLINE)
    with pytest.raises(InputError, match="nonce"):
        flow.signed_delegation(CONTEXT, USER, info, nonce=0)
    value, signature = flow.signed_delegation(CONTEXT, USER, info, nonce=1)
    assert eip712.recover(DOMAIN, value, signature) == USER.address
