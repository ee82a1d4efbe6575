"""Every rule of the InstantLayer / AccountLayer / core, broken on chain: the exact error name.

One table of cases (rule ID, the spec sentence, how to break it) run by one parametrized test, so
a failing ID names the rule (`test_rule_is_enforced_on_chain[nonce-out-of-order]`); rules whose
point is that something still works (maxUses 0, separate nonces, a revocation before its ETA) are
their own tests below. Spec references: shared/spec/contracts-and-services.md §2a, §3.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import pytest
from eth_abi import encode

from harness import calldata as cd
from harness import eip712, flow
from harness.chain import Call
from harness.model import (
    Account,
    DelegationInfo,
    FlexField,
    FlexFillAuth,
    ReplayAttackHeader,
    SignedOperation,
    WrappedOperation,
)
from harness.primitives import keccak
from harness.revert import EMPTY_REVERT, Decoded
from harness.signatures import to_high_s

from .scenario import DEPOSIT_UNITS, Scenario

pytestmark = pytest.mark.evm

ADD_MARGIN = cd.ADD_MARGIN_TO_NEXT_VA.selector
AMOUNT_OFFSET = 96  # addMarginToNextVA(sub, isolation, symbol, amount): amount is argument 4
E18 = 10**18


@dataclass(frozen=True)
class RuleCase:
    rule_id: str
    spec: str
    build: Callable[[Scenario], tuple[Call, Decoded]]


CASES: list[RuleCase] = []


def rule(rule_id: str, spec: str) -> Callable[[Callable[[Scenario], Any]], Any]:
    def register(build: Callable[[Scenario], tuple[Call, Decoded]]) -> Any:
        CASES.append(RuleCase(rule_id, spec, build))
        return build

    return register


def _op(s: Scenario, **changes: Any) -> SignedOperation:
    """The session key's addMarginToNextVA for the sub-account, with `changes` applied."""
    return SignedOperation(
        signer=changes.get("signer", s.session.address),
        target=changes.get("target", s.system.account_layer.address),
        call_data=changes.get("call_data", s.add_margin_call()),
        signer_account=Account(changes.get("account", s.sub), False),
        flex_fields=changes.get("flex_fields", ()),
        max_uses=changes.get("max_uses", 1),
        replay_attack_header=ReplayAttackHeader(
            changes.get("nonce", 0), changes.get("deadline", 0), changes.get("salt", b"\x01" * 32)
        ),
    )


def _with_signature(op: WrappedOperation, signature: bytes) -> WrappedOperation:
    return WrappedOperation(op.signed_operation, signature)


# ------------------------------------------------------------------ §3 verification order 1-8
@rule("operation-deadline-expired", "§3 step 1: deadline != 0 and deadline < now: DeadlineExpired")
def _(s: Scenario):
    deadline = s.chain.now() - 1
    op = s.sign(s.session, s.add_margin_call(), deadline=deadline)
    return s.system.batch_tx([op]), ("DeadlineExpired", (deadline,))


@rule("calldata-shorter-than-4-bytes", "§3 step 2: callData.length < 4: CallDataLengthMismatch")
def _(s: Scenario):
    op = s.sign(s.session, ADD_MARGIN[:3])
    return s.system.batch_tx([op]), ("CallDataLengthMismatch", ())


@rule("target-not-whitelisted", "§3 step 3: a target off the whitelist: TargetNotWhitelisted")
def _(s: Scenario):
    token = s.system.collateral.address
    op = s.sign(s.session, s.add_margin_call(), target=token)
    return s.system.batch_tx([op]), ("TargetNotWhitelisted", (token,))


@rule(
    "selector-not-delegated",
    "§3 step 5: signer != owner needs isDelegationActive(canonical, signer, callData[0:4])",
)
def _(s: Scenario):
    unbind = cd.REQUEST_TO_UNBIND_FROM_PARTY_B.encode()
    op = s.sign(s.session, unbind, target=s.system.core.address)
    return s.system.batch_tx([op]), ("InvalidDelegation", ())


