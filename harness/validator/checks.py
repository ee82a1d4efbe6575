"""One check per rule ID: the registry, and the check functions that judge a body's facts.

A check is `fn(env, body)`: it reads the facts the engine computed once (`facts.Body`) and adds
findings for its own rule only (`env.add(rule, path, message)`; the severity is the
catalogue's). Whether a check runs at all (its body kinds, the context keys it needs) is decided
in one place, `Registry.for_kind`, from the catalogue. A check that can only find something
when the facts hold a particular problem (a malformed signature, calldata that is not its
slot's function, a signature another generation explains) is registered `only_if` that fact
flag (`facts.Body`), and the engine skips it on a body without the flag: a clean body runs a
third fewer checks; a test proves the verdicts equal with and without the skipping. Rules
reported while reading (the wire
reader's shape and format rules, the input rules) are registered as `reported_by` that layer, so
that every catalogue ID has exactly one owner; a test checks it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

from .. import calldata as cd
from .. import deployments, fee_limit_salt, pricing
from ..context import Context, Symbol
from ..errors import CalldataError
from ..model import ZERO_LEG, ZERO_SEND_QUOTE, Domain, Leg
from ..primitives import address_bytes
from ..protocol import (
    CURRENT,
    V0_8_6,
    OrderType,
    PositionType,
    Protocol,
    VirtualAccountIsolationType,
)
from ..protocol import generation as generation_named
from ..upnl_sig import region as upnl_sig_region
from ..wire import leg_to_wire
from .catalogue import BY_ID, RULES, Rule
from .facts import FACT_FLAGS, Body, Op, Signed

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z")
_GRANT_SELECTORS = frozenset((cd.GRANT_DELEGATION.selector, cd.GRANT_DELEGATIONS.selector))
_GENERATION_SELECTORS = _GRANT_SELECTORS | {cd.SEND_QUOTE.selector}
_MAX_VA_ISOLATION = max(VirtualAccountIsolationType)
_MAX_POSITION = max(PositionType)
_MAX_ORDER = max(OrderType)
_MARKET_LONG = VirtualAccountIsolationType.MARKET_LONG
_MARKET_SHORT = VirtualAccountIsolationType.MARKET_SHORT
_SIDE_OF_VA_ISOLATION = {_MARKET_LONG: PositionType.LONG, _MARKET_SHORT: PositionType.SHORT}


class Env:
    """What checks are told: the context, the clock, the domains; and where findings go."""

    __slots__ = ("context", "findings", "generation", "now", "op_domain", "tpsl_domain")

    def __init__(
        self,
        context: Context | None,
        now: int,
        op_domain: Domain | None,
        tpsl: Domain | None,
        generation: type[Protocol] = CURRENT,
    ) -> None:
        self.context = context
        self.now = now
        self.op_domain = op_domain
        self.tpsl_domain = tpsl
        self.generation = generation  # the protocol generation judged (engine.resolve_generation)
        self.findings: list[tuple[str, str, str]] = []

    def add(self, rule: str, path: str, message: str) -> None:
        self.findings.append((rule, path, message))


CheckFn = Callable[[Env, Body], None]


@dataclass(frozen=True)
class Check:
    rule: Rule
    fn: CheckFn | None  # None: reported by `reported_by` while reading
    reported_by: str = ""
    only_if: str | None = None  # a facts.Body flag without which the check finds nothing


class Registry:
    def __init__(self) -> None:
        self.checks: dict[str, Check] = {}
        self.registrations: list[str] = []  # every registration, duplicates included (for tests)

    def check(self, rule_id: str, only_if: str | None = None) -> Callable[[CheckFn], CheckFn]:
        if only_if is not None and only_if not in FACT_FLAGS:
            raise ValueError(f"rule {rule_id}: only_if {only_if!r} is not a facts.Body flag")

        def register(fn: CheckFn) -> CheckFn:
            self._add(Check(BY_ID[rule_id], fn, only_if=only_if))
            return fn

        return register

    def reported_by(self, layer: str, *rule_ids: str) -> None:
        for rule_id in rule_ids:
            self._add(Check(BY_ID[rule_id], None, layer))

    def _add(self, check: Check) -> None:
        self.registrations.append(check.rule.id)
        if check.rule.id in self.checks:
            raise ValueError(f"rule {check.rule.id} has two checks")
        self.checks[check.rule.id] = check

    def for_kind(
        self, kind: str, context: Context | None, generation: type[Protocol] = CURRENT
    ) -> list[tuple[CheckFn, str | None]]:
        """The checks that run on a body of `kind` with `context`, judged as `generation`, in
        catalogue order, each with its `only_if` flag: the one place where a rule's kinds,
        generations and context requirements are applied."""
        return [
            (check.fn, check.only_if)
            for rule in RULES
            if (check := self.checks.get(rule.id)) is not None
            and check.fn is not None
            and kind in rule.kinds
            and rule.applies_to(generation)
            and not missing_requirements(rule, context, kind)
        ]


def judged_generation(context: Context | None, contracts_version: str | None) -> type[Protocol]:
    """The generation a run judges as: `contracts_version` (the `--contracts-version` flag), else
    the context's, else v0.8.5 (ValueError naming the known versions for an unknown one). The
    flag wins, as `--now` wins over the context's `recorded_at`: a context file describes a
    deployment and is reused, the flag is what this one run is asked."""
    if contracts_version is not None:
        return generation_named(contracts_version)
    return context.generation if context is not None else CURRENT


def missing_requirements(rule: Rule, context: Context | None, kind: str | None = None) -> list[str]:
    """The requirements of `rule` that `context` does not meet (for a body of `kind`). A key
    the context gives is met even when empty: `retired_instant_layers: []` says the deployment
    retired none, so the rule is checked (and cannot fire), not skipped."""
    if kind is not None and kind not in rule.requires_for:
        return []
    return [
        key
        for key in rule.requires
        if context is None or (key != "context" and getattr(context, key) is None)
    ]


REGISTRY = Registry()
check = REGISTRY.check

REGISTRY.reported_by(
    "harness.inputs (reading the input)",
    "input.unreadable",
    "input.not-json",
    "input.limits",
    "input.empty",
    "json.duplicate-key",
)
REGISTRY.reported_by("the engine (no body shape fits)", "body.kind")
REGISTRY.reported_by(
    "harness.wire (the strict reader)",
    "json.missing-key",
    "json.unknown-key",
    "json.type",
    "op.legacy-5-field",
    "close.envelope",
    "close.empty",
    "close.op-count",
    "uint.decimal-string",
    "uint.json-number",
    "uint.range",
    "int.format",
    "int.string",
    "address.format",
    "address.eip55",
    "bool.type",
    "hex.format",
    "hex.length",
    "decimal.format",
    "tpsl.primary-type",
    "tpsl.types",
    "tpsl.types-no-domain",
    "tpsl.salt-string",
)


def _plain(value: Decimal) -> str:
    """A decimal without trailing zeros, in positional notation (0.0006, not 0.000600…)."""
    return pricing.format_decimal(value.normalize())


def _show(address: str) -> str:
    return cd.checksum(address)


def _same(a: str, b: str) -> bool:
    return a.lower() == b.lower()


# --- Signatures -----------------------------------------------------------------------------------


def _form(rule: str) -> CheckFn:
    def fn(env: Env, body: Body) -> None:
        for signed, _ in body.signed_by_signers():
            if signed.form_error is not None and signed.form_error.rule == rule:
                env.add(rule, signed.path, str(signed.form_error))

    fn.__name__ = f"check_{rule.replace('.', '_').replace('-', '_')}"
    return fn


for _rule in ("sig.length", "sig.v", "sig.range", "sig.low-s"):
    check(_rule, only_if="signature_problem")(_form(_rule))


@check("sig.unrecoverable", only_if="signature_problem")
def signature_recovers(env: Env, body: Body) -> None:
    for signed, _ in body.signed_by_signers():
        if signed.recover_error is not None:
            env.add("sig.unrecoverable", signed.path, str(signed.recover_error))


@check("sig.signer")
def signature_signer(env: Env, body: Body) -> None:
    for op in body.ops:
        signed = op.signed
        if op.explained or signed.recovered is None:
            continue
        if signed.recovered != address_bytes(op.op.signer):
            env.add("sig.signer", signed.path, _signer_mismatch(signed, op.op.signer, op))
    tpsl, signed = body.tpsl, body.tpsl_signed
    if (
        tpsl is not None
        and signed is not None
        and signed.recovered is not None
        and tpsl.signer is not None
        and signed.recovered != address_bytes(tpsl.signer)
    ):
        env.add("sig.signer", signed.path, _signer_mismatch(signed, tpsl.signer, None))


def _signer_mismatch(signed: Signed, signer: str, op: Op | None) -> str:
    domain = signed.domain
    assert domain is not None and signed.recovered is not None
    text = (
        f"recovers to {_show('0x' + signed.recovered.hex())}, expected the declared signer "
        f"{signer} (domain {domain.name!r} v{domain.version}, chain {domain.chain_id}, "
        f"{domain.verifying_contract})"
    )
    if op is not None and op.other_type:
        shown = "legacy 5-field" if op.legacy else "7-field"
        text += f"; the signature is over {op.other_type}, not the {shown} type shown"
    return text


@check("sig.session-key")
def signed_by_session_key(env: Env, body: Body) -> None:
    key = env.context.session_key  # type: ignore[union-attr]
    for op in body.ops:
        if op.op.signer != key:
            env.add(
                "sig.session-key",
                f"{op.op_path}.signer",
                f"expected the session key {key}, got {op.op.signer}",
            )
    if body.tpsl is not None and body.tpsl.signer is not None and body.tpsl.signer != key:
        env.add(
            "sig.session-key", "signer", f"expected the session key {key}, got {body.tpsl.signer}"
        )


# --- Other generations ----------------------------------------------------------------------------


@check("generation.v086-send-quote", only_if="call_problem")
def v086_send_quote(env: Env, body: Body) -> None:
    if env.generation.at_least(V0_8_6):
        return  # the capped open is this generation's own
    for op in body.ops:
        if op.selector == cd.SEND_QUOTE.selector:
            env.add(
                "generation.v086-send-quote",
                op.call_path,
                "a v0.8.6 open on a v0.8.5 context: the capped sendQuote (selector 0x0ac30baf, "
                f"with SolverFeeCaps); the v0.8.5 {op.slot} slot calls "
                f"0x{op.function.selector.hex()} {op.function.signature} (or judge the body as "
                "v0.8.6: contracts_version in the context, or --contracts-version 0.8.6)",
            )


@check("generation.v086-grant-operation")
def v086_grant_operation(env: Env, body: Body) -> None:
    if env.generation.grants_as_operations:
        return  # a grant operation is this generation's own (the grant.* rules judge it)
    layer = env.context.instant_layer if env.context is not None else None
    for op in body.ops:
        grant = op.selector in _GRANT_SELECTORS
        if grant or (layer is not None and op.op.target == layer):
            what = (
                f"callData 0x{op.selector.hex()} {cd.describe_selector(op.selector)}"
                if grant and op.selector is not None
                else f"target {op.op.target} (the InstantLayer itself)"
            )
            env.add(
                "generation.v086-grant-operation",
                op.op_path,
                f"a v0.8.6 grant operation on a v0.8.5 context: a delegation grant sent as a "
                f"SignedOperation ({what}); in v0.8.5 the account owner calls grantDelegation on "
                "the InstantLayer in a transaction",
            )


@check("generation.gasless-gateway", only_if="explained")
def gasless_gateway(env: Env, body: Body) -> None:
    for op in body.ops:
        if "generation.gasless-gateway" in op.explained:
            env.add(
                "generation.gasless-gateway",
                op.signed.path,
                "a GaslessGateway wallet operation: the 5-field SignedOperation signed under "
                'domain "GaslessGateway" v1; the InstantLayer\'s solver does not execute it',
            )


@check("generation.retired-instant-layer", only_if="explained")
def retired_instant_layer(env: Env, body: Body) -> None:
    for op in body.ops:
        layer = op.retired_layer
        if layer:
            env.add(
                "generation.retired-instant-layer",
                op.signed.path,
                f"signed for the retired InstantLayer {layer} (listed in retired_instant_layers); "
                f"the current one is {env.context.instant_layer}: delegations, nonces and replay "  # type: ignore[union-attr]
                "counts were not migrated, so re-sign for it",
            )


@check("deployment.other-layer", only_if="explained")
def other_deployment_layer(env: Env, body: Body) -> None:
    ctx = env.context
    for op in body.ops:
        if op.foreign_layer and ctx is not None:
            env.add(
                "deployment.other-layer",
                op.signed.path,
                f"signed for {op.foreign_layer}; this context's InstantLayer is "
                f"{ctx.instant_layer} on chain {ctx.chain_id}: re-sign for it",
            )


# --- One operation --------------------------------------------------------------------------------


@check("account.party-b")
def party_a(env: Env, body: Body) -> None:
    for op in body.ops:
        if op.op.signer_account.is_party_b:
            env.add(
                "account.party-b",
                f"{op.op_path}.signerAccount.isPartyB",
                "expected false: a frontend operation is a PartyA operation (true makes the "
                "InstantLayer require signer == signerAccount and a registered PartyB)",
            )


@check("maxuses.one")
def max_uses_one(env: Env, body: Body) -> None:
    for op in body.ops:
        uses = getattr(op.op, "max_uses", 1)
        if uses != 1:
            what = (
                "0 allows unlimited replays of this signed operation until its deadline"
                if uses == 0
                else f"{uses} allows the same signed operation to execute {uses} times"
            )
            env.add("maxuses.one", f"{op.op_path}.maxUses", f"expected 1: {what}")


@check("deadline.never")
def deadline_never(env: Env, body: Body) -> None:
    if env.generation.at_least(V0_8_6):
        return  # deadline.none names it
    for op in body.ops:
        if op.op.replay_attack_header.deadline == 0:
            env.add(
                "deadline.never",
                f"{op.op_path}.replayAttackHeader.deadline",
                "0 means the signed operation never expires; a deadline bounds a leaked payload",
            )


@check("deadline.none")
def deadline_none(env: Env, body: Body) -> None:
    # real-world.md §2.8: v0.8.6 reads deadline 0 as "no deadline" (`deadline != 0 && deadline <
    # now` reverts), the form gasless relays sign; on v0.8.5 the guide's warning stays
    # (deadline.never). Pinned by tests/validator/test_v086.py.
    if not env.generation.at_least(V0_8_6):
        return
    for op in body.ops:
        if op.op.replay_attack_header.deadline == 0:
            env.add(
                "deadline.none",
                f"{op.op_path}.replayAttackHeader.deadline",
                "0: no deadline (v0.8.6 reads deadline 0 as none); the operation stays valid "
                "until executed or its salt is spent",
            )


@check("deadline.expired")
def deadline_expired(env: Env, body: Body) -> None:
    for op in body.ops:
        deadline = op.op.replay_attack_header.deadline
        if deadline != 0 and deadline <= env.now:
            env.add(
                "deadline.expired",
                f"{op.op_path}.replayAttackHeader.deadline",
                f"expected a time after now ({env.now}), got {deadline}",
            )


@check("salt.zero")
def salt_nonzero(env: Env, body: Body) -> None:
    for op in body.ops:
        if not any(op.op.replay_attack_header.salt):
            env.add(
                "salt.zero",
                f"{op.op_path}.replayAttackHeader.salt",
                "expected 32 random bytes, got all zeros",
            )


@check("salt.fee-limit")
def salt_fee_limit(env: Env, body: Body) -> None:
    # real-world.md §2.9: a fee-limit salt carries 64 caller bits by design; it is decoded and
    # shown, never called low-entropy (no salt rule judges a salt's entropy: salt.zero refuses
    # only the all-zero salt, which a tagged salt never is).
    if env.generation.fee_limit_salt_tag is None:
        return
    for op in body.ops:
        limit = fee_limit_salt.decode(op.op.replay_attack_header.salt)
        if limit is not None:
            fee = _plain(pricing.from_wei(limit.max_fee_wei))
            env.add(
                "salt.fee-limit",
                f"{op.op_path}.replayAttackHeader.salt",
                f"a fee-limit salt: the relay may take at most {fee} ({limit.max_fee_wei} wei, "
                f"else FeeLimitExceeded); caller salt 0x{limit.caller_salt.hex()}",
            )


@check("salt.unique")
def salt_unique(env: Env, body: Body) -> None:
    seen: dict[bytes, str] = {}
    for op in body.ops:
        salt = op.op.replay_attack_header.salt
        if not any(salt):
            continue  # salt.zero says it
        if salt in seen:
            env.add(
                "salt.unique",
                f"{op.op_path}.replayAttackHeader.salt",
                f"the same salt as {seen[salt]}: expected a fresh 32-byte salt per operation",
            )
        else:
            seen[salt] = op.path


@check("calldata.target")
def call_target(env: Env, body: Body) -> None:
    ctx = env.context
    assert ctx is not None
    other_generation = not env.generation.at_least(V0_8_6)
    for op in body.ops:
        if (other_generation and op.selector in _GENERATION_SELECTORS) or (
            op.op.target == ctx.instant_layer
        ):
            continue  # a generation rule names what it is
        slot = op.slot
        target = ctx.account_layer if slot == "addMargin" else ctx.symmio_core
        name = "AccountLayer" if slot == "addMargin" else "Symmio core"
        if op.op.target != target:
            env.add(
                "calldata.target",
                f"{op.op_path}.target",
                f"expected {name} {target} for {op.function.name}, got {op.op.target}",
            )


@check("flex.bounds")
def flex_bounds(env: Env, body: Body) -> None:
    for op in body.ops:
        size = len(op.op.call_data)
        for i, flex in enumerate(getattr(op.op, "flex_fields", ())):
            end = flex.offset + flex.length + 4
            if end > size:
                env.add(
                    "flex.bounds",
                    f"{op.op_path}.flexFields[{i}]",
                    f"offset {flex.offset} + length {flex.length} + 4 = {end} exceeds callData's "
                    f"{size} bytes (FlexFieldOutOfBounds)",
                )


@check("calldata.short", only_if="call_problem")
def call_short(env: Env, body: Body) -> None:
    for op in body.ops:
        if op.selector is None:
            env.add(
                "calldata.short",
                op.call_path,
                f"expected at least a 4-byte selector, got {len(op.op.call_data)} bytes "
                "(CallDataLengthMismatch)",
            )


@check("calldata.delegation-key", only_if="call_problem")
def call_delegation_key(env: Env, body: Body) -> None:
    for op in body.ops:
        if op.selector in cd.DELEGATION_ONLY_KEYS:
            fn = op.function
            env.add(
                "calldata.delegation-key",
                op.call_path,
                f"0x{op.selector.hex()} is {cd.describe_selector(op.selector)}: it belongs in a "  # type: ignore[union-attr]
                f"delegation's selector list; this slot calls 0x{fn.selector.hex()} "
                f"{fn.signature}",
            )


@check("calldata.selector", only_if="call_problem")
def call_selector(env: Env, body: Body) -> None:
    for op in body.ops:
        sel = op.selector
        fn = op.function
        if (
            sel is None
            or sel == fn.selector
            or sel in cd.DELEGATION_ONLY_KEYS
            or (sel in _GENERATION_SELECTORS and not env.generation.at_least(V0_8_6))
        ):
            continue
        env.add(
            "calldata.selector",
            op.call_path,
            f"expected 0x{fn.selector.hex()} {fn.signature} in the {op.slot} slot, got "
            f"0x{sel.hex()} ({cd.describe_selector(sel)})",
        )


@check("calldata.decode", only_if="call_problem")
def call_decodes(env: Env, body: Body) -> None:
    for op in body.ops:
        if op.decode_error is not None:
            env.add("calldata.decode", op.call_path, op.decode_error)


@check("calldata.enum")
def call_enums(env: Env, body: Body) -> None:
    for op in body.ops:
        args = op.args
        if args is None:
            continue
        if op.slot == "addMargin" and args["vaIsolationType"] > _MAX_VA_ISOLATION:
            env.add(
                "calldata.enum",
                op.call_path,
                f"vaIsolationType {args['vaIsolationType']}: expected 0..3 (POSITION, MARKET, "
                "MARKET_LONG, MARKET_SHORT)",
            )
        names = ("positionType", "orderType") if op.slot == "sendQuote" else ("orderType",)
        if op.slot == "addMargin":
            names = ()
        for name in names:
            enum, top = (
                (PositionType, _MAX_POSITION) if name == "positionType" else (OrderType, _MAX_ORDER)
            )
            if args[name] > top:
                allowed = ", ".join(f"{m.name}={m.value}" for m in enum)
                env.add("calldata.enum", op.call_path, f"{name} {args[name]}: expected {allowed}")


@check("deadline.call-expired")
def call_deadline(env: Env, body: Body) -> None:
    for op in body.ops:
        if op.args is None or op.slot == "addMargin":
            continue
        deadline = op.args["deadline"]
        if deadline <= env.now:
            env.add(
                "deadline.call-expired",
                op.call_path,
                f"{op.function.name} deadline argument {deadline} is not after now ({env.now})",
            )


# --- instant_open ---------------------------------------------------------------------------------


@check("open.add-margin-absent")
def add_margin_absent(env: Env, body: Body) -> None:
    if not body.add_margin_present and body.send_quote is not None:
        env.add(
            "open.add-margin-absent",
            "",
            "no addMargin: the documented {addMargin?, sendQuote} shape; the sendQuote is "
            "funded only if the next virtual account already holds the margin",
        )


@check("open.signer-account")
def open_signer_account(env: Env, body: Body) -> None:
    ctx = env.context
    if ctx is not None and ctx.sub_account is not None:
        for op in body.ops:
            if op.op.signer_account.addr != ctx.sub_account:
                env.add(
                    "open.signer-account",
                    f"{op.op_path}.signerAccount.addr",
                    f"expected the sub-account {ctx.sub_account}, got {op.op.signer_account.addr}",
                )
        return
    add, send = body.add_margin, body.send_quote
    if add is not None and send is not None:
        a, b = add.op.signer_account.addr, send.op.signer_account.addr
        if a != b:
            env.add(
                "open.signer-account",
                f"{send.op_path}.signerAccount.addr",
                f"expected the sub-account {a} (addMargin's signerAccount), got {b}",
            )


@check("open.add-margin-account")
def add_margin_account(env: Env, body: Body) -> None:
    op = body.add_margin
    if op is None or op.args is None:
        return
    account = op.op.signer_account.addr
    if not _same(op.args["subAccount"], account):
        env.add(
            "open.add-margin-account",
            op.call_path,
            f"addMarginToNextVA moves margin from {_show(op.args['subAccount'])}, expected the "
            f"signerAccount {account}",
        )


def _both_args(body: Body) -> tuple[dict[str, Any], dict[str, Any]] | None:
    add, send = body.add_margin, body.send_quote
    if add is None or send is None or add.args is None or send.args is None:
        return None
    return add.args, send.args


@check("open.symbol")
def open_symbol(env: Env, body: Body) -> None:
    both = _both_args(body)
    if both is not None and both[0]["symbolId"] != both[1]["symbolId"]:
        env.add(
            "open.symbol",
            body.add_margin.call_path,  # type: ignore[union-attr]
            f"addMarginToNextVA is for symbol {both[0]['symbolId']}, sendQuote for symbol "
            f"{both[1]['symbolId']}: expected the same symbol",
        )


@check("open.va-isolation")
def open_va_isolation(env: Env, body: Body) -> None:
    both = _both_args(body)
    if both is None:
        return
    va_iso, position = both[0]["vaIsolationType"], both[1]["positionType"]
    want = _SIDE_OF_VA_ISOLATION.get(va_iso)
    if want is not None and position in (0, 1) and want != position:
        long_, short = _MARKET_LONG, _MARKET_SHORT
        other = short if va_iso == long_ else long_
        env.add(
            "open.va-isolation",
            body.add_margin.call_path,  # type: ignore[union-attr]
            f"vaIsolationType {VirtualAccountIsolationType(va_iso).name} with a "
            f"{PositionType(position).name.lower()} quote: expected {other.name}",
        )


def _send_args(body: Body) -> tuple[Op, dict[str, Any]] | None:
    op = body.send_quote
    if op is None or op.args is None:
        return None
    return op, op.args


@check("open.hedger")
def open_hedger(env: Env, body: Body) -> None:
    found = _send_args(body)
    hedger = env.context.hedger  # type: ignore[union-attr]
    if found is None:
        return
    op, args = found
    whitelist = args["partyBsWhiteList"]
    if len(whitelist) != 1 or not _same(whitelist[0], hedger):
        shown = ", ".join(_show(a) for a in whitelist)
        env.add(
            "open.hedger",
            op.call_path,
            f"partyBsWhiteList is [{shown}], expected [{hedger}] (the hedger the sub-account is "
            "bound to)",
        )


@check("open.affiliate")
def open_affiliate(env: Env, body: Body) -> None:
    found = _send_args(body)
    affiliate = env.context.affiliate  # type: ignore[union-attr]
    if found is not None and not _same(found[1]["affiliate"], affiliate):
        env.add(
            "open.affiliate",
            found[0].call_path,
            f"affiliate is {_show(found[1]['affiliate'])}, expected {affiliate}",
        )


# upnlSig: what the real core reads on an instant open, and so which client forms conform, is
# in `harness.upnl_sig` (perps-core contracts/facets/PartyA/PartyAFacetImpl.sol
# @cae77f2cee9e7465beb88c8752a48b38ee43104e, sendQuote: Muon is skipped for a PartyA bound to the
# whitelisted PartyB; upnl feeds the available balance; price is a MARKET quote's fee basis).
# The guide's sentinel, the SDK placeholder and the SDK's one flex field over the region all
# conform (real-world.md §3): each rule below refuses only what none of them sends.


@check("open.upnl-sig")
def open_upnl_sig(env: Env, body: Body) -> None:
    found = _send_args(body)
    if found is None:
        return
    carried = _upnl_sig_data(found[1]["upnlSig"])
    if carried:
        env.add(
            "open.upnl-sig",
            found[0].call_path,
            f"upnlSig carries {'; '.join(carried)}: expected a placeholder (the guide's all-zero "
            "sentinel, or the SDK's: zero upnl, zero or empty reqId and signatures, any "
            "timestamp); Muon is skipped for a bound PartyA, so the core would trust these "
            "unverified values, and the solver fills the real attestation",
        )


def _upnl_sig_data(sig: tuple[Any, ...]) -> list[str]:
    """What in a SingleUpnlAndPriceSig is more than a placeholder (price and timestamp aside)."""
    req_id, _timestamp, upnl, _price, gateway_sig, (signature, owner, nonce) = sig
    out = []
    if upnl:
        out.append(f"upnl {upnl} (the core adds it to the PartyA's available balance)")
    if any(req_id):
        out.append(f"a reqId of {len(req_id)} bytes, not all zero")
    if any(gateway_sig):
        out.append(f"a gatewaySignature of {len(gateway_sig)} bytes, not all zero")
    if signature or int(owner, 16) or int(nonce, 16):
        out.append("a Schnorr signature (sigs.signature, owner, nonce)")
    return out


@check("open.upnl-sig-price")
def open_upnl_sig_price(env: Env, body: Body) -> None:
    found = _send_args(body)
    if found is None:
        return
    op, args = found
    price, requested = args["upnlSig"][3], args["price"]
    if args["orderType"] == OrderType.MARKET and price not in (0, requested):
        env.add(
            "open.upnl-sig-price",
            op.call_path,
            f"upnlSig.price {_wei(price)}: expected 0 (the guide's sentinel) or the quote's "
            f"requested price {_wei(requested)} (the SDK's placeholder); the core checks and "
            "charges a MARKET quote's opening fee on upnlSig.price, unverified",
        )


def _wei(value: int) -> str:
    return f"{pricing.format_decimal(pricing.from_wei(value))} ({value} wei)"


def _flex_fields(op: Op) -> tuple[Any, ...]:
    return getattr(op.op, "flex_fields", ())


@check("open.upnl-sig-flex-count")
def open_upnl_sig_flex_count(env: Env, body: Body) -> None:
    op = body.send_quote
    if op is not None and len(_flex_fields(op)) > 1:
        env.add(
            "open.upnl-sig-flex-count",
            f"{op.op_path}.flexFields",
            f"{len(_flex_fields(op))} flex fields on sendQuote: expected none, or exactly one "
            "over the upnlSig region (the SDK delegates that range only)",
        )


@check("open.upnl-sig-flex-range")
def open_upnl_sig_flex_range(env: Env, body: Body) -> None:
    op = body.send_quote
    if op is None or op.args is None or not _flex_fields(op):
        return
    data = op.op.call_data
    where = upnl_sig_region(data)  # the calldata decoded canonically: the heads are in order
    for i, flex in enumerate(_flex_fields(op)):
        if flex.offset + flex.length + 4 > len(data):
            continue  # flex.bounds says it
        if (flex.offset, flex.length) != (where.offset, where.length):
            env.add(
                "open.upnl-sig-flex-range",
                f"{op.op_path}.flexFields[{i}]",
                f"covers argument bytes [{flex.offset}, {flex.offset + flex.length}) (offset "
                f"{flex.offset}, length {flex.length}): expected exactly the upnlSig region "
                f"[{where.offset}, {where.end}) (offset {where.offset}, length {where.length}, "
                "from upnlSig's and data's head words in this callData); a filler could "
                "otherwise rewrite signed terms of the quote",
            )


@check("open.upnl-sig-flex-filler")
def open_upnl_sig_flex_filler(env: Env, body: Body) -> None:
    op = body.send_quote
    hedger = env.context.hedger  # type: ignore[union-attr]
    if op is None:
        return
    for i, flex in enumerate(_flex_fields(op)):
        if not _same(flex.authorized_flex_filler, hedger):
            env.add(
                "open.upnl-sig-flex-filler",
                f"{op.op_path}.flexFields[{i}].authorizedFlexFiller",
                f"{flex.authorized_flex_filler}: expected the hedger {hedger} (the PartyB the "
                "solver executes as); another filler could write the quote's upnlSig",
            )


@check("open.add-margin-flex")
def open_add_margin_flex(env: Env, body: Body) -> None:
    op = body.add_margin
    if op is not None and _flex_fields(op):
        env.add(
            "open.add-margin-flex",
            f"{op.op_path}.flexFields",
            f"{len(_flex_fields(op))} flex field(s) on addMarginToNextVA: expected none (the "
            "SDK keeps addMargin fully fixed; a filler could change the margin moved)",
        )


def _quote_uuid(op: Op) -> tuple[str | None, str | None]:
    """(uuid, error) of sendQuote's data, decoded once per operation."""
    if op.quote_uuid is None:
        try:
            op.quote_uuid = (cd.decode_quote_data(op.args["data"]), None)  # type: ignore[index]
        except CalldataError as exc:
            op.quote_uuid = (None, str(exc))
    return op.quote_uuid


