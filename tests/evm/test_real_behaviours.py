"""Behaviours of the real InstantLayer that our first mock got wrong, each asserted as the real
contract gives it: error name, selector (the first four bytes of the revert data) and arguments.

The numbers in the docstrings are the items of the difference list in contracts/README.md
("Real behaviours a frontend should know" and "Differences fixed").
"""

from __future__ import annotations

from typing import Any

import pytest
from eth_abi import decode

from harness import calldata as cd
from harness import eip712, flow
from harness.chain import Call
from harness.model import Account, DelegationInfo, FlexField
from harness.primitives import keccak
from harness.revert import Reverted

from .scenario import Scenario

pytestmark = pytest.mark.evm

ADD_MARGIN = cd.ADD_MARGIN_TO_NEXT_VA.selector
COOLDOWN = 600
ZERO = "0x0000000000000000000000000000000000000000"


def reverts(s: Scenario, call: Call, sender: str | None, signature: str, *args: Any) -> None:
    """`call` reverts with the error `signature` (its selector checked too) and `args`."""
    try:
        s.chain.call(call, sender)
    except Reverted as exc:
        name = signature.split("(")[0]
        assert exc.decoded == (name, args), (
            f"reverted {exc.decoded}, the real contract {name}{args}"
        )
        assert exc.data[:4] == keccak(signature.encode())[:4], f"selector of {signature}"
        return
    raise AssertionError(f"the call succeeded; the real contract reverts {signature}")


def admin_call(s: Scenario, name: str, *args: Any) -> Call:
    return getattr(s.system.mock["InstantLayer"].functions, name)(*args)


def session_op(s: Scenario, **kw: Any):
    return s.sign(s.session, s.add_margin_call(1), **kw)


def initiate(s: Scenario, sender: str) -> None:
    s.chain.send(s.system.revoke_tx(sender, s.sub, s.session.address, [ADD_MARGIN]))


def eta(s: Scenario) -> int:
    return s.system.pending_revocation_eta(s.sub, s.session.address, ADD_MARGIN)


# ------------------------------------------------------------------------- 1: flex arithmetic


def test_flex_offset_near_2_256_overflows_with_panic_0x11(onboarded: Scenario) -> None:
    s = onboarded
    field = FlexField(2**256 - 1, 32, s.hedger.address)
    op = s.sign(s.session, s.add_margin_call(1), flex_fields=(field,))
    call = s.system.batch_tx([op], fills=[[b"\x00" * 32]], flex_signatures=[[b""]])
    reverts(s, call, None, "Panic(uint256)", 0x11)


# -------------------------------------------------------------- 2-4: revocation rescheduling


def test_initiating_a_revocation_again_after_its_eta_reactivates_the_selector(
    onboarded: Scenario,
) -> None:
    s = onboarded
    initiate(s, s.user.address)
    s.chain.time_travel(eta(s))
    reverts(s, s.system.batch_tx([session_op(s)]), None, "InvalidDelegation()")
    initiate(s, s.user.address)  # the expiry is still ahead: a new ETA, active again
    assert eta(s) == s.chain.now() - 1 + COOLDOWN
    s.system.execute_batch([session_op(s)])


def test_a_delegate_postpones_its_own_revocation_past_the_owners_eta(onboarded: Scenario) -> None:
    s = onboarded
    initiate(s, s.user.address)
    owners_eta = eta(s)
    s.chain.advance(300)
    initiate(s, s.session.address)  # the delegate itself may initiate: the ETA moves later
    assert eta(s) > owners_eta
    s.chain.time_travel(owners_eta + 1)
    s.system.execute_batch([session_op(s)])  # still active after the owner's ETA


def test_the_owners_finalize_at_its_own_eta_fails_after_the_delegate_postponed_it(
    onboarded: Scenario,
) -> None:
    s = onboarded
    initiate(s, s.user.address)
    owners_eta = eta(s)
    s.chain.advance(300)
    initiate(s, s.session.address)
    postponed = eta(s)
    s.chain.time_travel(owners_eta)
    finalize = s.system.revoke_tx(
        s.user.address, s.sub, s.session.address, [ADD_MARGIN], finalize=True
    )
    reverts(s, finalize, None, "RevocationCooldownNotOver(uint256)", postponed)


def test_the_owners_way_out_is_a_re_grant_with_a_short_expiry(onboarded: Scenario) -> None:
    s = onboarded
    initiate(s, s.user.address)
    s.chain.advance(300)
    initiate(s, s.session.address)
    short = DelegationInfo(Account(s.sub), s.session.address, (ADD_MARGIN,), s.chain.now() + 60)
    s.chain.send(flow.grant_delegation(s.context(), s.user.address, short))
    assert eta(s) == 0  # the grant cleared the pending revocation
    s.chain.time_travel(short.expiry_timestamp)
    initiate(s, s.session.address)  # expired: nothing to postpone any more
    assert eta(s) == 0
    reverts(s, s.system.batch_tx([session_op(s)]), None, "InvalidDelegation()")