@rule("signer-never-delegated", "§3 step 5: a key nobody delegated to: InvalidDelegation")
def _(s: Scenario):
    return s.system.batch_tx([s.sign(s.stranger, s.add_margin_call())]), ("InvalidDelegation", ())


@rule("delegation-expired", "§3 delegation rules: active only while expiry > now")
def _(s: Scenario):
    expiry = s.chain.now() + 100
    info = DelegationInfo(Account(s.sub), s.stranger.address, (ADD_MARGIN,), expiry)
    s.system.grant_delegation(s.user.address, info)
    op = s.sign(s.stranger, s.add_margin_call())
    s.chain.time_travel(expiry)  # expiry == now: no longer active
    return s.system.batch_tx([op]), ("InvalidDelegation", ())


def _partyb_op(s: Scenario, signer: str, party_b: str) -> SignedOperation:
    lock = cd.LOCK_QUOTE.encode(s.quote_id, cd.EMPTY_UPNL_SIG_4)
    header = ReplayAttackHeader(0, 0, b"\x02" * 32)
    return SignedOperation(
        signer, s.system.core.address, lock, Account(party_b, True), (), 1, header
    )


@rule("partyb-signer-is-not-the-account", "§3 step 5 PartyB: signer == signerAccount.addr")
def _(s: Scenario):
    party_b = s.system.party_b.address
    op = s.system.sign_operation(s.hedger, _partyb_op(s, s.hedger.address, party_b))
    return s.system.batch_tx([op]), ("MismatchSignerAndAccount", (s.hedger.address, party_b))


@rule("partyb-not-registered", "§3 step 5 PartyB: the PartyB must be registered")
def _(s: Scenario):
    stranger = s.stranger.address
    op = s.system.sign_operation(s.stranger, _partyb_op(s, stranger, stranger))
    return s.system.batch_tx([op]), ("UnregisteredPartyB", (stranger,))


@rule("signature-by-another-key", "§3 step 6: the signature must recover to the signer")
def _(s: Scenario):
    op = s.system.sign_operation(s.stranger, _op(s))
    return s.system.batch_tx([op]), ("InvalidSignature", ())


@rule("signature-high-s", "§3 step 6: OZ 4.9 ECDSA rejects s in the upper half of the order")
def _(s: Scenario):
    op = s.system.sign_operation(s.session, _op(s))
    return s.system.batch_tx([_with_signature(op, to_high_s(op.signature))]), (
        "InvalidSignature",
        (),
    )


def _v_case(v: int) -> Callable[[Scenario], tuple[Call, Decoded]]:
    def build(s: Scenario) -> tuple[Call, Decoded]:
        op = s.system.sign_operation(s.session, _op(s))
        bad = op.signature[:64] + bytes([v])
        return s.system.batch_tx([_with_signature(op, bad)]), ("InvalidSignature", ())

    return build


for _v in (0, 1):
    CASES.append(
        RuleCase(
            f"signature-v-{_v}", "§3 step 6: v must be 27 or 28 (0/1 are refused)", _v_case(_v)
        )
    )


@rule("tampered-calldata-byte", "§3: the digest covers keccak(callData): one byte changes it")
def _(s: Scenario):
    op = s.system.sign_operation(s.session, _op(s))
    data = bytearray(op.signed_operation.call_data)
    data[4 + AMOUNT_OFFSET + 31] ^= 0x01  # last byte of the amount; the selector is untouched
    tampered = replace(op.signed_operation, call_data=bytes(data))
    return s.system.batch_tx([WrappedOperation(tampered, op.signature)]), ("InvalidSignature", ())


@rule("signature-for-another-chain-id", "§3: the domain binds chainId; another chain's is void")
def _(s: Scenario):
    op = _op(s)
    foreign = eip712.instant_layer_domain(s.chain.chain_id + 1, s.system.instant_layer.address)
    signature = s.session.sign_digest(eip712.digest(foreign, op))
    return s.system.batch_tx([WrappedOperation(op, signature)]), ("InvalidSignature", ())


@rule("max-uses-exhausted", "§3 step 7: maxUses > 0 and usage count >= maxUses: MaxUsesExceeded")
def _(s: Scenario):
    op = s.sign(s.session, s.add_margin_call(), max_uses=1)
    s.system.execute_batch([op])
    digest = eip712.digest(s.system.domain, op.signed_operation)
    return s.system.batch_tx([op]), ("MaxUsesExceeded", (digest, 1))


