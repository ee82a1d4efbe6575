"""Protocol generations: v0.8.6 as a class over v0.8.5 (what changed stated once), its selectors,
fee-limit salts, the capped open and grant operations built by the flow (real-world.md §2)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from eth_utils import keccak
from hypothesis import given
from hypothesis import strategies as st

from harness import calldata as cd
from harness import fee_limit_salt, flow, protocol
from harness.context import Symbol, context_from_json
from harness.errors import ContextError, InputError
from harness.protocol import V0_8_5, V0_8_6
from tests.test_flow import CONTEXT, SESSION, SUB, USER, example_open, example_open_args

V086 = replace(CONTEXT, contracts_version="0.8.6")
CAPPED_BTC = Symbol(1, "BTCUSDT", 1, 3, Decimal("0.0006"), Decimal("0.0004"))


def test_v086_inherits_what_it_does_not_change() -> None:
    for name in ("instant_layer_domain", "conditional_order_domain", "signed_operation_fields"):
        assert getattr(V0_8_6, name) == getattr(V0_8_5, name), name
    assert V0_8_6.at_least(V0_8_5) and not V0_8_5.at_least(V0_8_6)
    assert protocol.generation("v0.8.6") is V0_8_6
    with pytest.raises(ValueError, match="unknown contracts version '0.8.7'"):
        protocol.generation("0.8.7")


def test_the_selectors_are_the_ones_real_world_section_2_recomputed() -> None:
    assert cd.SEND_QUOTE.selector.hex() == "0ac30baf"
    assert cd.GRANT_DELEGATION.selector.hex() == "fd7f4c5e"
    assert cd.GRANT_DELEGATIONS.selector.hex() == "9cfb6914"
    trading = lambda g: [s.hex() for s in cd.session_key_selectors(g)[:3]]  # noqa: E731
    assert trading(V0_8_5) == ["a6d66852", "a7f3b34b", "501e891f"]
    assert trading(V0_8_6) == ["a6d66852", "0ac30baf", "501e891f"]


def test_v086_functions_are_not_v085_functions() -> None:
    assert cd.SEND_QUOTE.selector not in cd.functions_of(V0_8_5)
    assert cd.SEND_QUOTE.selector in cd.functions_of(V0_8_6)
    assert cd.open_function(V0_8_5) is cd.SEND_QUOTE_WITH_AFFILIATE_AND_DATA
    assert cd.open_function(V0_8_6) is cd.SEND_QUOTE


def test_the_fee_limit_tag_is_the_hash_of_its_name() -> None:
    assert keccak(b"SYMMIO_GASLESS_FEE_LIMIT_V1")[:8] == fee_limit_salt.TAG


@given(st.integers(0, fee_limit_salt.MAX_FEE_LIMIT_WEI), st.binary(min_size=8, max_size=8))
def test_fee_limit_salts_round_trip(max_fee: int, caller: bytes) -> None:
    salt = fee_limit_salt.fee_limit_salt(max_fee, caller)
    assert len(salt) == 32
    assert fee_limit_salt.decode(salt) == fee_limit_salt.FeeLimitSalt(max_fee, caller)


@given(st.binary(min_size=32, max_size=32))
def test_an_untagged_salt_is_uncapped(salt: bytes) -> None:
    if salt[:8] != fee_limit_salt.TAG:
        assert fee_limit_salt.decode(salt) is None


def test_a_fee_limit_above_uint128_is_refused_by_name() -> None:
    with pytest.raises(InputError, match="max_fee_wei"):
        fee_limit_salt.fee_limit_salt(1 << 128)


def test_v086_open_is_the_capped_send_quote_with_the_symbol_minimums() -> None:
    plan = flow.build_instant_open(V086, SESSION, **example_open_args(symbol=CAPPED_BTC))
    call = plan.body.send_quote.signed_operation.call_data
    args = cd.SEND_QUOTE.decode(call)
    assert args["solverFeeCaps"] == (6 * 10**14, 4 * 10**14)
    assert plan.solver_fee_caps == (6 * 10**14, 4 * 10**14)
    legacy = example_open().body.send_quote.signed_operation.call_data
    # the same quote, the caps appended: the v0.8.5 arguments are unchanged
    assert {k: v for k, v in args.items() if k != "solverFeeCaps"} == (
        cd.SEND_QUOTE_WITH_AFFILIATE_AND_DATA.decode(legacy)
    )


def test_v086_caps_below_the_symbol_minimum_are_refused_naming_both_values() -> None:
    with pytest.raises(InputError) as info:
        flow.build_instant_open(
            V086,
            SESSION,
            **example_open_args(symbol=CAPPED_BTC, solver_fee_caps=("0.0006", "0.0001")),
        )
    assert info.value.field == "solver_fee_caps.closeRateCap"
    assert "0.0001" in str(info.value) and "0.0004" in str(info.value)


def test_caps_on_a_v085_open_are_refused() -> None:
    with pytest.raises(InputError, match="carries no SolverFeeCaps"):
        example_open(solver_fee_caps=("0", "0"))


def test_v086_session_key_delegation_grants_the_capped_open() -> None:
    info = flow.session_key_delegation(SUB, SESSION.address, 2_000_000_000, V0_8_6)
    assert cd.SEND_QUOTE.selector in info.selectors
    assert cd.SEND_QUOTE_WITH_AFFILIATE_AND_DATA.selector not in info.selectors


def test_a_grant_operation_is_owner_signed_targeting_the_instant_layer() -> None:
    info = flow.session_key_delegation(SUB, SESSION.address, 2_000_000_000, V0_8_6)
    op = flow.grant_operation(V086, USER, info, deadline=0).signed_operation
    assert (op.signer, op.target, op.signer_account.addr) == (USER.address, V086.instant_layer, SUB)
    assert (op.max_uses, op.flex_fields) == (1, ())
    assert op.call_data == cd.GRANT_DELEGATION.encode(cd.delegation_info_args(info))
    many = flow.grant_operation(V086, USER, (info, info), deadline=0).signed_operation
    assert len(cd.GRANT_DELEGATIONS.decode(many.call_data)["infos"]) == 2


def test_a_grant_operation_on_v085_is_refused_naming_the_version() -> None:
    info = flow.session_key_delegation(SUB, SESSION.address, 2_000_000_000)
    with pytest.raises(InputError, match="v0.8.5 has no grant operations"):
        flow.grant_operation(CONTEXT, USER, info, deadline=0)


def test_a_grant_operation_for_two_accounts_is_refused() -> None:
    one = flow.session_key_delegation(SUB, SESSION.address, 2_000_000_000, V0_8_6)
    other = flow.session_key_delegation(CONTEXT.hedger, SESSION.address, 2_000_000_000, V0_8_6)
    with pytest.raises(InputError) as info:
        flow.grant_operation(V086, USER, (one, other), deadline=0)
    assert info.value.field == "infos[1].account"


def test_context_reads_and_writes_the_v086_keys() -> None:
    ctx = replace(V086, symbols=(CAPPED_BTC,), owner=USER.address)
    again = context_from_json(ctx.to_json())
    assert again == ctx and again.generation is V0_8_6
    assert again.symbols[0].min_close_solver_fee_cap == Decimal("0.0004")


def test_context_refuses_an_unknown_contracts_version_by_name() -> None:
    data = {**CONTEXT.to_json(), "contracts_version": "0.9"}
    with pytest.raises(ContextError, match="contracts_version"):
        context_from_json(data)