@check("open.quote-data")
def open_quote_data(env: Env, body: Body) -> None:
    found = _send_args(body)
    if found is None:
        return
    _, error = _quote_uuid(found[0])
    if error is not None:
        env.add(
            "open.quote-data",
            found[0].call_path,
            f"data: expected abi.encode((string uuid)); {error}",
        )


@check("open.quote-uuid")
def open_quote_uuid(env: Env, body: Body) -> None:
    found = _send_args(body)
    if found is None:
        return
    uuid, _ = _quote_uuid(found[0])
    if uuid is not None and not _UUID.match(uuid):
        shown = uuid if len(uuid) <= 48 else uuid[:45] + "..."
        env.add(
            "open.quote-uuid",
            found[0].call_path,
            f"data holds {shown!r}: expected a UUID such as str(uuid.uuid4())",
        )


def _symbol_refs(body: Body) -> list[tuple[int, Op | None]]:
    """The symbol ids the body names, each with its operation (None: the TP/SL message)."""
    refs: list[tuple[int, Op | None]] = [
        (op.args["symbolId"], op) for op in body.ops if op.args and op.slot != "close"
    ]
    if body.tpsl is not None and body.tpsl.order is not None:
        refs.append((body.tpsl.order.symbol_id, None))
    return refs


@check("symbol.known")
def symbol_known(env: Env, body: Body) -> None:
    ctx = env.context
    assert ctx is not None and ctx.symbols is not None
    for symbol_id, op in _symbol_refs(body):
        if ctx.symbol(symbol_id) is None:
            known = ", ".join(str(s.id) for s in ctx.symbols) or "none"
            where = op.call_path if op is not None else "typedData.message.symbolId"
            env.add(
                "symbol.known", where, f"symbolId {symbol_id} is not a context symbol ({known})"
            )


