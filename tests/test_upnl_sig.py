"""sendQuote's upnlSig: the three client regimes (real-world.md §3), the region a flex field
covers, the solver's fill, and the open builder's `upnl_sig=` parameter.

The property test builds random valid opens in each regime and checks that the validator
accepts every one with no finding, and that the flex range is exactly the upnlSig bytes: writing
another same-shaped SingleUpnlAndPriceSig over it changes upnlSig and nothing else.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness import calldata as cd
from harness import flow, pricing, upnl_sig
from harness.errors import CalldataError, InputError
from harness.keys import LocalKey
from harness.model import FlexField
from harness.upnl_sig import UpnlSigRegime
from harness.validator.engine import Options, Validator
from harness.wire import instant_open_to_wire

from .validator.corpus import generate as g

SEND = cd.SEND_QUOTE_WITH_AFFILIATE_AND_DATA
NOW = g.NOW


def _open(regime: UpnlSigRegime, **overrides: object) -> flow.OpenPlan:
    args = _open_args(upnl_sig=regime, **overrides)
    return flow.build_instant_open(g.FULL, g.SESSION, **args)  # type: ignore[arg-type]


def _open_args(**overrides: object) -> dict[str, object]:
    args: dict[str, object] = {
        "sub_account": g.SUB_ACCOUNT,
        "symbol": g.BTC,
        "side": "long",
        "quantity": Decimal("0.015"),
        "leverage": 10,
        "mark_price": Decimal("65000.5"),
        "locked_params": pricing.LockedParamsPct.from_response(
            {"cva": "2", "lf": "1", "partyAmm": "5", "partyBmm": "0", "leverage": "10"}
        ),
        "trading_fee": Decimal("0.0006"),
        "deadline": g.FAR,
        "upnl_sig_timestamp": NOW,
    }
    args.update(overrides)
    return args


def _findings(plan: flow.OpenPlan, context=g.FULL) -> list[str]:
    result = Validator(Options(context=context, now=NOW)).validate_body(
        instant_open_to_wire(plan.body)
    )
    return [f"{f.rule} {f.path}: {f.message}" for f in result.findings]


# --- the regimes the builder makes ---------------------------------------------------------------


def test_guide_regime_is_the_all_zero_sentinel_without_flex_field() -> None:
    send = _open(UpnlSigRegime.GUIDE_ZERO).body.send_quote.signed_operation
    assert SEND.decode(send.call_data)["upnlSig"] == cd.EMPTY_UPNL_SIG
    assert send.flex_fields == ()


def test_guide_regime_is_the_default_so_existing_opens_are_unchanged() -> None:
    fixed = {"salts": (b"\x01" * 32, b"\x02" * 32), "quote_uuid": g.QUOTE_UUID}
    explicit = _open(UpnlSigRegime.GUIDE_ZERO, **fixed)
    args = {
        k: v for k, v in _open_args(**fixed).items() if k not in ("upnl_sig", "upnl_sig_timestamp")
    }
    default = flow.build_instant_open(g.FULL, g.SESSION, **args)  # type: ignore[arg-type]
    assert default.body == explicit.body


def test_sdk_placeholder_carries_the_requested_price_and_the_given_timestamp() -> None:
    plan = _open(UpnlSigRegime.SDK_PLACEHOLDER)
    send = plan.body.send_quote.signed_operation
    args = SEND.decode(send.call_data)
    req_id, stamp, upnl, price, gateway, schnorr = args["upnlSig"]
    assert (req_id, stamp, upnl, gateway) == (bytes(32), NOW, 0, b"")
    assert price == args["price"] == pricing.to_wei(plan.requested_price, "price")
    assert schnorr == (0, cd.ZERO_ADDRESS, cd.ZERO_ADDRESS)
    assert send.flex_fields == ()


def test_sdk_flex_names_the_hedger_over_the_region_computed_from_the_calldata() -> None:
    send = _open(UpnlSigRegime.SDK_FLEX).body.send_quote.signed_operation
    where = upnl_sig.region(send.call_data)
    assert send.flex_fields == (FlexField(where.offset, where.length, g.HEDGER),)
    # 14 head words + the one-PartyB whitelist's tail (length word + address): 16 words
    assert (where.offset, where.length) == (16 * 32, 11 * 32), where


@pytest.mark.parametrize("regime", [UpnlSigRegime.SDK_PLACEHOLDER, UpnlSigRegime.SDK_FLEX])
def test_sdk_regimes_need_a_timestamp(regime: UpnlSigRegime) -> None:
    with pytest.raises(InputError, match="upnl_sig_timestamp"):
        _open(regime, upnl_sig_timestamp=None)


def test_an_unknown_regime_is_refused_by_name() -> None:
    with pytest.raises(InputError, match="upnl_sig"):
        _open("sdk-flex")  # type: ignore[arg-type]


@pytest.mark.parametrize("regime", list(UpnlSigRegime), ids=lambda r: r.value)
def test_regime_of_names_the_form_each_builder_regime_signed(regime: UpnlSigRegime) -> None:
    send = _open(regime).body.send_quote.signed_operation
    sig = SEND.decode(send.call_data)["upnlSig"]
    assert upnl_sig.regime_of(sig, len(send.flex_fields)) is regime


def test_addmargin_never_carries_a_flex_field() -> None:
    for regime in UpnlSigRegime:
        assert _open(regime).body.add_margin.signed_operation.flex_fields == (), regime


# --- the region ----------------------------------------------------------------------------------


def test_region_moves_with_a_longer_whitelist() -> None:
    sig = upnl_sig.placeholder(UpnlSigRegime.SDK_PLACEHOLDER, 10**18, NOW)
    one = SEND.encode([g.HEDGER], 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, g.AFFILIATE, sig, b"")
    two = SEND.encode([g.HEDGER, g.USER], 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, g.AFFILIATE, sig, b"")
    assert upnl_sig.region(two).offset == upnl_sig.region(one).offset + 32


def test_region_of_truncated_calldata_is_a_calldata_error() -> None:
    with pytest.raises(CalldataError, match="too short"):
        upnl_sig.region(SEND.selector + bytes(64))


def test_region_with_out_of_order_heads_is_a_calldata_error() -> None:
    words = [bytes(32)] * 14
    words[upnl_sig.UPNL_SIG_INDEX] = (64 * 32).to_bytes(32, "big")
    words[upnl_sig.DATA_INDEX] = (32 * 32).to_bytes(32, "big")
    with pytest.raises(CalldataError, match="out of order"):
        upnl_sig.region(SEND.selector + b"".join(words) + bytes(64 * 32))


def test_solver_fill_is_the_placeholder_at_the_fill_price_and_time_same_length() -> None:
    send = _open(UpnlSigRegime.SDK_FLEX).body.send_quote.signed_operation
    (flex,) = send.flex_fields
    value = upnl_sig.solver_fill(
        send.call_data, flex.offset, flex.length, price_wei=7 * 10**18, timestamp=NOW + 5
    )
    assert len(value) == flex.length
    assert upnl_sig.decode_region(value) == (
        bytes(32),
        NOW + 5,
        0,
        7 * 10**18,
        b"",
        (0, cd.ZERO_ADDRESS, cd.ZERO_ADDRESS),
    )


def test_solver_fill_refuses_a_range_that_is_not_the_region() -> None:
    send = _open(UpnlSigRegime.SDK_FLEX).body.send_quote.signed_operation
    (flex,) = send.flex_fields
    with pytest.raises(InputError, match="not the upnlSig region"):
        upnl_sig.solver_fill(
            send.call_data, flex.offset - 32, flex.length, price_wei=1, timestamp=1
        )


# --- validator: the region is computed, not assumed ----------------------------------------------


def _two_party_b_open(shift: int) -> flow.OpenPlan:
    """An SDK-flex open whose whitelist names two PartyBs (the region moves 32 bytes), its flex
    field placed where the one-PartyB region would be (`shift` = -32) or where it is (0)."""
    plan = _open(UpnlSigRegime.SDK_PLACEHOLDER)
    send = plan.body.send_quote
    values = SEND.decode(send.signed_operation.call_data)
    values["partyBsWhiteList"] = [g.HEDGER, g.USER]
    call = SEND.encode(*values.values())
    where = upnl_sig.region(call)
    flex = FlexField(where.offset + shift, where.length, g.HEDGER)
    resigned = g.resign(send, call_data=call, flex_fields=(flex,))
    return replace(plan, body=replace(plan.body, send_quote=resigned))


def test_flex_range_rule_follows_the_encoded_calldata_not_a_fixed_offset() -> None:
    minimal_with_hedger_unset = replace(g.FULL, hedger=None)  # the whitelist rule stays quiet
    assert _findings(_two_party_b_open(0), minimal_with_hedger_unset) == []
    moved = _findings(_two_party_b_open(-32), minimal_with_hedger_unset)
    assert [f.split(" ", 1)[0] for f in moved] == ["open.upnl-sig-flex-range"], moved
    assert "[544, 896)" in moved[0], moved


def test_a_live_looking_attestation_names_each_field_it_carries() -> None:
    sig = (b"\x01" * 32, NOW, 5, 0, b"\x02" * 65, (9, g.HEDGER, g.USER))
    plan = _open(UpnlSigRegime.GUIDE_ZERO)
    send = g.recall(plan.body.send_quote, SEND, upnlSig=sig)
    found = _findings(replace(plan, body=replace(plan.body, send_quote=send)))
    assert len(found) == 1 and found[0].startswith("open.upnl-sig "), found
    for part in ("upnl 5", "reqId", "gatewaySignature", "Schnorr"):
        assert part in found[0], (part, found[0])


def test_a_limit_quote_may_carry_any_upnl_sig_price() -> None:
    """For LIMIT the core charges the fee on the requested price: upnlSig.price is not used."""
    plan = _open(UpnlSigRegime.SDK_PLACEHOLDER)
    values = SEND.decode(plan.body.send_quote.signed_operation.call_data)
    req_id, stamp, upnl, price, gateway, schnorr = values["upnlSig"]
    send = g.recall(
        plan.body.send_quote,
        SEND,
        orderType=cd.ORDER_LIMIT,
        upnlSig=(req_id, stamp, upnl, price + 1, gateway, schnorr),
    )
    assert _findings(replace(plan, body=replace(plan.body, send_quote=send))) == []


# --- property: any valid open, each regime ------------------------------------------------------

_opens = st.fixed_dictionaries(
    {
        "side": st.sampled_from(["long", "short"]),
        "quantity": st.integers(1, 10**6).map(lambda n: Decimal(n).scaleb(-3)),
        "mark_price": st.integers(10, 10**9).map(lambda n: Decimal(n).scaleb(-1)),
        "leverage": st.integers(1, 50),
        "upnl_sig_timestamp": st.integers(0, 2**40),
        "session": st.integers(1, 2**64).map(lambda n: LocalKey(n.to_bytes(32, "big"))),
    }
)


@given(spec=_opens, regime=st.sampled_from(list(UpnlSigRegime)))
def test_every_regime_of_any_valid_open_passes_and_flexes_exactly_the_upnl_sig(
    spec: dict, regime: UpnlSigRegime
) -> None:
    session = spec.pop("session")
    leverage = spec["leverage"]
    locked = pricing.LockedParamsPct.from_response(
        {"cva": "2", "lf": "1", "partyAmm": "5", "partyBmm": "0", "leverage": str(leverage)}
    )
    context = replace(g.FULL, session_key=session.address)
    plan = flow.build_instant_open(
        context,
        session,
        sub_account=g.SUB_ACCOUNT,
        symbol=g.BTC,
        trading_fee=Decimal("0.0006"),
        deadline=g.FAR,
        locked_params=locked,
        upnl_sig=regime,
        **spec,
    )
    assert _findings(plan, context) == [], regime
    send = plan.body.send_quote.signed_operation
    if regime is not UpnlSigRegime.SDK_FLEX:
        assert send.flex_fields == ()
        return
    (flex,) = send.flex_fields
    before = SEND.decode(send.call_data)
    other = (b"\x5a" * 32, 1, -3, 12345, b"", (7, g.USER.lower(), g.HEDGER.lower()))
    at = 4 + flex.offset
    written = (
        send.call_data[:at] + upnl_sig.encode_region(other) + send.call_data[at + flex.length :]
    )
    after = SEND.decode(written)  # strict: still exactly a canonical call
    assert after["upnlSig"] == other
    assert {k: v for k, v in after.items() if k != "upnlSig"} == {
        k: v for k, v in before.items() if k != "upnlSig"
    }