@rule("max-uses-2-exhausted-on-the-third-use", "§3 step 7: the count is per digest")
def _(s: Scenario):
    op = s.sign(s.session, s.add_margin_call(), max_uses=2)
    s.system.execute_batch([op, op])
    digest = eip712.digest(s.system.domain, op.signed_operation)
    return s.system.batch_tx([op]), ("MaxUsesExceeded", (digest, 2))


@rule("nonce-out-of-order", "§3 step 8: nonce != 0 must equal nonces[account] + 1")
def _(s: Scenario):
    op = s.sign(s.session, s.add_margin_call(), nonce=2)
    return s.system.batch_tx([op]), ("InvalidNonce", (s.sub, 1, 2))


@rule("nonce-reused", "§3 step 8: a used nonce is never accepted again, whatever the salt")
def _(s: Scenario):
    s.system.execute_batch([s.sign(s.session, s.add_margin_call(), nonce=1)])
    op = s.sign(s.session, s.add_margin_call(), nonce=1)
    return s.system.batch_tx([op]), ("InvalidNonce", (s.sub, 2, 1))


# ------------------------------------------------------------------ delegation-only keys
def _key_case(selector: bytes, signer: str) -> Callable[[Scenario], tuple[Call, Decoded]]:
    """A delegation key as an operation's selector: delegated, so verification passes; no
    function has it, so routing fails with an empty revert (the validator rejects it earlier)."""

    def build(s: Scenario) -> tuple[Call, Decoded]:
        key = s.session if signer == "session" else s.bot
        assert s.system.is_delegation_active(s.sub, key.address, selector)
        deadline = s.chain.now() + 600
        close = cd.REQUEST_TO_CLOSE_POSITION_WITH_UPNL_SIG.encode(
            s.quote_id, E18, E18 // 1000, cd.ORDER_MARKET, deadline, cd.EMPTY_UPNL_SIG_4
        )
        call_data = selector + close[4:]
        op = s.sign(key, call_data, account=s.va, target=s.system.core.address)
        return s.system.batch_tx([op]), ("OperationFailed", (0, (EMPTY_REVERT, ())))

    return build


for _sel, _signer in (
    (cd.COH_REQUEST_TO_CLOSE_KEY, "session"),
    (cd.COH_CLOSE_WITH_UPNL_SIG_KEY, "bot"),
    (cd.SESSION_KEY_MARKER, "session"),
):
    CASES.append(
        RuleCase(
            f"delegation-key-{_sel.hex()}-as-calldata-selector",
            "decisions: eaa31b19, ee9ef781, 00000001 are delegation keys, never callData selectors",
            _key_case(_sel, _signer),
        )
    )


# ------------------------------------------------------------------ delegation grants
@rule("grant-by-non-owner", "§3: grantDelegation: the caller must own the account")
def _(s: Scenario):
    info = DelegationInfo(Account(s.sub), s.bot.address, (ADD_MARGIN,), s.chain.now() + 99)
    tx = flow.grant_delegation(s.context(), s.stranger.address, info)
    return tx, ("NotOwnerOfAccount", (s.stranger.address, s.sub))


@rule("grant-by-session-key", "§0.5: a session key cannot grant (one doc says it can)")
def _(s: Scenario):
    info = DelegationInfo(Account(s.sub), s.bot.address, (ADD_MARGIN,), s.chain.now() + 99)
    tx = flow.grant_delegation(s.context(), s.session.address, info)
    return tx, ("NotOwnerOfAccount", (s.session.address, s.sub))


@rule("self-delegation", "§3: delegatedSigner == msg.sender: SelfDelegation")
def _(s: Scenario):
    info = DelegationInfo(Account(s.sub), s.user.address, (ADD_MARGIN,), s.chain.now() + 99)
    data = cd.GRANT_DELEGATION.encode(cd.delegation_info_args(info))  # flow refuses to build it
    il = s.system.instant_layer.address
    return flow.TxRequest("grantDelegation", s.user.address, il, data, cd.GRANT_DELEGATION), (
        "SelfDelegation",
        (),
    )


