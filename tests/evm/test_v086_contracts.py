"""The v0.8.6 mocks (contracts/v086/) against the behaviour of the real v0.8.6 contracts
(shared/spec/real-world.md §2, recorded by running the real InstantLayer at commit 8138803 on
py-evm): every revert by its real name, selector and arguments, the capped open's stored caps, and
the v0.8.6 flow end to end (onboarded with a grant operation relayed by the GaslessLayer, opened
with the capped sendQuote, closed)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from eth_abi import decode

from harness import calldata as cd
from harness import flow
from harness.chain import Call, Deployment, System
from harness.fee_limit_salt import fee_limit_salt
from harness.model import Account, DelegationInfo, FlexField, WrappedOperation
from harness.primitives import keccak
from harness.protocol import V0_8_5, V0_8_6
from harness.revert import Reverted, decode_revert_data

from .conftest import SYMBOL_086
from .scenario import DEPOSIT_UNITS, FILL_PRICE, LOCKED, MARK, QUANTITY, Scenario

pytestmark = pytest.mark.evm

CAPPED_OPEN = cd.SEND_QUOTE.selector
LEGACY_OPEN = cd.SEND_QUOTE_WITH_AFFILIATE_AND_DATA.selector
ADD_MARGIN = cd.ADD_MARGIN_TO_NEXT_VA.selector
WAD = 10**18


def _check(exc: Reverted, signature: str, args: tuple[Any, ...]) -> None:
    name = signature.split("(")[0]
    assert exc.decoded == (name, args), f"reverted {exc.decoded}, the real contract {name}{args}"
    assert exc.data[:4] == keccak(signature.encode())[:4], f"selector of {signature}"


def reverts(s: Scenario, call: Call, signature: str, *args: Any) -> None:
    """`call` reverts with the error `signature` itself (not wrapped), its selector and `args`."""
    try:
        s.chain.call(call)
    except Reverted as exc:
        _check(exc, signature, args)
        return
    raise AssertionError(f"the call succeeded; the real contract reverts {signature}")


def reverts_wrapped(s: Scenario, call: Call, index: int, signature: str, *args: Any) -> None:
    """`call` reverts OperationFailed(index, <signature>(args)): the inner revert is checked too."""
    try:
        s.chain.call(call)
    except Reverted as exc:
        assert exc.decoded[0] == "OperationFailed", f"reverted {exc.decoded}"
        assert exc.data[:4] == keccak(b"OperationFailed(uint256,bytes)")[:4], "wrapper selector"
        at, inner = decode(["uint256", "bytes"], exc.data[4:])
        assert at == index, f"wrapped at operation {at}, expected {index}"
        inner_name = signature.split("(")[0]
        assert decode_revert_data(inner) == (inner_name, args), "the wrapped revert"
        assert inner[:4] == keccak(signature.encode())[:4], f"selector of {signature}"
        return
    raise AssertionError(f"the call succeeded; the real contract reverts {signature} (wrapped)")


def session_info(s: Scenario, **changes: Any) -> DelegationInfo:
    info = flow.session_key_delegation(s.sub, s.stranger.address, s.chain.now() + 86_400, V0_8_6)
    return replace(info, **changes)


def grant_op(s: Scenario, info: DelegationInfo | tuple[DelegationInfo, ...], **kw: Any):
    return flow.grant_operation(s.context(), s.user, info, deadline=kw.pop("deadline", 0), **kw)


def raw_grant_op(
    s: Scenario,
    call_data: bytes,
    *,
    key: Any = None,
    account: str | None = None,
    max_uses: int = 1,
    flex_fields: tuple[FlexField, ...] = (),
) -> WrappedOperation:
    """A self-target operation built past flow's checks (what a faulty client could send)."""
    return flow.sign_operation(
        s.context(),
        key or s.user,
        s.system.instant_layer.address,
        call_data,
        account or s.sub,
        deadline=0,
        max_uses=max_uses,
        flex_fields=flex_fields,
    )


def grant_call(info: DelegationInfo) -> bytes:
    return cd.GRANT_DELEGATION.encode(cd.delegation_info_args(info))


def second_sub_account(s: Scenario) -> str:
    sub, _ = s.system.create_sub_account(s.user.address, "second")
    return sub


def active(s: Scenario, delegate: str, selector: bytes, account: str | None = None) -> bool:
    return s.system.is_delegation_active(account or s.sub, delegate, selector)


# ------------------------------------------------------------------ §2.5 grant operations