# --------------------------------------------------------------- 5: the view and the VA


def test_is_delegation_active_is_false_for_a_va_whose_operations_still_execute(
    opened: Scenario,
) -> None:
    s = opened
    assert s.system.is_delegation_active(s.sub, s.session.address, ADD_MARGIN)
    assert not s.system.is_delegation_active(s.va, s.session.address, ADD_MARGIN)
    assert s.system.canonical_account(s.va) == s.sub
    s.system.execute_batch([session_op(s, account=s.va)])


# ------------------------------------------------------------- 6-7: signed delegations


def _signed_grant(s: Scenario, nonce: int, expiry: int, deadline: int):
    info = DelegationInfo(Account(s.sub), s.stranger.address, (ADD_MARGIN,), expiry)
    return flow.signed_delegation(s.context(), s.user, info, nonce=nonce, deadline=deadline)


def test_a_replayed_signed_grant_reverts_invalid_nonce_with_the_stored_nonce(
    onboarded: Scenario,
) -> None:
    s = onboarded
    value, signature = _signed_grant(s, 1, s.chain.now() + 5_000, 0)
    s.system.grant_delegation_by_sig(s.stranger.address, value, signature)
    replay = flow.grant_delegation_by_sig(s.context(), s.stranger.address, value, signature)
    reverts(s, replay, None, "InvalidNonce(address,uint256,uint256)", s.sub, 1, 1)


def test_a_signed_grant_with_a_wrong_nonce_reports_the_stored_nonce_as_expected(
    onboarded: Scenario,
) -> None:
    s = onboarded
    value, signature = _signed_grant(s, 5, s.chain.now() + 5_000, 0)
    call = flow.grant_delegation_by_sig(s.context(), s.stranger.address, value, signature)
    reverts(s, call, None, "InvalidNonce(address,uint256,uint256)", s.sub, 0, 5)


def test_a_signed_grant_past_expiry_and_deadline_reverts_delegation_expired(
    onboarded: Scenario,
) -> None:
    s = onboarded
    now = s.chain.now()
    value, signature = _signed_grant(s, 1, now - 10, now - 20)
    call = flow.grant_delegation_by_sig(s.context(), s.stranger.address, value, signature)
    reverts(s, call, None, "DelegationExpired(uint256)", now - 10)


# ---------------------------------------------------------------------- 8-9: templates


def test_execute_template_with_an_unknown_id_reverts_invalid_template(
    onboarded: Scenario,
) -> None:
    s = onboarded
    call = s.system.template_tx(99, [session_op(s)])
    reverts(s, call, None, "InvalidTemplate(uint256)", 99)


def test_execute_template_with_no_operations_reverts_length_mismatch(onboarded: Scenario) -> None:
    s = onboarded
    call = s.system.template_tx(s.system.open_template_id, [])
    reverts(s, call, None, "TemplateOperationLengthMismatch()")


def test_an_inactive_template_reverts_template_not_active(onboarded: Scenario) -> None:
    s = onboarded
    tid = s.system.open_template_id
    s.chain.send(admin_call(s, "setTemplateActive", tid, False))
    reverts(s, s.system.template_tx(tid, [session_op(s)]), None, "TemplateNotActive(uint256)", tid)


def test_an_empty_template_cannot_be_added(deployed: Scenario) -> None:
    reverts(deployed, admin_call(deployed, "addTemplate", "empty", []), None, "EmptyTemplate()")


def test_injection_errors_carry_the_real_arguments(onboarded: Scenario) -> None:
    """InsertionPointOutOfBounds(point + 32, length); BadSourceResultLength(result, its length)."""
    s = onboarded
    plan = s.open_plan()
    tx = s.system.instant_open_tx(plan.body)
    lock_len = len(cd.LOCK_QUOTE.encode(0, cd.EMPTY_UPNL_SIG_4))

    def with_step(step: tuple[list[int], list[int], list[int]]) -> Call:
        tid = s.system.view(admin_call(s, "nextTemplateId"))
        steps = [([], [], []), ([], [], []), step, ([], [], [])]
        s.chain.send(admin_call(s, "addTemplate", "t", [list(map(list, x)) for x in steps]))
        return flow.TxRequest(tx.step, tx.sender, tx.to, _retarget(tx.data, tid), tx.function)

    quote_id_word = (1).to_bytes(32, "big")
    reverts(
        s,
        with_step(([lock_len], [1], [0])),
        None,
        "InsertionPointOutOfBounds(uint256,uint256)",
        lock_len + 32,
        lock_len,
    )
    reverts(
        s,
        with_step(([0], [1], [32])),
        None,
        "BadSourceResultLength(bytes,uint256)",
        quote_id_word,
        32,
    )


def _retarget(data: bytes, template_id: int) -> bytes:
    """executeTemplate calldata with another template id (its first argument)."""
    return data[:4] + template_id.to_bytes(32, "big") + data[36:]