@check("open.precision")
def open_precision(env: Env, body: Body) -> None:
    found = _send_args(body)
    if found is None:
        return
    op, args = found
    symbol = env.context.symbol(args["symbolId"])  # type: ignore[union-attr]
    if symbol is None:
        return
    for name, places in (
        ("price", symbol.price_precision),
        ("quantity", symbol.quantity_precision),
    ):
        wei = args[name]
        if wei % 10 ** (pricing.WEI_DECIMALS - places):
            env.add(
                "open.precision",
                op.call_path,
                f"{name} {pricing.format_decimal(pricing.from_wei(wei))} has more than {places} "
                f"decimals ({symbol.name}'s {name} precision)",
            )


# --- v0.8.6 opens (real-world.md §2.1, §2.2) ------------------------------------------------


@check("open.v086-capped-required")
def open_capped_required(env: Env, body: Body) -> None:
    legacy = env.generation.legacy_open_function
    op = body.send_quote
    if legacy is None or op is None or op.called is None or op.called.name != legacy:
        return
    capped = cd.open_function(env.generation)
    env.add(
        "open.v086-capped-required",
        op.call_path,
        f"0x{op.called.selector.hex()} {legacy} on v{env.generation.version}: the legacy open "
        "still exists but stores zero caps (SolverFeeCaps 0, 0); send the capped "
        f"0x{capped.selector.hex()} {capped.name}(..., SolverFeeCaps) with the symbol's "
        "min_open_solver_fee_cap / min_close_solver_fee_cap or more",
    )