@rule("grant-for-a-partyb-account", "§3: isPartyB in a grant: InvalidDelegation")
def _(s: Scenario):
    info = DelegationInfo(Account(s.sub, True), s.bot.address, (ADD_MARGIN,), s.chain.now() + 99)
    return flow.grant_delegation(s.context(), s.user.address, info), ("InvalidDelegation", ())


@rule("grant-with-expiry-not-in-the-future", "§3: expiry <= now: DelegationExpired")
def _(s: Scenario):
    expiry = s.chain.now()
    info = DelegationInfo(Account(s.sub), s.bot.address, (ADD_MARGIN,), expiry)
    tx = flow.grant_delegation(s.context(), s.user.address, info)
    return tx, ("DelegationExpired", (expiry,))


@rule("finalize-revocation-before-eta", "§3: finalizeRevokeDelegation before the ETA reverts")
def _(s: Scenario):
    selectors = [ADD_MARGIN]
    sent = s.system.chain.send(
        s.system.revoke_tx(s.user.address, s.sub, s.session.address, selectors)
    )
    eta = s.system.pending_revocation_eta(s.sub, s.session.address, ADD_MARGIN)
    assert eta == s.chain.w3.eth.get_block(sent.block_number)["timestamp"] + 600
    s.chain.time_travel(eta - 1)
    tx = s.system.revoke_tx(s.stranger.address, s.sub, s.session.address, selectors, finalize=True)
    return tx, ("RevocationCooldownNotOver", (eta,))


@rule("revoke-by-a-stranger", "§3: initiateRevokeDelegation: owner, delegate or REVOKER_ROLE")
def _(s: Scenario):
    tx = s.system.revoke_tx(s.stranger.address, s.sub, s.session.address, [ADD_MARGIN])
    return tx, ("NotOwnerOfAccount", (s.stranger.address, s.sub))


# ------------------------------------------------------------------ flex fills
def _flex_op(s: Scenario, offset: int, filler: str) -> WrappedOperation:
    flex = (FlexField(offset, 32, filler),)
    return s.sign(s.session, s.add_margin_call(), flex_fields=flex)


SEVEN = (7 * E18).to_bytes(32, "big")


@rule("flex-field-out-of-bounds", "§3 flex fills: offset + length + 4 > callData.length")
def _(s: Scenario):
    op = _flex_op(s, 120, s.system.admin)
    tx = s.system.batch_tx([op], fills=[[b""]], flex_signatures=[[b""]])
    return tx, ("FlexFieldOutOfBounds", (120, 32, 132))


@rule("flex-fill-of-the-wrong-length", "§3 flex fills: a non-empty fill must be `length` bytes")
def _(s: Scenario):
    op = _flex_op(s, AMOUNT_OFFSET, s.system.admin)
    tx = s.system.batch_tx([op], fills=[[SEVEN[:31]]], flex_signatures=[[b""]])
    return tx, ("InvalidFlexFillValueLength", (0, 32, 31))


@rule("flex-fill-count-mismatch", "§3 flex fills: fills[i].length == number of fields")
def _(s: Scenario):
    op = _flex_op(s, AMOUNT_OFFSET, s.system.admin)
    tx = s.system.batch_tx([op], fills=[[]], flex_signatures=[[b""]])
    return tx, ("InvalidFlexFillLength", (1, 0))


@rule(
    "flex-fill-without-the-fillers-authorisation",
    "§3 flex fills: a filler other than msg.sender must sign FlexFillAuth",
)
def _(s: Scenario):
    op = _flex_op(s, AMOUNT_OFFSET, s.hedger.address)
    tx = s.system.batch_tx([op], fills=[[SEVEN]], flex_signatures=[[b""]])
    return tx, ("InvalidFlexFillerSignature", (0,))


