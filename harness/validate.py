"""The validator: an HTTP body (or a file, a directory, stdin, a HAR capture) -> findings by rule.

Each finding names a rule of the catalogue (`harness.rules`), the JSON path, and what was expected.
Reading is done by the strict wire reader (`harness.wire`), hashing by `harness.eip712`, signature
checks by `harness.signatures`, calldata by `harness.calldata`: this module only decides which
rule each fact breaks. Nothing here raises on any input: a body that cannot be read becomes an
`input.*` finding (exit code 2), an internal bug becomes an unusable-input result that says so.

Public entry points: `Validator` (options -> validate a body, bytes or a `Source`),
`validate_body`, `validate_paths` (with `jobs` for process parallelism) and `Report`.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from . import calldata as cd
from . import eip712, inputs, pricing, wire
from .context import Context
from .errors import CalldataError, SignatureError
from .model import ZERO_LEG, ZERO_SEND_QUOTE, Domain, Leg, SendQuoteLeg, SignedOperation
from .primitives import address_bytes
from .rules import BY_ID, INSTANT_CLOSE, INSTANT_OPEN, KINDS, RULES, rule_for_problem
from .signatures import (
    SECP256K1_HALF_N,
    SECP256K1_N,
    check_signature,
    recover_address_bytes,
)
from .wire import join_path

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z")
_PRICE_TYPES = ("market", "last_close")


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str
    severity: str
    path: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "path": self.path,
            "message": self.message,
        }


@dataclass(slots=True)
class Result:
    """The verdict on one input (one body)."""

    file: str
    kind: str | None
    findings: list[Finding] = field(default_factory=list)

    @property
    def violations(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warning"]

    @property
    def verdict(self) -> str:
        return "fail" if self.violations else "pass"

    @property
    def usable(self) -> bool:
        """False when the input could not be validated at all (exit code 2)."""
        return not any(BY_ID[f.rule].unusable_input for f in self.findings)

    @property
    def rule_ids(self) -> set[str]:
        return {f.rule for f in self.findings}

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "kind": self.kind,
            "verdict": self.verdict,
            "violations": [f.to_json() for f in self.violations],
            "warnings": [f.to_json() for f in self.warnings],
        }


@dataclass(frozen=True)
class Options:
    """What a validation run is told: the body kind (or "auto"), the context, and the clock.

    `now` judges deadlines; None means the wall clock at the time the Validator is made.
    """

    kind: str = "auto"
    context: Context | None = None
    now: int | None = None


# --------------------------------------------------------------------------------------------
# One body


class _Findings:
    """Collects findings for one body; severity always comes from the catalogue."""

    __slots__ = ("items",)

    def __init__(self) -> None:
        self.items: list[Finding] = []

    def add(self, rule: str, path: str, message: str) -> None:
        self.items.append(Finding(rule, BY_ID[rule].severity, path, message))


@dataclass
class _Op:
    """One operation that read: the typed value, the slot it sits in and its decoded call."""

    path: str
    slot: str
    op: SignedOperation
    args: dict[str, Any] | None = None


def _same_address(a: str, b: str) -> bool:
    return a.lower() == b.lower()


def _show(address: str) -> str:
    return cd.checksum(address)


class Validator:
    """Validates bodies against the catalogue with one set of options (reused across bodies)."""

    def __init__(self, options: Options | None = None) -> None:
        self.options = options or Options()
        ctx = self.options.context
        self.context = ctx
        self.now = self.options.now if self.options.now is not None else int(time.time())
        self.kind = self.options.kind
        if self.kind not in ("auto", *KINDS):
            raise ValueError(f"kind: expected auto or one of {', '.join(KINDS)}, got {self.kind!r}")
        self.op_domain: Domain | None = (
            eip712.instant_layer_domain(ctx.chain_id, ctx.instant_layer) if ctx else None
        )
        self.tpsl_domain: Domain | None = ctx.tpsl_domain() if ctx else None

    # -- entry points ----------------------------------------------------------------------

    def validate_body(self, body: Any, file: str = "<body>", kind: str | None = None) -> Result:
        """A parsed JSON value. `kind` (e.g. from a HAR URL) overrides "auto"; never raises."""
        try:
            problem = inputs.check_limits(body)
            if problem is not None:
                return _unusable(file, None, "input.limits", problem)
            return self._validate(body, file, kind)
        except Exception as exc:  # a validator bug must not become a traceback at the user
            return _internal_error(file, exc)

    def validate_bytes(
        self, data: bytes | str, file: str = "<body>", kind: str | None = None
    ) -> Result:
        """JSON text (bytes or str), limits applied before anything else; never raises."""
        try:
            loaded = inputs.load_json(data)
            if loaded.problem is not None:
                rule, message = loaded.problem
                return _unusable(file, None, rule, message)
            result = self.validate_body(loaded.value, file, kind)
            for key in loaded.duplicate_keys:
                result.findings.insert(
                    0,
                    Finding(
                        "json.duplicate-key",
                        BY_ID["json.duplicate-key"].severity,
                        "",
                        f'key "{key}" appears more than once in one object; send it once',
                    ),
                )
            return result
        except Exception as exc:
            return _internal_error(file, exc)

    def validate_source(self, source: inputs.Source) -> Result:
        if source.problem is not None:
            rule, message = source.problem
            return _unusable(source.name, source.kind, rule, message)
        assert source.data is not None
        return self.validate_bytes(source.data, source.name, source.kind)

    # -- dispatch --------------------------------------------------------------------------

    def _validate(self, body: Any, file: str, kind_hint: str | None) -> Result:
        kind = self.kind if self.kind != "auto" else (kind_hint or wire.detect_kind(body))
        found = _Findings()
        if kind is None:
            found.add(
                "body.kind",
                "",
                "expected an instant_open object {addMargin, sendQuote}, an instant_close list "
                "of wrapped operations, or a TP/SL object {typedData, signature, signer}; "
                "pass --kind to say which",
            )
        elif kind == INSTANT_OPEN:
            self._open(body, found)
        elif kind == INSTANT_CLOSE:
            self._close(body, found)
        else:
            self._tpsl(body, found)
        return Result(file, kind, found.items)

    def _wire(self, problems: Iterable[Any], found: _Findings) -> None:
        for p in problems:
            found.add(rule_for_problem(p), p.path, p.message)

    # -- instant_open ----------------------------------------------------------------------

    def _open(self, body: Any, found: _Findings) -> None:
        parsed = wire.parse_instant_open_parts(body)
        self._wire(parsed.problems, found)
        if parsed.value is None:
            return
        slots = (("addMargin", parsed.value.add_margin), ("sendQuote", parsed.value.send_quote))
        ops = [
            op
            for slot, parts in slots
            if parts is not None and (op := self._operation(parts, slot, found)) is not None
        ]
        self._salts(ops, found)
        by_slot = {op.slot: op for op in ops}
        add, send = by_slot.get("addMargin"), by_slot.get("sendQuote")
        ctx = self.context
        # open.signer-account: the context's sub-account, else both operations agree.
        if ctx is not None and ctx.sub_account is not None:
            for op in ops:
                if op.op.signer_account.addr != ctx.sub_account:
                    found.add(
                        "open.signer-account",
                        join_path(op.path, "signedOperation.signerAccount.addr"),
                        f"expected the sub-account {ctx.sub_account}, got "
                        f"{op.op.signer_account.addr}",
                    )
        elif (
            add is not None
            and send is not None
            and add.op.signer_account.addr != send.op.signer_account.addr
        ):
            found.add(
                "open.signer-account",
                join_path(send.path, "signedOperation.signerAccount.addr"),
                f"expected the sub-account {add.op.signer_account.addr} (addMargin's "
                f"signerAccount), got {send.op.signer_account.addr}",
            )
        if add is None or send is None or add.args is None or send.args is None:
            return
        if add.args["symbolId"] != send.args["symbolId"]:
            found.add(
                "open.symbol",
                join_path(add.path, "signedOperation.callData"),
                f"addMarginToNextVA is for symbol {add.args['symbolId']}, sendQuote for symbol "
                f"{send.args['symbolId']}: expected the same symbol",
            )
        va_iso, position = add.args["vaIsolationType"], send.args["positionType"]
        want = {cd.VA_ISO_MARKET_LONG: cd.POSITION_LONG, cd.VA_ISO_MARKET_SHORT: cd.POSITION_SHORT}
        if va_iso in want and position in (0, 1) and want[va_iso] != position:
            names = {cd.VA_ISO_MARKET_LONG: "MARKET_LONG", cd.VA_ISO_MARKET_SHORT: "MARKET_SHORT"}
            found.add(
                "open.va-isolation",
                join_path(add.path, "signedOperation.callData"),
                f"vaIsolationType {names[va_iso]} with a {('long', 'short')[position]} quote: "
                f"expected {names[5 - va_iso]}",
            )

    # -- instant_close ---------------------------------------------------------------------

    def _close(self, body: Any, found: _Findings) -> None:
        parsed = wire.parse_instant_close_parts(body)
        self._wire(parsed.problems, found)
        if parsed.value is None:
            return
        ops = [
            op
            for parts in parsed.value
            if (op := self._operation(parts, "close", found)) is not None
        ]
        self._salts(ops, found)
        ctx = self.context
        if ctx is not None and ctx.virtual_account is not None:
            for op in ops:
                if op.op.signer_account.addr != ctx.virtual_account:
                    hint = (
                        " (that is the sub-account: a close is signed for the VA)"
                        if op.op.signer_account.addr == ctx.sub_account
                        else ""
                    )
                    found.add(
                        "close.signer-account",
                        join_path(op.path, "signedOperation.signerAccount.addr"),
                        f"expected the virtual account {ctx.virtual_account}, got "
                        f"{op.op.signer_account.addr}{hint}",
                    )

    # -- one SignedOperation ---------------------------------------------------------------

    def _operation(self, parts: wire.OperationParts, slot: str, found: _Findings) -> _Op | None:
        op = parts.signed_operation
        if op is None:
            return None
        path = join_path(parts.path, "signedOperation")
        ctx = self.context
        header = op.replay_attack_header
        if op.signer_account.is_party_b:
            found.add(
                "account.party-b",
                join_path(path, "signerAccount.isPartyB"),
                "expected false: a frontend operation is a PartyA operation (true makes the "
                "InstantLayer require signer == signerAccount and a registered PartyB)",
            )
        if op.max_uses != 1:
            what = (
                "0 allows unlimited replays of this signed operation until its deadline"
                if op.max_uses == 0
                else f"{op.max_uses} allows the same signed operation to execute {op.max_uses} "
                "times"
            )
            found.add("maxuses.one", join_path(path, "maxUses"), f"expected 1: {what}")
        deadline_path = join_path(path, "replayAttackHeader.deadline")
        if header.deadline == 0:
            found.add(
                "deadline.never",
                deadline_path,
                "0 means the signed operation never expires; a deadline bounds a leaked payload",
            )
        elif header.deadline <= self.now:
            found.add(
                "deadline.expired",
                deadline_path,
                f"expected a time after now ({self.now}), got {header.deadline}",
            )
        if not any(header.salt):
            found.add(
                "salt.zero",
                join_path(path, "replayAttackHeader.salt"),
                "expected 32 random bytes, got all zeros",
            )
        if ctx is not None and ctx.session_key is not None and op.signer != ctx.session_key:
            found.add(
                "sig.session-key",
                join_path(path, "signer"),
                f"expected the session key {ctx.session_key}, got {op.signer}",
            )
        if parts.signature is not None:
            self._signature(
                parts.signature,
                join_path(parts.path, "signature"),
                op.signer,
                self.op_domain,
                op,
                found,
            )
        if ctx is not None:
            target = ctx.account_layer if slot == "addMargin" else ctx.symmio_core
            name = "AccountLayer" if slot == "addMargin" else "Symmio core"
            if op.target != target:
                found.add(
                    "calldata.target",
                    join_path(path, "target"),
                    f"expected {name} {target} for {_SLOT_FUNCTION[slot].name}, got {op.target}",
                )
        size = len(op.call_data)
        for i, flex in enumerate(op.flex_fields):
            if flex.offset + flex.length + 4 > size:
                found.add(
                    "flex.bounds",
                    f"{path}.flexFields[{i}]",
                    f"offset {flex.offset} + length {flex.length} + 4 = "
                    f"{flex.offset + flex.length + 4} exceeds callData's {size} bytes "
                    "(FlexFieldOutOfBounds)",
                )
        result = _Op(parts.path, slot, op)
        result.args = self._call(op, path, slot, found)
        if result.args is not None:
            _SLOT_CHECKS[slot](self, result, found)
        return result

    def _signature(
        self,
        signature: bytes,
        path: str,
        signer: str | None,
        domain: Domain | None,
        value: object,
        found: _Findings,
    ) -> None:
        try:
            check_signature(signature)
        except SignatureError as exc:
            rule, message = _signature_problem(signature, exc)
            found.add(rule, path, message)
            return
        if domain is None:
            return
        try:
            recovered = recover_address_bytes(eip712.digest(domain, value), signature)
        except SignatureError as exc:
            found.add("sig.unrecoverable", path, str(exc))
            return
        if signer is not None and recovered != address_bytes(signer):
            found.add(
                "sig.signer",
                path,
                f"recovers to {_show('0x' + recovered.hex())}, expected the declared signer "
                f"{signer} (domain {domain.name!r} v{domain.version}, chain {domain.chain_id}, "
                f"{domain.verifying_contract})",
            )

    def _call(self, op: SignedOperation, path: str, slot: str, found: _Findings) -> dict | None:
        data, where = op.call_data, join_path(path, "callData")
        if len(data) < 4:
            found.add(
                "calldata.short",
                where,
                f"expected at least a 4-byte selector, got {len(data)} bytes "
                "(CallDataLengthMismatch)",
            )
            return None
        selector = data[:4]
        fn = _SLOT_FUNCTION[slot]
        if selector in cd.DELEGATION_ONLY_KEYS:
            found.add(
                "calldata.delegation-key",
                where,
                f"0x{selector.hex()} is {cd.describe_selector(selector)}: it belongs in a "
                f"delegation's selector list; this slot calls 0x{fn.selector.hex()} "
                f"{fn.signature}",
            )
            return None
        if selector != fn.selector:
            found.add(
                "calldata.selector",
                where,
                f"expected 0x{fn.selector.hex()} {fn.signature} in the {slot} slot, got "
                f"0x{selector.hex()} ({cd.describe_selector(selector)})",
            )
            return None
        try:
            return fn.decode(data)
        except CalldataError as exc:
            found.add("calldata.decode", where, str(exc))
            return None

    # -- per-slot call checks --------------------------------------------------------------

    def _add_margin(self, op: _Op, found: _Findings) -> None:
        args, where = op.args, join_path(op.path, "signedOperation.callData")
        assert args is not None
        if args["vaIsolationType"] > cd.VA_ISO_MARKET_SHORT:
            found.add(
                "calldata.enum",
                where,
                f"vaIsolationType {args['vaIsolationType']}: expected 0..3 (POSITION, MARKET, "
                "MARKET_LONG, MARKET_SHORT)",
            )
        account = op.op.signer_account.addr
        if not _same_address(args["subAccount"], account):
            found.add(
                "open.add-margin-account",
                where,
                f"addMarginToNextVA moves margin from {_show(args['subAccount'])}, expected the "
                f"signerAccount {account}",
            )
        self._symbol_known(args["symbolId"], where, found)

    def _send_quote(self, op: _Op, found: _Findings) -> None:
        args, where = op.args, join_path(op.path, "signedOperation.callData")
        assert args is not None
        ctx = self.context
        self._enums(args, ("positionType", "orderType"), where, found)
        self._call_deadline(args["deadline"], "sendQuote", where, found)
        whitelist = args["partyBsWhiteList"]
        if (
            ctx is not None
            and ctx.hedger is not None
            and (len(whitelist) != 1 or not _same_address(whitelist[0], ctx.hedger))
        ):
            shown = ", ".join(_show(a) for a in whitelist)
            found.add(
                "open.hedger",
                where,
                f"partyBsWhiteList is [{shown}], expected [{ctx.hedger}] (the hedger the "
                "sub-account is bound to)",
            )
        if (
            ctx is not None
            and ctx.affiliate is not None
            and not _same_address(args["affiliate"], ctx.affiliate)
        ):
            found.add(
                "open.affiliate",
                where,
                f"affiliate is {_show(args['affiliate'])}, expected {ctx.affiliate}",
            )
        if not _is_upnl_placeholder(args["upnlSig"]):
            found.add(
                "open.upnl-sig",
                where,
                "upnlSig carries data: expected the empty SingleUpnlAndPriceSig "
                "(empty bytes, zeros, zero addresses); the solver injects the real one",
            )
        try:
            uuid = cd.decode_quote_data(args["data"])
        except CalldataError as exc:
            found.add("open.quote-data", where, f"data: expected abi.encode((string uuid)); {exc}")
        else:
            if not _UUID.match(uuid):
                shown = uuid if len(uuid) <= 48 else uuid[:45] + "..."
                found.add(
                    "open.quote-uuid",
                    where,
                    f"data holds {shown!r}: expected a UUID such as str(uuid.uuid4())",
                )
        symbol = self._symbol_known(args["symbolId"], where, found)
        if symbol is not None:
            for name, places in (
                ("price", symbol.price_precision),
                ("quantity", symbol.quantity_precision),
            ):
                wei = args[name]
                unit = 10 ** (pricing.WEI_DECIMALS - places)
                if wei % unit:
                    found.add(
                        "open.precision",
                        where,
                        f"{name} {pricing.format_decimal(pricing.from_wei(wei))} has more than "
                        f"{places} decimals ({symbol.name}'s {name} precision)",
                    )

    def _close_call(self, op: _Op, found: _Findings) -> None:
        args, where = op.args, join_path(op.path, "signedOperation.callData")
        assert args is not None
        self._enums(args, ("orderType",), where, found)
        self._call_deadline(args["deadline"], "requestToClosePosition", where, found)

    def _enums(self, args: dict, names: Sequence[str], where: str, found: _Findings) -> None:
        for name in names:
            if args[name] > 1:
                allowed = "LONG=0, SHORT=1" if name == "positionType" else "LIMIT=0, MARKET=1"
                found.add("calldata.enum", where, f"{name} {args[name]}: expected {allowed}")

    def _call_deadline(self, deadline: int, fn: str, where: str, found: _Findings) -> None:
        if deadline <= self.now:
            found.add(
                "deadline.call-expired",
                where,
                f"{fn} deadline argument {deadline} is not after now ({self.now})",
            )

    def _symbol_known(self, symbol_id: int, where: str, found: _Findings) -> Any:
        ctx = self.context
        if ctx is None or ctx.symbols is None:
            return None
        symbol = ctx.symbol(symbol_id)
        if symbol is None:
            known = ", ".join(str(s.id) for s in ctx.symbols) or "none"
            found.add(
                "symbol.known", where, f"symbolId {symbol_id} is not a context symbol ({known})"
            )
        return symbol

    def _salts(self, ops: list[_Op], found: _Findings) -> None:
        seen: dict[bytes, str] = {}
        for op in ops:
            salt = op.op.replay_attack_header.salt
            if not any(salt):
                continue  # salt.zero already says it
            if salt in seen:
                found.add(
                    "salt.unique",
                    join_path(op.path, "signedOperation.replayAttackHeader.salt"),
                    f"the same salt as {seen[salt]}: expected a fresh 32-byte salt per operation",
                )
            else:
                seen[salt] = op.path

    # -- TP/SL -----------------------------------------------------------------------------

    def _tpsl(self, body: Any, found: _Findings) -> None:
        parsed = wire.parse_tpsl_parts(body)
        self._wire(parsed.problems, found)
        parts = parsed.value
        if parts is None:
            return
        ctx = self.context
        if ctx is not None and parts.domain is not None and parts.domain != self.tpsl_domain:
            want = self.tpsl_domain
            assert want is not None
            diffs = [
                f"{key} {got!r} (expected {exp!r})"
                for key, got, exp in (
                    ("name", parts.domain.name, want.name),
                    ("version", parts.domain.version, want.version),
                    ("chainId", parts.domain.chain_id, want.chain_id),
                    (
                        "verifyingContract",
                        parts.domain.verifying_contract,
                        want.verifying_contract,
                    ),
                )
                if got != exp
            ]
            found.add("tpsl.domain", "typedData.domain", "differs: " + "; ".join(diffs))
        if (
            ctx is not None
            and ctx.session_key is not None
            and parts.signer is not None
            and parts.signer != ctx.session_key
        ):
            found.add(
                "sig.session-key",
                "signer",
                f"expected the session key {ctx.session_key}, got {parts.signer}",
            )
        order = parts.order
        if order is None:
            if parts.signature is not None:  # the order did not read: only the form is checked
                self._signature(parts.signature, "signature", None, None, None, found)
            return
        # The signer is checked under the body's own domain (a wrong domain is tpsl.domain);
        # the configured one stands in when the body's does not read.
        domain = parts.domain or self.tpsl_domain
        if parts.signature is not None:
            self._signature(parts.signature, "signature", parts.signer, domain, order, found)
        message = "typedData.message"
        for key, expected, got in (
            ("virtualAccount", ctx and ctx.virtual_account, order.virtual_account),
            ("subAccount", ctx and ctx.sub_account, order.sub_account),
            ("affiliate", ctx and ctx.affiliate, order.affiliate),
        ):
            if expected and got != expected:
                rule = {
                    "virtualAccount": "tpsl.virtual-account",
                    "subAccount": "tpsl.sub-account",
                    "affiliate": "tpsl.affiliate",
                }[key]
                found.add(rule, f"{message}.{key}", f"expected {expected}, got {got}")
        if order.position_type > 1:
            found.add(
                "tpsl.enum",
                f"{message}.positionType",
                f"{order.position_type}: expected LONG=0 or SHORT=1",
            )
        legs: tuple[tuple[str, Leg, Leg], ...] = (
            ("takeProfit", order.take_profit, ZERO_LEG),
            ("stopLoss", order.stop_loss, ZERO_LEG),
            ("sendQuote", order.send_quote, ZERO_SEND_QUOTE),
        )
        symbol = self._symbol_known(order.symbol_id, f"{message}.symbolId", found)
        used = 0
        for name, leg, zero in legs:
            path = f"{message}.{name}"
            if leg.order_type > 1:
                found.add(
                    "tpsl.enum",
                    f"{path}.orderType",
                    f"{leg.order_type}: expected LIMIT=0 or MARKET=1",
                )
            if leg.conditional_price_type not in _PRICE_TYPES:
                found.add(
                    "tpsl.price-type",
                    f"{path}.conditionalPriceType",
                    f'expected "market" or "last_close", got {leg.conditional_price_type!r}',
                )
            if Decimal(leg.quantity) == 0:
                if leg != zero:
                    found.add(
                        "tpsl.zero-leg",
                        path,
                        "an unused leg (quantity 0) must be exactly "
                        + _leg_text(zero)
                        + f", got {_leg_text(leg)}",
                    )
            else:
                used += 1
            if symbol is not None:
                for key, text, places in (
                    ("quantity", leg.quantity, symbol.quantity_precision),
                    ("price", leg.price, symbol.price_precision),
                    ("conditionalPrice", leg.conditional_price, symbol.price_precision),
                ):
                    if not pricing.fits_precision(Decimal(text), places):
                        found.add(
                            "tpsl.precision",
                            f"{path}.{key}",
                            f"{text} has more than {places} decimals ({symbol.name}'s "
                            f"{'quantity' if key == 'quantity' else 'price'} precision; the "
                            "COH answers 407)",
                        )
        if not used:
            found.add(
                "tpsl.leg-used",
                message,
                "takeProfit, stopLoss and sendQuote are all zero legs: expected at least one "
                "leg with a quantity",
            )


_SLOT_FUNCTION: dict[str, cd.Function] = {
    "addMargin": cd.ADD_MARGIN_TO_NEXT_VA,
    "sendQuote": cd.SEND_QUOTE_WITH_AFFILIATE_AND_DATA,
    "close": cd.REQUEST_TO_CLOSE_POSITION,
}
_SLOT_CHECKS = {
    "addMargin": Validator._add_margin,
    "sendQuote": Validator._send_quote,
    "close": Validator._close_call,
}


def _signature_problem(signature: bytes, exc: SignatureError) -> tuple[str, str]:
    """(rule, message) for a signature check_signature refused, following its order of checks."""
    if len(signature) != 65:
        return "sig.length", str(exc)
    v = signature[64]
    if v not in (27, 28):
        hint = f" (v {v} looks like a recovery id: add 27)" if v in (0, 1) else ""
        return "sig.v", f"expected v 27 or 28, got {v}{hint}"
    r = int.from_bytes(signature[:32], "big")
    s = int.from_bytes(signature[32:64], "big")
    for name, value in (("r", r), ("s", s)):
        if not 0 < value < SECP256K1_N:
            return (
                "sig.range",
                f"{name} is {'zero' if value == 0 else 'not below the curve order n'}",
            )
    if s > SECP256K1_HALF_N:
        return (
            "sig.low-s",
            "s is in the upper half of the curve order (high-s), which OZ ECDSA rejects: use "
            "n - s and flip v",
        )
    return "sig.range", str(exc)


def _is_upnl_placeholder(sig: tuple[Any, ...]) -> bool:
    """The empty sentinel, or the SDK's same-size placeholder (zero bytes instead of empty)."""
    if cd.is_empty_upnl_sig(sig):
        return True
    req_id, timestamp, upnl, price, gateway_sig, (nonce, owner, signer) = sig
    return (
        not any(req_id)
        and not any(gateway_sig)
        and timestamp == upnl == price == nonce == 0
        and int(owner, 16) == int(signer, 16) == 0
    )