@check("open.v086-fee-cap-minimum")
def open_fee_cap_minimum(env: Env, body: Body) -> None:
    found = _send_args(body)
    if found is None or "solverFeeCaps" not in found[1]:
        return
    op, args = found
    symbol = env.context.symbol(args["symbolId"])  # type: ignore[union-attr]
    if symbol is None:
        return
    caps = args["solverFeeCaps"]
    for i, least_wei in enumerate(_fee_cap_minimums_wei(symbol)):
        if caps[i] < least_wei:
            name, key = _FEE_CAPS[i]
            env.add(
                "open.v086-fee-cap-minimum",
                op.call_path,
                f"solverFeeCaps.{name} {_plain(pricing.from_wei(caps[i]))} is below "
                f"{symbol.name}'s {key} {_plain(getattr(symbol, key))} (contract-symbols): the "
                "quote must allow at least the minimum",
            )


#: each SolverFeeCaps member and the symbol field holding its served minimum
_FEE_CAPS = (
    ("openRateCap", "min_open_solver_fee_cap"),
    ("closeRateCap", "min_close_solver_fee_cap"),
)


@lru_cache(maxsize=256)
def _fee_cap_minimums_wei(symbol: Symbol) -> tuple[int, int]:
    """The symbol's minimum caps in wei, rounded up: an integer cap is below a minimum exactly
    when it is below the minimum's ceiling in wei (the caps are compared as the contract holds
    them, never converted per body)."""
    return tuple(  # type: ignore[return-value]
        pricing.to_wei_rounded_up(getattr(symbol, key), key) for _, key in _FEE_CAPS
    )