@rule("flex-fill-authorised-by-someone-else", "§3 flex fills: FlexFillAuth by the named filler")
def _(s: Scenario):
    op = _flex_op(s, AMOUNT_OFFSET, s.hedger.address)
    op_hash = eip712.digest(s.system.domain, op.signed_operation)
    auth = eip712.digest(s.system.domain, FlexFillAuth(op_hash, 0, SEVEN))
    tx = s.system.batch_tx([op], fills=[[SEVEN]], flex_signatures=[[s.stranger.sign_digest(auth)]])
    return tx, ("InvalidFlexFillerSignature", (0,))


# ------------------------------------------------------------------ core and AccountLayer
@rule(
    "empty-muon-sentinel-on-an-unbound-account",
    "§2b / mock: the empty upnl sig is accepted only for an account bound to a whitelisted PartyB",
)
def _(s: Scenario):
    user = s.user.address
    unbound, _ = s.system.create_sub_account(user, "unbound")
    s.system.mint(user, DEPOSIT_UNITS)
    s.system.approve(user, DEPOSIT_UNITS)
    s.system.deposit(user, unbound, DEPOSIT_UNITS)
    plan = s.open_plan(s.user, sub_account=unbound)  # the owner signs for itself
    error = ("Error", ("LibMuon: Expired signature",))
    return s.system.instant_open_tx(plan.body), ("OperationFailed", (1, error))


#: The core admin selectors `_call` refuses (§2a). Canonical signatures are the mock's choice
#: (contracts/README.md); only the names are in the facts.
FORBIDDEN_CALL_SELECTORS = {
    "registerAffiliate(address)": "1b00137a",
    "deregisterAffiliate(address)": "08e63001",
    "setAffiliateMetadata(address,bytes)": "539bf793",
    "setFeeCollector(address,address)": "29149799",
    "setAffiliateFee(address,uint256,uint256)": "fa421f9c",
    "setCustomAffiliateFee(address,uint256,uint256)": "1c66377a",
    "setSigner(address)": "6c19e783",
    "internalTransferToBalance(address,uint256)": "fad846e3",
}


def _forbidden_case(signature: str) -> Callable[[Scenario], tuple[Call, Decoded]]:
    def build(s: Scenario) -> tuple[Call, Decoded]:
        selector = keccak(signature.encode())[:4]
        assert selector.hex() == FORBIDDEN_CALL_SELECTORS[signature]
        types = signature[signature.index("(") + 1 : -1].split(",")
        values = {"address": s.stranger.address, "uint256": 1, "bytes": b""}
        inner = selector + encode(types, [values[t] for t in types])
        data = cd.ACCOUNT_LAYER_CALL.encode(s.sub, [inner])
        al = s.system.account_layer.address
        return flow.TxRequest("_call", s.user.address, al, data, cd.ACCOUNT_LAYER_CALL), (
            "Unauthorized",
            (),
        )

    return build


for _signature in FORBIDDEN_CALL_SELECTORS:
    CASES.append(
        RuleCase(
            f"forbidden-call-selector-{_signature[: _signature.index('(')]}",
            "§2a: _call refuses the core's admin selectors with Unauthorized",
            _forbidden_case(_signature),
        )
    )


@pytest.mark.parametrize("case", CASES, ids=[c.rule_id for c in CASES])
def test_rule_is_enforced_on_chain(case: RuleCase, opened: Scenario) -> None:
    call, expected = case.build(opened)
    assert opened.chain.revert_of(call) == expected, f"{case.rule_id}: {case.spec}"


def test_every_rule_id_is_unique() -> None:
    ids = [c.rule_id for c in CASES]
    assert len(ids) == len(set(ids))


# ------------------------------------------------------------ rules that keep something working
def test_max_uses_0_is_replayable(opened: Scenario) -> None:
    """§3 step 7: maxUses 0 means unlimited; the count still goes up."""
    s = opened
    op = s.sign(s.session, s.add_margin_call(E18), max_uses=0)
    for _ in range(3):
        s.system.execute_batch([op])
    s.system.execute_batch([op, op])
    assert s.system.usage_count(eip712.digest(s.system.domain, op.signed_operation)) == 5