def test_a_grant_operation_relayed_by_the_gasless_layer_activates_the_delegation(
    onboarded086: Scenario,
) -> None:
    s = onboarded086
    s.system.relay([grant_op(s, session_info(s))])
    assert active(s, s.stranger.address, CAPPED_OPEN), "the granted key may open (capped)"


def test_a_grant_delegations_operation_grants_every_entry(onboarded086: Scenario) -> None:
    s = onboarded086
    other = s.bot.address
    infos = (session_info(s), session_info(s, delegated_signer=other))
    s.system.relay([grant_op(s, infos)])
    assert active(s, s.stranger.address, CAPPED_OPEN), "first entry"
    assert active(s, other, CAPPED_OPEN), "second entry"


def test_a_self_target_operation_with_another_selector_reverts_invalid_grant_operation(
    onboarded086: Scenario,
) -> None:
    s = onboarded086
    call = cd.INITIATE_REVOKE_DELEGATION.encode((s.sub, False), s.session.address, [ADD_MARGIN])
    reverts(s, s.system.relay_tx([raw_grant_op(s, call)]), "InvalidGrantOperation()")


def test_a_grant_operation_with_a_flex_field_reverts_invalid_grant_operation(
    onboarded086: Scenario,
) -> None:
    s = onboarded086
    field = FlexField(0, 32, s.system.party_b.address)
    op = raw_grant_op(s, grant_call(session_info(s)), flex_fields=(field,))
    call = s.system.batch_tx([op], fills=[[b""]], flex_signatures=[[b""]])
    reverts(s, call, "InvalidGrantOperation()")


@pytest.mark.parametrize("max_uses", [0, 2])
def test_a_grant_operation_with_max_uses_other_than_1_reverts_invalid_grant_operation(
    onboarded086: Scenario, max_uses: int
) -> None:
    s = onboarded086
    op = raw_grant_op(s, grant_call(session_info(s)), max_uses=max_uses)
    reverts(s, s.system.relay_tx([op]), "InvalidGrantOperation()")


def test_invalid_grant_operation_is_raised_directly_even_after_another_operation(
    onboarded086: Scenario,
) -> None:
    """Index 1 of the batch, yet no OperationFailed(1, ...) around it."""
    s = onboarded086
    good = grant_op(s, session_info(s))
    bad = raw_grant_op(s, grant_call(session_info(s)), max_uses=0)
    reverts(s, s.system.relay_tx([good, bad]), "InvalidGrantOperation()")


def test_a_grant_operation_signed_by_the_session_key_reverts_invalid_delegation(
    onboarded086: Scenario,
) -> None:
    s = onboarded086
    op = raw_grant_op(s, grant_call(session_info(s)), key=s.session)
    reverts(s, s.system.relay_tx([op]), "InvalidDelegation()")


def test_a_grant_operation_for_a_party_b_account_reverts_invalid_delegation(
    onboarded086: Scenario,
) -> None:
    s = onboarded086
    op = raw_grant_op(s, grant_call(session_info(s))).signed_operation
    signed = s.system.sign_operation(s.user, replace(op, signer_account=Account(s.sub, True)))
    reverts(s, s.system.relay_tx([signed]), "InvalidDelegation()")


def test_a_grant_operation_whose_info_names_another_account_reverts_invalid_delegation(
    onboarded086: Scenario,
) -> None:
    """signerAccount is the sub-account, the DelegationInfo names another of the owner's."""
    s = onboarded086
    other = second_sub_account(s)
    info = session_info(s, account=Account(other, False))
    reverts(s, s.system.relay_tx([raw_grant_op(s, grant_call(info))]), "InvalidDelegation()")


def test_a_grant_operation_with_no_selector_reverts_invalid_delegation(
    onboarded086: Scenario,
) -> None:
    s = onboarded086
    info = session_info(s, selectors=())
    reverts(s, s.system.relay_tx([raw_grant_op(s, grant_call(info))]), "InvalidDelegation()")


def test_grant_delegations_with_an_entry_for_another_account_reverts_invalid_delegation(
    onboarded086: Scenario,
) -> None:
    s = onboarded086
    other = second_sub_account(s)
    infos = [session_info(s), session_info(s, account=Account(other, False))]
    call = cd.GRANT_DELEGATIONS.encode([cd.delegation_info_args(i) for i in infos])
    reverts(s, s.system.relay_tx([raw_grant_op(s, call)]), "InvalidDelegation()")