# --- v0.8.6 grant operations (real-world.md §2.5; each rule names the InstantLayer's revert) -----
#
# The rules judge one grant operation as the InstantLayer verifies it (InstantLayer.sol@8138803,
# run on py-evm for real-world.md): the operation's own form (InvalidGrantOperation, raised
# directly), then each DelegationInfo (InvalidDelegation, DelegationExpired, SelfDelegation).
# grantDelegations is modelled from the v0.8.6 docs and the SDK's relay (the deployed layer relays
# it; the newest readable source refuses it as a self-target): real-world.md §2.5.

_GRANT = "on v0.8.6 a grant operation"


def _grant_ops(env: Env, body: Body) -> list[Op]:
    """The grant operations of a body judged as a generation that has them."""
    return body.ops if env.generation.grants_as_operations else []


def _grant_infos(op: Op) -> list[tuple[str, tuple[Any, ...]]]:
    """(path, DelegationInfo tuple) of each delegation the operation grants."""
    if op.args is None:
        return []
    if "infos" in op.args:
        return [(f"{op.call_path} infos[{i}]", info) for i, info in enumerate(op.args["infos"])]
    return [(f"{op.call_path} info", op.args["info"])]


@check("grant.target")
def grant_target(env: Env, body: Body) -> None:
    layer = env.context.instant_layer  # type: ignore[union-attr]
    for op in _grant_ops(env, body):
        if op.op.target != layer:
            env.add(
                "grant.target",
                f"{op.op_path}.target",
                f"{op.op.target}: {_GRANT} targets the InstantLayer itself ({layer}), which "
                "runs grantDelegation / grantDelegations for the owner",
            )