def _leg_text(leg: Leg) -> str:
    fields = {
        "quantity": leg.quantity,
        "price": leg.price,
        "orderType": leg.order_type,
        "conditionalPrice": leg.conditional_price,
        "conditionalPriceType": leg.conditional_price_type,
    }
    if isinstance(leg, SendQuoteLeg):
        fields["leverage"] = leg.leverage
    return json.dumps(fields)


def _unusable(file: str, kind: str | None, rule: str, message: str) -> Result:
    return Result(file, kind, [Finding(rule, "error", "", message)])


def _internal_error(file: str, exc: BaseException) -> Result:
    # Reported as an unusable input (exit 2) so that a validator bug never passes a body.
    return _unusable(
        file,
        None,
        "input.unreadable",
        f"internal validator error ({exc.__class__.__name__}: {exc}); please report it",
    )


def validate_body(
    body: Any,
    *,
    kind: str = "auto",
    context: Context | None = None,
    now: int | None = None,
    file: str = "<body>",
) -> Result:
    """Validate one parsed JSON body. Never raises."""
    return Validator(Options(kind, context, now)).validate_body(body, file)


# --------------------------------------------------------------------------------------------
# Many inputs


@dataclass
class Report:
    """Every result of one run, in input order, with the options that produced them."""

    results: list[Result]
    options: Options
    now: int
    context_file: str | None = None

    @property
    def exit_code(self) -> int:
        if any(not r.usable for r in self.results) or not self.results:
            return 2
        return 1 if any(r.violations for r in self.results) else 0

    def rules_not_run(self) -> list[dict[str, str]]:
        ctx = self.options.context
        out = []
        for rule in RULES:
            missing = [
                key
                for key in rule.requires
                if ctx is None or (key != "context" and getattr(ctx, key) is None)
            ]
            if missing:
                need = "a context file" if ctx is None else f"the context key {missing[0]}"
                out.append({"rule": rule.id, "needs": need})
        return out

    def summary(self) -> dict[str, Any]:
        counts = Counter(f.rule for r in self.results for f in r.findings)
        return {
            "inputs": len(self.results),
            "passed": sum(1 for r in self.results if r.usable and r.verdict == "pass"),
            "failed": sum(1 for r in self.results if r.usable and r.verdict == "fail"),
            "unusable": sum(1 for r in self.results if not r.usable),
            "violations": sum(len(r.violations) for r in self.results),
            "warnings": sum(len(r.warnings) for r in self.results),
            "rules": dict(sorted(counts.items())),
            "rules_not_run": self.rules_not_run(),
            "context": self.context_file,
            "now": self.now,
            "exit_code": self.exit_code,
        }

    def to_json(self) -> dict[str, Any]:
        return {"results": [r.to_json() for r in self.results], "summary": self.summary()}