def test_grant_delegations_with_an_empty_list_reverts_invalid_delegation(
    onboarded086: Scenario,
) -> None:
    s = onboarded086
    call = cd.GRANT_DELEGATIONS.encode([])
    reverts(s, s.system.relay_tx([raw_grant_op(s, call)]), "InvalidDelegation()")


def test_a_grant_operation_expiring_now_reverts_delegation_expired(
    onboarded086: Scenario,
) -> None:
    s = onboarded086
    now = s.chain.now() + 1  # the block the call runs in
    s.chain.time_travel(now)
    info = session_info(s, expiry_timestamp=now)
    call = s.system.relay_tx([grant_op(s, info)])
    reverts(s, call, "DelegationExpired(uint256)", now)


def test_a_grant_operation_delegating_to_the_owner_reverts_self_delegation(
    onboarded086: Scenario,
) -> None:
    s = onboarded086
    info = session_info(s, delegated_signer=s.user.address)
    reverts(s, s.system.relay_tx([raw_grant_op(s, grant_call(info))]), "SelfDelegation()")


def test_a_replayed_grant_operation_reverts_max_uses_exceeded(onboarded086: Scenario) -> None:
    s = onboarded086
    op = grant_op(s, session_info(s))
    s.system.relay([op])
    digest = s.system.operation_hash(op.signed_operation)
    reverts(s, s.system.relay_tx([op]), "MaxUsesExceeded(bytes32,uint256)", digest, 1)


# ------------------------------------------------------------------ §2.8 deadline 0


def test_a_grant_operation_with_deadline_0_never_expires(onboarded086: Scenario) -> None:
    s = onboarded086
    op = grant_op(s, session_info(s, expiry_timestamp=s.chain.now() + 10 * 365 * 86_400))
    s.chain.advance(5 * 365 * 86_400)
    s.system.relay([op])
    assert active(s, s.stranger.address, CAPPED_OPEN), "deadline 0 is no deadline"


def test_a_grant_operation_past_its_deadline_reverts_deadline_expired(
    onboarded086: Scenario,
) -> None:
    s = onboarded086
    deadline = s.chain.now() + 60
    op = grant_op(s, session_info(s), deadline=deadline)
    s.chain.advance(120)
    reverts(s, s.system.relay_tx([op]), "DeadlineExpired(uint256)", deadline)


# ------------------------------------------------------------------ §2.6 scope


def test_a_delegate_reaching_another_account_through_the_account_layer_reverts_out_of_scope(
    onboarded086: Scenario,
) -> None:
    """The session key names its granted sub-account but adds margin from another one (on v0.8.5
    the same operation succeeds: test_real_behaviours.py
    test_a_delegate_of_one_sub_account_acts_with_the_owners_authority_on_another)."""
    s = onboarded086
    other = second_sub_account(s)
    op = s.sign(s.session, s.add_margin_call(1, sub_account=other))
    call = s.system.batch_tx([op])
    reverts_wrapped(s, call, 0, "AccountOutOfScope(address,address)", s.sub, other)


def test_the_owner_reaching_another_account_through_the_account_layer_is_not_scoped(
    onboarded086: Scenario,
) -> None:
    s = onboarded086
    other = second_sub_account(s)
    s.system.mint(s.user.address, DEPOSIT_UNITS)
    s.system.approve(s.user.address, DEPOSIT_UNITS)
    s.system.deposit(s.user.address, other, DEPOSIT_UNITS)
    op = s.sign(s.user, s.add_margin_call(WAD, sub_account=other))
    before = s.system.balance(other)
    s.system.execute_batch([op])
    assert s.system.balance(other) == before - WAD, "the owner's op moved margin from the other"


def test_a_delegate_signing_for_an_account_it_holds_no_delegation_on_reverts_unwrapped(
    onboarded086: Scenario,
) -> None:
    s = onboarded086
    other = second_sub_account(s)
    op = s.sign(s.session, s.add_margin_call(1, sub_account=other), account=other)
    reverts(s, s.system.batch_tx([op]), "InvalidDelegation()")


# ------------------------------------------------------------------ §2.7 revocation


def il(s: Scenario) -> Any:
    return s.system.mock["InstantLayer"].functions


def test_the_revocation_cooldown_defaults_to_600_seconds(deployed086: Scenario) -> None:
    s = deployed086
    assert s.system.view(il(s).revocationCooldown()) == V0_8_6.revocation_cooldown_default == 600


@pytest.mark.parametrize("seconds", [299, 2_592_001])
def test_a_revocation_cooldown_outside_300_to_2592000_reverts_invalid_call_data(
    deployed086: Scenario, seconds: int
) -> None:
    s = deployed086
    reverts(s, il(s).setRevocationCooldown(seconds), "InvalidCallData()")