@check("grant.selector")
def grant_selector(env: Env, body: Body) -> None:
    for op in _grant_ops(env, body):
        if op.called is None and op.selector is not None:
            env.add(
                "grant.selector",
                op.call_path,
                f"0x{op.selector.hex()} ({cd.describe_selector(op.selector)}): {_GRANT} calls "
                f"grantDelegation 0x{cd.GRANT_DELEGATION.selector.hex()} or grantDelegations "
                f"0x{cd.GRANT_DELEGATIONS.selector.hex()}; any other self-target call reverts "
                "InvalidGrantOperation() 0xf7b39f62",
            )
        elif op.decode_error is not None:
            env.add(
                "grant.selector",
                op.call_path,
                f"{op.function.name} arguments do not decode: {op.decode_error}",
            )


@check("grant.flex-fields")
def grant_flex_fields(env: Env, body: Body) -> None:
    for op in _grant_ops(env, body):
        if _flex_fields(op):
            env.add(
                "grant.flex-fields",
                f"{op.op_path}.flexFields",
                f"{len(_flex_fields(op))} flex field(s): {_GRANT} has none "
                "(InvalidGrantOperation() 0xf7b39f62, raised directly)",
            )


@check("grant.max-uses")
def grant_max_uses(env: Env, body: Body) -> None:
    for op in _grant_ops(env, body):
        uses = getattr(op.op, "max_uses", 1)
        if uses != 1:
            env.add(
                "grant.max-uses",
                f"{op.op_path}.maxUses",
                f"{uses}: {_GRANT} has maxUses 1 (InvalidGrantOperation() 0xf7b39f62, raised "
                "directly)",
            )


@check("grant.signer-owner")
def grant_signer_owner(env: Env, body: Body) -> None:
    owner = env.context.owner  # type: ignore[union-attr]
    for op in _grant_ops(env, body):
        if not _same(op.op.signer, owner):  # type: ignore[arg-type]
            hint = (
                " (the session key: a key cannot grant itself)"
                if env.context.session_key is not None  # type: ignore[union-attr]
                and _same(op.op.signer, env.context.session_key)  # type: ignore[union-attr]
                else ""
            )
            env.add(
                "grant.signer-owner",
                f"{op.op_path}.signer",
                f"{op.op.signer}{hint}: {_GRANT} is signed by the account owner {owner} "
                "(InvalidDelegation 0xa9e649e9)",
            )


@check("grant.party-b")
def grant_party_b(env: Env, body: Body) -> None:
    for op in _grant_ops(env, body):
        if op.op.signer_account.is_party_b:
            env.add(
                "grant.party-b",
                f"{op.op_path}.signerAccount.isPartyB",
                f"true: {_GRANT} is for a PartyA account; a PartyB account cannot delegate "
                "(InvalidDelegation 0xa9e649e9)",
            )


@check("grant.account")
def grant_account(env: Env, body: Body) -> None:
    for op in _grant_ops(env, body):
        account = op.op.signer_account.addr
        for path, info in _grant_infos(op):
            (addr, _), *_ = info
            if not _same(addr, account):  # the exact address (checksum case aside)
                env.add(
                    "grant.account",
                    path,
                    f"account.addr {_show(addr)} is not the operation's signerAccount {account}: "
                    "an owner grants only on the account it signs for (InvalidDelegation "
                    "0xa9e649e9)",
                )


@check("grant.empty")
def grant_empty(env: Env, body: Body) -> None:
    for op in _grant_ops(env, body):
        if op.args is not None and "infos" in op.args and not op.args["infos"]:
            env.add(
                "grant.empty",
                op.call_path,
                "grantDelegations with no DelegationInfo: expected one or more (InvalidDelegation "
                "0xa9e649e9)",
            )


@check("grant.selectors-empty")
def grant_selectors_empty(env: Env, body: Body) -> None:
    for op in _grant_ops(env, body):
        for path, (_, signer, selectors, _) in _grant_infos(op):
            if not selectors:
                env.add(
                    "grant.selectors-empty",
                    path,
                    f"delegates no selector to {_show(signer)}: expected the functions the key "
                    "may call (InvalidDelegation 0xa9e649e9)",
                )


@check("grant.expired")
def grant_expired(env: Env, body: Body) -> None:
    for op in _grant_ops(env, body):
        for path, (*_, expiry) in _grant_infos(op):
            if expiry <= env.now:
                env.add(
                    "grant.expired",
                    path,
                    f"expiryTimestamp {expiry} is not after now ({env.now}): "
                    f"DelegationExpired({expiry}) 0x12b6b89c",
                )


@check("grant.self-delegation")
def grant_self_delegation(env: Env, body: Body) -> None:
    for op in _grant_ops(env, body):
        for path, (_, delegate, _, _) in _grant_infos(op):
            if _same(delegate, op.op.signer):
                env.add(
                    "grant.self-delegation",
                    path,
                    f"delegatedSigner {_show(delegate)} is the owner who signs the grant: "
                    "SelfDelegation 0x52e0d047 (an owner needs no delegation)",
                )


@check("grant.session-key-set")
def grant_session_key_set(env: Env, body: Body) -> None:
    legacy = env.generation.legacy_open_function
    if legacy is None:
        return
    old = cd.NAMED[legacy].selector
    want = ", ".join(f"0x{s.hex()}" for s in cd.session_key_selectors(env.generation))
    for op in _grant_ops(env, body):
        for path, (_, delegate, selectors, _) in _grant_infos(op):
            if old in selectors:
                env.add(
                    "grant.session-key-set",
                    path,
                    f"grants {_show(delegate)} 0x{old.hex()} {legacy}, of the v0.8.5 session-key "
                    f"set: on v{env.generation.version} that open stores zero caps and the "
                    f"capped sendQuote is not granted; re-grant with the v"
                    f"{env.generation.version} set [{want}]",
                )


