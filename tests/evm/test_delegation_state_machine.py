"""Stateful test: grants, revocations, time travel, executions and replays, run against the
contracts and against a small Python model of the rules (spec §3); any divergence fails.

The model:
- a delegation (delegate, selector) is active iff expiry > now and (eta == 0 or eta > now);
- grant: expiry <= now reverts DelegationExpired, else stores the expiry and clears the ETA;
- initiateRevoke: eta = now + 600 for each selector whose expiry is still ahead, whatever its
  ETA (a pending one is moved later; one already passed re-activates the selector);
- finalizeRevoke: reverts RevocationCooldownNotOver(eta) while now < eta, else deletes;
- an operation: deadline, then delegation (on the canonical account: the VA's parent), then the
  use count of its digest against maxUses (0 = unlimited), then the nonce of signerAccount.addr;
- isDelegationActive(VA, ...) is false: the view reads the stored entry, execution maps the VA.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    rule,
    run_state_machine_as_test,
)

from harness import calldata as cd
from harness import eip712, flow
from harness.chain import Call
from harness.model import Account, DelegationInfo, WrappedOperation
from harness.revert import Decoded, Reverted

from .scenario import Scenario, key_for

pytestmark = pytest.mark.evm

COOLDOWN = 600
ADD_MARGIN = cd.ADD_MARGIN_TO_NEXT_VA.selector  # executable: moves 1 wei to the VA
MARKER = cd.SESSION_KEY_MARKER  # never executable; granted, revoked and looked up
SELECTORS = (ADD_MARGIN, MARKER)
DELEGATES = (key_for("machine delegate 1"), key_for("machine delegate 2"))
OK: Decoded = ("ok", ())

selector_lists = st.lists(st.sampled_from(SELECTORS), min_size=1, max_size=3)
delegate_indexes = st.sampled_from(range(len(DELEGATES)))
seconds = st.one_of(st.sampled_from([1, 2, 599, 600, 601]), st.integers(1, 4_000))


@dataclass
class Model:
    expiry: dict[tuple[int, bytes], int] = field(default_factory=dict)
    eta: dict[tuple[int, bytes], int] = field(default_factory=dict)
    nonces: dict[str, int] = field(default_factory=dict)
    uses: dict[bytes, int] = field(default_factory=dict)

    def active(self, delegate: int, selector: bytes, now: int) -> bool:
        eta = self.eta.get((delegate, selector), 0)
        return self.expiry.get((delegate, selector), 0) > now and (eta == 0 or eta > now)


@dataclass(frozen=True)
class Executed:
    """An operation the machine signed (it may have failed); replays reuse it as is."""

    op: WrappedOperation
    delegate: int
    digest: bytes

    def __repr__(self) -> str:  # hypothesis prints the steps of a failing run
        h = self.op.signed_operation.replay_attack_header
        return (
            f"Executed(delegate={self.delegate}, account={self.account[:10]}, "
            f"maxUses={self.op.signed_operation.max_uses}, nonce={h.nonce}, deadline={h.deadline})"
        )

    @property
    def account(self) -> str:
        return self.op.signed_operation.signer_account.addr


class DelegationMachine(RuleBasedStateMachine):
    scenario: ClassVar[Scenario]
    ops = Bundle("ops")

    def __init__(self) -> None:
        super().__init__()
        s = self.scenario.restore()
        self.s, self.system, self.chain = s, s.system, s.chain
        self.accounts = (s.sub, s.va)
        self.model = Model(nonces={a: self.system.nonce(a) for a in self.accounts})

    # ---------------------------------------------------------------- helpers
    def outcome(self, call: Call) -> Decoded:
        try:
            self.chain.send(call)
        except Reverted as exc:
            return exc.decoded
        return OK

    def check(self, what: str, actual: Decoded, expected: Decoded) -> None:
        assert actual == expected, f"{what}: the contract gave {actual}, the model {expected}"

    def expected_for(self, done: Executed, now: int) -> Decoded:
        op = done.op.signed_operation
        header = op.replay_attack_header
        if header.deadline != 0 and header.deadline < now:
            return ("DeadlineExpired", (header.deadline,))
        if not self.model.active(done.delegate, op.selector, now):
            return ("InvalidDelegation", ())
        count = self.model.uses.get(done.digest, 0)
        if op.max_uses != 0 and count >= op.max_uses:
            return ("MaxUsesExceeded", (done.digest, op.max_uses))
        if header.nonce != 0 and header.nonce != self.model.nonces[done.account] + 1:
            return (
                "InvalidNonce",
                (done.account, self.model.nonces[done.account] + 1, header.nonce),
            )
        return OK

    def run(self, done: Executed, what: str) -> None:
        now = self.chain.now()
        expected = self.expected_for(done, now)
        self.check(what, self.outcome(self.system.batch_tx([done.op])), expected)
        if expected == OK:
            self.model.uses[done.digest] = self.model.uses.get(done.digest, 0) + 1
            nonce = done.op.signed_operation.replay_attack_header.nonce
            if nonce:
                self.model.nonces[done.account] = nonce

    # ---------------------------------------------------------------- rules
    @rule(
        delegate=delegate_indexes,
        selectors=selector_lists,
        offset=st.integers(-3, 3_000),
        via_va=st.booleans(),
    )
    def grant(self, delegate: int, selectors: list[bytes], offset: int, via_va: bool) -> None:
        """Granted for the VA or the sub-account: either way stored on the sub-account."""
        now = self.chain.now()
        expiry = max(0, now + offset)
        account = Account(self.accounts[via_va])
        info = DelegationInfo(account, DELEGATES[delegate].address, tuple(selectors), expiry)
        expected = ("DelegationExpired", (expiry,)) if expiry <= now else OK
        sent = self.outcome(_grant(self.s, info))
        self.check("grantDelegation", sent, expected)
        if expected == OK:
            for sel in selectors:
                self.model.expiry[(delegate, sel)] = expiry
                self.model.eta[(delegate, sel)] = 0

    @rule(delegate=delegate_indexes, selectors=selector_lists, via_va=st.booleans())
    def initiate_revoke(self, delegate: int, selectors: list[bytes], via_va: bool) -> None:
        now = self.chain.now()
        tx = self.system.revoke_tx(
            self.s.user.address, self.accounts[via_va], DELEGATES[delegate].address, selectors
        )
        self.check("initiateRevokeDelegation", self.outcome(tx), OK)
        for sel in selectors:
            if self.model.expiry.get((delegate, sel), 0) > now:
                self.model.eta[(delegate, sel)] = now + COOLDOWN

    @rule(delegate=delegate_indexes, selectors=selector_lists, via_va=st.booleans())
    def finalize_revoke(self, delegate: int, selectors: list[bytes], via_va: bool) -> None:
        now = self.chain.now()
        expected = OK
        for sel in selectors:
            eta = self.model.eta.get((delegate, sel), 0)
            if eta and now < eta:
                expected = ("RevocationCooldownNotOver", (eta,))
                break
        tx = self.system.revoke_tx(
            self.s.stranger.address,
            self.accounts[via_va],
            DELEGATES[delegate].address,
            selectors,
            finalize=True,
        )
        self.check("finalizeRevokeDelegation", self.outcome(tx), expected)
        if expected == OK:
            for sel in selectors:
                if self.model.eta.get((delegate, sel), 0):
                    self.model.expiry.pop((delegate, sel), None)
                    self.model.eta[(delegate, sel)] = 0

    @rule(duration=seconds)
    def travel(self, duration: int) -> None:
        self.chain.advance(duration)

    @rule(
        target=ops,
        delegate=delegate_indexes,
        on_va=st.booleans(),
        nonce_step=st.sampled_from([None, 0, 1, 2]),  # None: salt-only; k: nonces + k
        max_uses=st.sampled_from([0, 1, 2]),
        deadline_in=st.sampled_from([None, 1, 300]),
        salt=st.integers(0, 3),
    )
    def execute(
        self,
        delegate: int,
        on_va: bool,
        nonce_step: int | None,
        max_uses: int,
        deadline_in: int | None,
        salt: int,
    ) -> Executed:
        account = self.accounts[on_va]
        nonce = 0 if nonce_step is None else self.model.nonces[account] + nonce_step
        deadline = 0 if deadline_in is None else self.chain.now() + deadline_in
        op = self.s.sign(
            DELEGATES[delegate],
            self.s.add_margin_call(1),
            account=account,
            nonce=nonce,
            max_uses=max_uses,
            deadline=deadline,
            salt=salt.to_bytes(32, "big"),
        )
        done = Executed(op, delegate, eip712.digest(self.system.domain, op.signed_operation))
        self.run(done, "executeBatch")
        return done

    @rule(done=ops)
    def replay(self, done: Executed) -> None:
        self.run(done, "executeBatch (replay)")

    # ---------------------------------------------------------------- observations
    # Every view costs an EVM run (~5 ms): they are compared when the machine chooses to look
    # and after the last step, not after every step. Every operation's outcome is compared
    # against the model as it happens.
    @rule()
    def observe(self) -> None:
        self.delegations_match()
        self.nonces_match()

    def teardown(self) -> None:
        self.delegations_match()
        self.nonces_match()

    def delegations_match(self) -> None:
        now = self.chain.now()
        for d, delegate in enumerate(DELEGATES):
            for sel in SELECTORS:
                expected = self.model.active(d, sel, now)
                on_chain = self.system.is_delegation_active(self.s.sub, delegate.address, sel)
                assert on_chain == expected, f"isDelegationActive(delegate {d}, {sel.hex()})"
                eta = self.system.pending_revocation_eta(self.s.sub, delegate.address, sel)
                assert eta == self.model.eta.get((d, sel), 0), f"ETA of (delegate {d}, {sel.hex()})"
        # the view does not map the VA to its parent (execution does)
        assert not self.system.is_delegation_active(self.s.va, DELEGATES[0].address, ADD_MARGIN)

    def nonces_match(self) -> None:
        for account in self.accounts:
            assert self.system.nonce(account) == self.model.nonces[account], f"nonces({account})"


def _grant(s: Scenario, info: DelegationInfo) -> Call:
    return flow.grant_delegation(s.context(), s.user.address, info)


def test_delegation_rules_match_the_model(opened: Scenario) -> None:
    DelegationMachine.scenario = opened
    # ~20-40 ms per step on chain: 8 runs of 20 steps (16 under the ci profile)
    examples = max(8, settings.default.max_examples // 15)
    run_state_machine_as_test(
        DelegationMachine,
        settings=settings(
            max_examples=examples,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