def test_nonces_are_separate_for_a_va_and_its_sub_account(opened: Scenario) -> None:
    """§3 step 8: nonces are counted per signerAccount.addr, so the VA has its own sequence even
    though its delegation is looked up on the parent."""
    s = opened
    assert (s.system.nonce(s.sub), s.system.nonce(s.va)) == (0, 0)
    on_sub = s.sign(s.session, s.add_margin_call(), nonce=1)
    on_va = s.sign(s.session, s.add_margin_call(), nonce=1, account=s.va)
    s.system.execute_batch([on_sub, on_va])
    assert (s.system.nonce(s.sub), s.system.nonce(s.va)) == (1, 1)
    s.system.execute_batch([s.sign(s.session, s.add_margin_call(), nonce=2, account=s.va)])
    assert (s.system.nonce(s.sub), s.system.nonce(s.va)) == (1, 2)


def test_revocation_is_still_active_before_its_eta(opened: Scenario) -> None:
    """§3: a revocation takes effect at eta = now + cooldown; until then the delegation works."""
    s = opened
    s.system.chain.send(s.system.revoke_tx(s.user.address, s.sub, s.session.address, [ADD_MARGIN]))
    eta = s.system.pending_revocation_eta(s.sub, s.session.address, ADD_MARGIN)
    s.chain.time_travel(eta - 2)
    assert s.system.is_delegation_active(s.sub, s.session.address, ADD_MARGIN)
    # the view reads the stored entry: false for the VA, whose operations still pass (execution
    # maps a VA to its parent)
    assert not s.system.is_delegation_active(s.va, s.session.address, ADD_MARGIN)
    s.system.execute_batch([s.sign(s.session, s.add_margin_call())])  # at eta - 2: accepted
    s.system.execute_batch([s.sign(s.session, s.add_margin_call(), account=s.va)])  # eta - 1


def test_revocation_is_inactive_from_its_eta_even_before_finalize(opened: Scenario) -> None:
    s = opened
    s.system.chain.send(s.system.revoke_tx(s.user.address, s.sub, s.session.address, [ADD_MARGIN]))
    eta = s.system.pending_revocation_eta(s.sub, s.session.address, ADD_MARGIN)
    s.chain.time_travel(eta)
    assert not s.system.is_delegation_active(s.sub, s.session.address, ADD_MARGIN)
    op = s.sign(s.session, s.add_margin_call())
    assert s.chain.revert_of(s.system.batch_tx([op])) == ("InvalidDelegation", ())
    # other selectors of the same delegate are untouched
    assert s.system.is_delegation_active(s.sub, s.session.address, cd.SESSION_KEY_MARKER)
    # finalize (anyone) deletes it; a new grant restores it and clears the ETA
    finalize = s.system.revoke_tx(
        s.stranger.address, s.sub, s.session.address, [ADD_MARGIN], finalize=True
    )
    s.chain.send(finalize)
    assert (
        s.system.instant_layer.functions.delegations(s.sub, s.session.address, ADD_MARGIN).call()
        == 0
    )
    info = DelegationInfo(Account(s.sub), s.session.address, (ADD_MARGIN,), s.chain.now() + 999)
    s.system.grant_delegation(s.user.address, info)
    assert s.system.is_delegation_active(s.sub, s.session.address, ADD_MARGIN)
    assert s.system.pending_revocation_eta(s.sub, s.session.address, ADD_MARGIN) == 0


def test_flex_fill_authorised_by_the_named_filler_is_used(opened: Scenario) -> None:
    """§3 flex fills: with the filler's FlexFillAuth the filled bytes replace the signed ones."""
    s = opened
    op = _flex_op(s, AMOUNT_OFFSET, s.hedger.address)
    op_hash = eip712.digest(s.system.domain, op.signed_operation)
    assert s.system.flex_fill_auth_hash(op_hash, 0, SEVEN) == eip712.digest(
        s.system.domain, FlexFillAuth(op_hash, 0, SEVEN)
    )
    auth = s.hedger.sign_digest(eip712.digest(s.system.domain, FlexFillAuth(op_hash, 0, SEVEN)))
    before = s.system.balance(s.va)
    s.system.execute_batch([op], fills=[[SEVEN]], flex_signatures=[[auth]])
    assert s.system.balance(s.va) == before + 7 * E18