# --- instant_close --------------------------------------------------------------------------------


@check("close.signer-account")
def close_signer_account(env: Env, body: Body) -> None:
    ctx = env.context
    assert ctx is not None
    for op in body.ops:
        addr = op.op.signer_account.addr
        if addr != ctx.virtual_account:
            hint = (
                " (that is the sub-account: a close is signed for the VA)"
                if addr == ctx.sub_account
                else ""
            )
            env.add(
                "close.signer-account",
                f"{op.op_path}.signerAccount.addr",
                f"expected the virtual account {ctx.virtual_account}, got {addr}{hint}",
            )


# --- TP/SL ----------------------------------------------------------------------------------------

_MESSAGE = "typedData.message"


@check("tpsl.domain")
def tpsl_domain(env: Env, body: Body) -> None:
    parts, want = body.tpsl, env.tpsl_domain
    if parts is None or parts.domain is None or want is None or parts.domain == want:
        return
    got = parts.domain
    diffs = [
        f"{key} {a!r} (expected {b!r})"
        for key, a, b in (
            ("name", got.name, want.name),
            ("version", got.version, want.version),
            ("chainId", got.chain_id, want.chain_id),
            ("verifyingContract", got.verifying_contract, want.verifying_contract),
        )
        if a != b
    ]
    known = _known_verifier(got.verifying_contract)
    env.add("tpsl.domain", "typedData.domain", "differs: " + "; ".join(diffs) + known)


def _known_verifier(address: str) -> str:
    """What a TP/SL domain's verifyingContract is, when it is a real deployment's COH wallet or
    InstantLayer (the SDK's changelog: orders signed for another chain's COH wallet)."""
    coh = deployments.owner_of_coh_wallet(address)
    if coh is not None:
        return f" ({address} is the COH wallet of {coh.name}, chain {coh.chain_id})"
    layer = deployments.owner_of_layer(address)
    if layer is not None:
        profile, entry = layer
        return f" ({address} is {profile.name}'s InstantLayer, {entry.status.value})"
    return ""


def _order_field(rule: str, key: str, context_key: str) -> CheckFn:
    def fn(env: Env, body: Body) -> None:
        order = body.tpsl.order if body.tpsl is not None else None
        expected = getattr(env.context, context_key)
        if order is not None and getattr(order, context_key) != expected:
            got = getattr(order, context_key)
            env.add(rule, f"{_MESSAGE}.{key}", f"expected {expected}, got {got}")

    fn.__name__ = f"check_{context_key}"
    return fn


check("tpsl.virtual-account")(
    _order_field("tpsl.virtual-account", "virtualAccount", "virtual_account")
)
check("tpsl.sub-account")(_order_field("tpsl.sub-account", "subAccount", "sub_account"))
check("tpsl.affiliate")(_order_field("tpsl.affiliate", "affiliate", "affiliate"))


def _legs(body: Body) -> list[tuple[str, Leg, Leg]]:
    order = body.tpsl.order if body.tpsl is not None else None
    if order is None:
        return []
    return [
        ("takeProfit", order.take_profit, ZERO_LEG),
        ("stopLoss", order.stop_loss, ZERO_LEG),
        ("sendQuote", order.send_quote, ZERO_SEND_QUOTE),
    ]


@check("tpsl.enum")
def tpsl_enum(env: Env, body: Body) -> None:
    order = body.tpsl.order if body.tpsl is not None else None
    if order is None:
        return
    if order.position_type > _MAX_POSITION:
        env.add(
            "tpsl.enum",
            f"{_MESSAGE}.positionType",
            f"{order.position_type}: expected LONG=0 or SHORT=1",
        )
    for name, leg, _ in _legs(body):
        if leg.order_type > _MAX_ORDER:
            env.add(
                "tpsl.enum",
                f"{_MESSAGE}.{name}.orderType",
                f"{leg.order_type}: expected LIMIT=0 or MARKET=1",
            )


@check("tpsl.price-type")
def tpsl_price_type(env: Env, body: Body) -> None:
    allowed = CURRENT.conditional_price_types
    for name, leg, _ in _legs(body):
        if leg.conditional_price_type not in allowed:
            env.add(
                "tpsl.price-type",
                f"{_MESSAGE}.{name}.conditionalPriceType",
                f'expected "market" or "last_close", got {leg.conditional_price_type!r}',
            )


@check("tpsl.zero-leg")
def tpsl_zero_leg(env: Env, body: Body) -> None:
    for name, leg, zero in _legs(body):
        if Decimal(leg.quantity) == 0 and leg != zero:
            env.add(
                "tpsl.zero-leg",
                f"{_MESSAGE}.{name}",
                f"an unused leg (quantity 0) must be exactly {_leg_text(zero)}, got "
                f"{_leg_text(leg)}",
            )


@check("tpsl.leg-used")
def tpsl_leg_used(env: Env, body: Body) -> None:
    legs = _legs(body)
    if legs and all(Decimal(leg.quantity) == 0 for _, leg, _ in legs):
        env.add(
            "tpsl.leg-used",
            _MESSAGE,
            "takeProfit, stopLoss and sendQuote are all zero legs: expected at least one leg with "
            "a quantity",
        )


@check("tpsl.precision")
def tpsl_precision(env: Env, body: Body) -> None:
    order = body.tpsl.order if body.tpsl is not None else None
    symbol = env.context.symbol(order.symbol_id) if order is not None else None  # type: ignore[union-attr]
    if symbol is None:
        return
    for name, leg, _ in _legs(body):
        for key, text, places in (
            ("quantity", leg.quantity, symbol.quantity_precision),
            ("price", leg.price, symbol.price_precision),
            ("conditionalPrice", leg.conditional_price, symbol.price_precision),
        ):
            if not pricing.fits_precision(Decimal(text), places):
                env.add(
                    "tpsl.precision",
                    f"{_MESSAGE}.{name}.{key}",
                    f"{text} has more than {places} decimals ({symbol.name}'s "
                    f"{'quantity' if key == 'quantity' else 'price'} precision; the COH answers "
                    "407)",
                )


def _leg_text(leg: Leg) -> str:
    return json.dumps(leg_to_wire(leg))


# --- TP/SL against the market: orders the COH cannot hold (docs/protocol.md §10) --------------
#
# The mock COH judges every order with these same checks, its context carrying the live mark,
# its served limits and the position's open quantity (`ConditionalOrders.judging_context`);
# a capture is judged against the context file's `mark_prices`, `coh_limits`, `open_quantities`.
# Each leg trips one rule: a zero trigger is not also "wrong side", a trigger on the wrong side
# is not also "too close", as the SDK's `validateTpSl` reports one error per side (sign rule,
# then distance, then the TP/SL spread only when both sides passed).

_TPSL_LEGS = (("takeProfit", "take-profit"), ("stopLoss", "stop-loss"))
_PERCENT_SHOWN = Decimal("0.0001")


def _used_tpsl_legs(body: Body) -> list[tuple[str, str, Leg]]:
    """The used take-profit / stop-loss legs: (message key, what it is, leg)."""
    order = body.tpsl.order if body.tpsl is not None else None
    if order is None:
        return []
    legs = {"takeProfit": order.take_profit, "stopLoss": order.stop_loss}
    return [(key, what, legs[key]) for key, what in _TPSL_LEGS if Decimal(legs[key].quantity) != 0]