@pytest.mark.parametrize("seconds", V0_8_6.revocation_cooldown_range)
def test_a_revocation_cooldown_at_either_bound_is_accepted(
    deployed086: Scenario, seconds: int
) -> None:
    s = deployed086
    s.chain.send(il(s).setRevocationCooldown(seconds), s.system.admin)
    assert s.system.view(il(s).revocationCooldown()) == seconds


def test_a_stranger_initiating_a_revocation_reverts_not_owner_of_account(
    onboarded086: Scenario,
) -> None:
    s = onboarded086
    call = s.system.revoke_tx(s.stranger.address, s.sub, s.session.address, [CAPPED_OPEN])
    reverts(s, call, "NotOwnerOfAccount(address,address)", s.stranger.address, s.sub)


@pytest.mark.parametrize("who", ["owner", "delegate", "revoker"])
def test_the_owner_the_delegate_or_the_revoker_role_may_initiate_a_revocation(
    onboarded086: Scenario, who: str
) -> None:
    s = onboarded086
    sender = {"owner": s.user.address, "delegate": s.session.address}.get(who, s.stranger.address)
    if who == "revoker":
        role = s.system.view(il(s).REVOKER_ROLE())
        s.chain.send(il(s).grantRole(role, s.stranger.address), s.system.admin)
    s.chain.send(s.system.revoke_tx(sender, s.sub, s.session.address, [CAPPED_OPEN]))
    mined = s.chain.w3.eth.get_block("latest")["timestamp"]
    eta = s.system.pending_revocation_eta(s.sub, s.session.address, CAPPED_OPEN)
    assert eta == mined + 600, f"{who}: the revocation is scheduled a cooldown after its block"


def test_a_delegation_is_inactive_once_its_revocation_eta_passes_without_finalize(
    onboarded086: Scenario,
) -> None:
    s = onboarded086
    s.chain.send(s.system.revoke_tx(s.user.address, s.sub, s.session.address, [CAPPED_OPEN]))
    eta = s.system.pending_revocation_eta(s.sub, s.session.address, CAPPED_OPEN)
    s.chain.time_travel(eta - 1)
    assert active(s, s.session.address, CAPPED_OPEN), "still active before the eta"
    s.chain.time_travel(eta)
    assert not active(s, s.session.address, CAPPED_OPEN), "inactive at the eta, no finalize"


def test_a_new_grant_operation_cancels_a_pending_revocation(onboarded086: Scenario) -> None:
    s = onboarded086
    s.chain.send(s.system.revoke_tx(s.user.address, s.sub, s.session.address, [CAPPED_OPEN]))
    info = flow.session_key_delegation(s.sub, s.session.address, s.expiry, V0_8_6)
    s.system.relay([grant_op(s, info)])
    assert s.system.pending_revocation_eta(s.sub, s.session.address, CAPPED_OPEN) == 0
    s.chain.advance(3_600)
    assert active(s, s.session.address, CAPPED_OPEN), "active past the cancelled eta"


# ------------------------------------------------------------------ §2.1-2.3 the capped open


def test_the_capped_open_stores_its_solver_fee_caps(opened086: Scenario) -> None:
    s = opened086
    want = (600 * 10**12, 400 * 10**12)  # SYMBOL_086's minimums, 0.0006 and 0.0004
    assert (SYMBOL_086.min_open_solver_fee_cap, SYMBOL_086.min_close_solver_fee_cap) == (
        Decimal("0.0006"),
        Decimal("0.0004"),
    )
    assert s.system.solver_fee_caps(s.quote_id) == want


def test_the_legacy_open_on_a_v086_core_stores_zero_caps(onboarded086: Scenario) -> None:
    """sendQuoteWithAffiliateAndData still exists on v0.8.6; the owner signs it (the session key
    holds the v0.8.6 set, which does not have it)."""
    s = onboarded086
    legacy = replace(s.context(), contracts_version=V0_8_5.version)
    plan = flow.build_instant_open(
        legacy,
        s.user,
        sub_account=s.sub,
        symbol=s.symbol,
        side="long",
        quantity=QUANTITY,
        leverage=10,
        mark_price=MARK,
        locked_params=LOCKED,
        trading_fee=Decimal("0.0006"),
        deadline=s.chain.now() + 3_600,
    )
    assert plan.body.send_quote.signed_operation.call_data[:4] == LEGACY_OPEN
    opened = s.system.instant_open(plan.body, opened_price=FILL_PRICE)
    assert s.system.solver_fee_caps(opened.quote_id) == (0, 0)