def _validate_chunk(options: Options, sources: list[inputs.Source]) -> list[Result]:
    validator = Validator(options)
    return [validator.validate_source(s) for s in sources]


def validate_sources(
    sources: Iterable[inputs.Source], options: Options, *, jobs: int = 1
) -> list[Result]:
    """Validate in order; with jobs > 1, chunks go to worker processes (same options, same now)."""
    validator = Validator(options)
    fixed = Options(options.kind, options.context, validator.now)
    if jobs <= 1:
        return [validator.validate_source(s) for s in sources]
    items = list(sources)
    if len(items) < 2 * jobs:
        return [validator.validate_source(s) for s in items]
    size = max(1, min(500, len(items) // (jobs * 4)))
    chunks = [items[i : i + size] for i in range(0, len(items), size)]
    results: list[Result] = []
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        for chunk_results in pool.map(_validate_chunk, [fixed] * len(chunks), chunks):
            results.extend(chunk_results)
    return results


def validate_paths(
    paths: Sequence[str],
    options: Options | None = None,
    *,
    jobs: int = 1,
    context_file: str | None = None,
    stdin: Any = None,
) -> Report:
    """Validate every body found under `paths` (files, directories, "-", HAR captures)."""
    options = options or Options()
    now = options.now if options.now is not None else int(time.time())
    options = Options(options.kind, options.context, now)
    results = validate_sources(inputs.iter_sources(paths, stdin=stdin), options, jobs=jobs)
    return Report(results, options, now, context_file)