def _long(body: Body) -> bool | None:
    """True for a long position, False for a short one, None for an unknown positionType."""
    order = body.tpsl.order if body.tpsl is not None else None
    if order is None or order.position_type > _MAX_POSITION:
        return None
    return order.position_type == PositionType.LONG


def _triggers_above(key: str, long: bool) -> bool:
    """A long's take-profit and a short's stop-loss trigger above the mark; the others below."""
    return (key == "takeProfit") == long


def _mark(env: Env, body: Body) -> Decimal | None:
    order = body.tpsl.order if body.tpsl is not None else None
    return env.context.mark_price(order.symbol_id) if order is not None and env.context else None


def _on_its_side(trigger: Decimal, mark: Decimal, above: bool) -> bool:
    return trigger > mark if above else trigger < mark


def _percent_of(amount: Decimal, mark: Decimal) -> Decimal:
    return (amount * 100 / mark).quantize(_PERCENT_SHOWN)


def _placed_triggers(env: Env, body: Body) -> tuple[Decimal, bool, list[tuple[str, str, Decimal]]]:
    """The mark, the side, and the used legs' triggers that are above zero and on their side of
    the mark (the ones the distance and spread rules judge); ([], …) when nothing can be."""
    mark, long = _mark(env, body), _long(body)
    if mark is None or long is None:
        return Decimal(0), False, []
    placed = []
    for key, what, leg in _used_tpsl_legs(body):
        trigger = Decimal(leg.conditional_price)
        if trigger != 0 and _on_its_side(trigger, mark, _triggers_above(key, long)):
            placed.append((key, what, trigger))
    return mark, long, placed


@check("tpsl.trigger-zero")
def tpsl_trigger_zero(env: Env, body: Body) -> None:
    for key, what, leg in _used_tpsl_legs(body):
        if Decimal(leg.conditional_price) == 0:
            env.add(
                "tpsl.trigger-zero",
                f"{_MESSAGE}.{key}.conditionalPrice",
                f"the {what} leg has quantity {leg.quantity} but trigger 0: expected a trigger "
                "price above zero",
            )


@check("tpsl.price-zero")
def tpsl_price_zero(env: Env, body: Body) -> None:
    for key, what, leg in _used_tpsl_legs(body):
        if Decimal(leg.price) == 0:
            env.add(
                "tpsl.price-zero",
                f"{_MESSAGE}.{key}.price",
                f"the {what} leg has quantity {leg.quantity} but price 0: its close could never "
                "be filled; expected the worst acceptable fill price, above zero",
            )


@check("tpsl.sl-beyond-tp")
def tpsl_sl_beyond_tp(env: Env, body: Body) -> None:
    legs = {key: Decimal(leg.conditional_price) for key, _, leg in _used_tpsl_legs(body)}
    long = _long(body)
    tp, sl = legs.get("takeProfit"), legs.get("stopLoss")
    if long is None or not tp or not sl:
        return
    if (sl >= tp) if long else (sl <= tp):
        side = "long" if long else "short"
        env.add(
            "tpsl.sl-beyond-tp",
            f"{_MESSAGE}.stopLoss.conditionalPrice",
            f"stop-loss {sl} is at or {'above' if long else 'below'} the take-profit {tp}: a "
            f"{side} position's stop-loss triggers {'below' if long else 'above'} its take-profit",
        )


def _side_findings(env: Env, body: Body, rule: str) -> None:
    mark, long = _mark(env, body), _long(body)
    if mark is None or long is None:
        return
    side = "long" if long else "short"
    for key, what, leg in _used_tpsl_legs(body):
        trigger = Decimal(leg.conditional_price)
        above = _triggers_above(key, long)
        where = "above" if above else "below"
        if trigger == 0:
            continue
        if rule == "tpsl.trigger-at-mark" and trigger == mark:
            env.add(
                rule,
                f"{_MESSAGE}.{key}.conditionalPrice",
                f"{what} trigger {trigger} equals the mark {mark}: the order would fire at once "
                f"(a {side} position's {what} triggers {where} the mark)",
            )
        if (
            rule == "tpsl.trigger-side"
            and trigger != mark
            and not _on_its_side(trigger, mark, above)
        ):
            env.add(
                rule,
                f"{_MESSAGE}.{key}.conditionalPrice",
                f"{what} trigger {trigger} is {'below' if above else 'above'} the mark {mark}: "
                f"a {side} position's {what} triggers {where} the mark (this one would fire at "
                "once)",
            )


@check("tpsl.trigger-side")
def tpsl_trigger_side(env: Env, body: Body) -> None:
    _side_findings(env, body, "tpsl.trigger-side")


@check("tpsl.trigger-at-mark")
def tpsl_trigger_at_mark(env: Env, body: Body) -> None:
    _side_findings(env, body, "tpsl.trigger-at-mark")


@check("tpsl.min-distance")
def tpsl_min_distance(env: Env, body: Body) -> None:
    limits = env.context.coh_limits  # type: ignore[union-attr]
    assert limits is not None
    floor = limits.min_price_distance_percent
    mark, _, placed = _placed_triggers(env, body)
    for key, what, trigger in placed:
        if abs(trigger - mark) * 100 < floor * mark:
            env.add(
                "tpsl.min-distance",
                f"{_MESSAGE}.{key}.conditionalPrice",
                f"{what} trigger {trigger} is {_percent_of(abs(trigger - mark), mark)} % of the "
                f"mark {mark} away; MinPriceDistancePercent is {floor}",
            )


@check("tpsl.tp-sl-spread")
def tpsl_tp_sl_spread(env: Env, body: Body) -> None:
    limits = env.context.coh_limits  # type: ignore[union-attr]
    assert limits is not None
    floor = limits.min_profit_stop_loss_spread_percent
    distance = limits.min_price_distance_percent
    mark, _, placed = _placed_triggers(env, body)
    triggers = {key: trigger for key, _, trigger in placed}
    if len(triggers) != 2 or any(abs(t - mark) * 100 < distance * mark for t in triggers.values()):
        return  # judged only when both legs passed the side and distance rules (as the SDK)
    spread = abs(triggers["takeProfit"] - triggers["stopLoss"])
    if spread * 100 < floor * mark:
        env.add(
            "tpsl.tp-sl-spread",
            f"{_MESSAGE}.stopLoss.conditionalPrice",
            f"take-profit {triggers['takeProfit']} and stop-loss {triggers['stopLoss']} are "
            f"{_percent_of(spread, mark)} % of the mark {mark} apart; "
            f"MinProfitStopLossSpreadPercent is {floor}",
        )


@check("tpsl.quantity-position")
def tpsl_quantity_position(env: Env, body: Body) -> None:
    order = body.tpsl.order if body.tpsl is not None else None
    if order is None:
        return
    open_quantity = env.context.open_quantity(order.quote_id)  # type: ignore[union-attr]
    if open_quantity is None:
        return
    for key, what, leg in _used_tpsl_legs(body):
        if Decimal(leg.quantity) > open_quantity:
            env.add(
                "tpsl.quantity-position",
                f"{_MESSAGE}.{key}.quantity",
                f"the {what} leg closes {leg.quantity}, above the open quantity "
                f"{pricing.format_decimal(open_quantity)} of quote {order.quote_id}",
            )