def test_the_close_leaves_the_caps_of_the_open_unchanged(opened086: Scenario) -> None:
    s = opened086
    before = s.system.solver_fee_caps(s.quote_id)
    s.system.instant_close(s.close_plan(s.session, QUANTITY).body, closed_price=FILL_PRICE)
    assert s.system.quote(s.quote_id)["quoteStatus"] == 7, "closed"
    assert s.system.solver_fee_caps(s.quote_id) == before


def test_onboarding_grants_the_session_key_the_v086_set(onboarded086: Scenario) -> None:
    s = onboarded086
    for selector in cd.session_key_selectors(V0_8_6):
        assert active(s, s.session.address, selector), selector.hex()
    assert not active(s, s.session.address, LEGACY_OPEN), "the v0.8.5 open is not granted"


def test_a_key_granted_the_v085_set_cannot_open_capped(onboarded086: Scenario) -> None:
    """Keys granted under the old set must be re-granted (real-world.md §2.3)."""
    s = onboarded086
    old = flow.session_key_delegation(s.sub, s.stranger.address, s.expiry, V0_8_5)
    s.system.relay([grant_op(s, old)])
    plan = s.open_plan(key=s.stranger)
    reverts(s, s.system.instant_open_tx(plan.body, opened_price=FILL_PRICE), "InvalidDelegation()")


# ------------------------------------------------------------------ §2.9 fee-limit salts


def set_fee(s: Scenario, wei: int) -> None:
    gasless = s.system.mock["GaslessLayer"].functions
    s.chain.send(gasless.setDefaultSelectorFee(wei), s.system.admin)


def test_a_fee_above_the_fee_limit_salt_reverts_fee_limit_exceeded(
    onboarded086: Scenario,
) -> None:
    s = onboarded086
    set_fee(s, WAD)
    op = grant_op(s, session_info(s), salt=fee_limit_salt(WAD // 10))
    reverts(s, s.system.relay_tx([op]), "FeeLimitExceeded(uint256,uint256)", WAD, WAD // 10)


def test_a_fee_equal_to_the_fee_limit_is_relayed_and_charged(onboarded086: Scenario) -> None:
    s = onboarded086
    set_fee(s, WAD)
    s.system.relay([grant_op(s, session_info(s), salt=fee_limit_salt(WAD))])
    charged = s.system.view(s.system.mock["GaslessLayer"].functions.feesCharged(s.sub))
    assert charged == WAD


def test_an_ordinary_salt_is_uncapped(onboarded086: Scenario) -> None:
    s = onboarded086
    set_fee(s, 10**24)
    s.system.relay([grant_op(s, session_info(s))])
    charged = s.system.view(s.system.mock["GaslessLayer"].functions.feesCharged(s.sub))
    assert charged == 10**24


# ------------------------------------------------------------------ the flow end to end


def test_the_v086_flow_onboards_by_grant_operation_opens_capped_and_closes(
    deployed086: Scenario,
) -> None:
    s = deployed086
    expiry = s.chain.now() + 86_400
    done = s.system.onboard(
        s.user, s.session.address, s.bot.address, deposit_units=DEPOSIT_UNITS, expiry=expiry
    )
    assert "grantDelegations(operation)" in done.steps, list(done.steps)
    s = replace(s, sub_account=done.sub_account)
    plan = s.open_plan()
    assert plan.body.send_quote.signed_operation.call_data[:4] == CAPPED_OPEN
    opened = s.system.instant_open(plan.body, opened_price=FILL_PRICE)
    s = replace(s, virtual_account=opened.virtual_account, quote_id=opened.quote_id)
    assert s.system.quote(opened.quote_id)["quoteStatus"] == 4, "opened"
    s.system.instant_close(s.close_plan(s.session, QUANTITY).body, closed_price=FILL_PRICE)
    assert s.system.quote(opened.quote_id)["quoteStatus"] == 7, "closed"


def test_a_frontends_view_of_a_v086_context_drives_the_v086_surfaces(
    deployed086: Scenario,
) -> None:
    s = deployed086
    seen = Deployment.seen_from(s.system.context(), s.system.collateral.address)
    assert (seen.generation, seen.gasless_layer) == (V0_8_6, s.system.deployment.gasless_layer)
    driver = System(s.chain, seen)
    names = {f["name"] for f in driver.instant_layer.abi if f.get("type") == "function"}
    assert "grantDelegations" in names, "the v0.8.6 InstantLayer surface"