# --------------------------------------------------------------------- 10: PartyB results


def test_a_partyb_operation_returns_nothing_and_executes(opened: Scenario) -> None:
    s = opened
    noop = s.system.partyb_operation(bytes.fromhex("aa48e2e8"))  # getNextQuoteId(): a read
    (results,) = decode(["bytes[]"], s.chain.call(s.system.batch_tx([noop])))
    assert list(results) == [b""]
    s.system.execute_batch([noop])


# ---------------------------------------------------------------------- 11-13: settings


def test_a_revocation_cooldown_out_of_bounds_reverts_invalid_call_data(deployed: Scenario) -> None:
    for cooldown in (1, 299, 30 * 86_400 + 1):
        reverts(
            deployed,
            admin_call(deployed, "setRevocationCooldown", cooldown),
            None,
            "InvalidCallData()",
        )


def test_set_account_layer_to_zero_reverts_unregistered_account_layer(deployed: Scenario) -> None:
    call = admin_call(deployed, "setAccountLayer", ZERO)
    reverts(deployed, call, None, "UnregisteredAccountLayer(address)", ZERO)


def test_register_party_bs_with_an_empty_list_reverts_empty_array(deployed: Scenario) -> None:
    reverts(deployed, admin_call(deployed, "registerPartyBs", []), None, "EmptyArray()")


def test_registering_a_party_b_twice_reverts_and_unregistering_an_unknown_one_too(
    deployed: Scenario,
) -> None:
    s = deployed
    pb = s.system.party_b.address
    reverts(s, admin_call(s, "registerPartyBs", [pb]), None, "PartyBAlreadyRegistered(address)", pb)
    stranger = s.stranger.address
    reverts(
        s,
        admin_call(s, "unregisterPartyB", stranger),
        None,
        "PartyBNotRegistered(address)",
        stranger,
    )


def test_a_zero_whitelist_target_reverts_invalid_call_data(deployed: Scenario) -> None:
    reverts(
        deployed, admin_call(deployed, "setTargetWhitelist", ZERO, True), None, "InvalidCallData()"
    )


# ------------------------------------------------------------------- routing (this generation)


def test_a_delegate_of_one_sub_account_acts_with_the_owners_authority_on_another(
    onboarded: Scenario,
) -> None:
    """This generation routes with AccountLayer setSigner(owner): no per-delegation scope
    (v0.8.6 adds AccountOutOfScope). The session key of sub-account A moves margin from the same
    owner's sub-account B into B's next VA."""
    s = onboarded
    sub_b, _ = s.system.create_sub_account(s.user.address, "second")
    s.system.mint(s.user.address, 10**6)
    s.system.approve(s.user.address, 10**6)
    s.system.deposit(s.user.address, sub_b, 10**6)
    predicted = s.system.view(
        s.system.account_layer.functions.predictNextVirtualAccountAddress(
            sub_b, cd.VA_ISO_MARKET_LONG, s.symbol.id
        )
    )
    op = s.sign(s.session, s.add_margin_call(10**17, sub_account=sub_b))  # signed for sub A
    s.system.execute_batch([op])
    assert s.system.balance(predicted) == 10**17


def test_the_constructor_sets_the_real_initial_cooldown(deployed: Scenario) -> None:
    il = deployed.system.instant_layer.functions
    assert deployed.system.view(il.revocationCooldown()) == COOLDOWN


def test_the_operation_digest_is_the_one_we_sign(onboarded: Scenario) -> None:
    s = onboarded
    op = session_op(s).signed_operation
    assert s.system.operation_hash(op) == eip712.digest(s.system.domain, op)


def test_an_instant_layer_without_an_account_layer_reverts_account_layer_not_set(
    deployed: Scenario,
) -> None:
    s = deployed
    bare = s.chain.deploy("InstantLayer", s.system.core.address, s.chain.admin)
    info = DelegationInfo(Account(s.stranger.address), s.session.address, (ADD_MARGIN,), 2**40)
    grant = bare.functions.grantDelegation(cd.delegation_info_args(info))
    reverts(s, grant, s.user.address, "AccountLayerNotSet()")


def test_get_active_delegations_lists_the_active_selectors_on_the_canonical_account(
    opened: Scenario,
) -> None:
    s = opened
    initiate(s, s.user.address)
    s.chain.time_travel(eta(s))  # ADD_MARGIN is revoked from here on
    fn = s.system.instant_layer.functions.getActiveDelegations(
        (s.va, False), [s.session.address], [[ADD_MARGIN, cd.SESSION_KEY_MARKER]]
    )
    ((account, delegate, selectors, expiry),) = s.system.view(fn, "pending")
    assert (account, delegate, list(selectors)) == (
        (s.va, False),
        s.session.address,
        [cd.SESSION_KEY_MARKER],
    )
    assert expiry == s.expiry
