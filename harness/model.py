"""Typed values of the pinned v0.8.5 protocol (spec §3), checked when they are built.

Addresses are stored in EIP-55 form, byte strings as `bytes`, integers as `int`. A value that
exists is well-formed; hashing (`eip712`) and wire conversion (`wire`) never re-check it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any, TypeVar

from .primitives import (
    require_bool,
    require_bytes,
    require_checksum_address,
    require_int256,
    require_uint,
)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Domain:
    """`EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)`."""

    name: str
    version: str
    chain_id: int
    verifying_contract: str

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not isinstance(self.version, str):
            raise TypeError("domain name and version must be strings")
        require_uint(self.chain_id, "domain.chainId")
        require_checksum_address(self.verifying_contract, "domain.verifyingContract")

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "chainId": self.chain_id,
            "verifyingContract": self.verifying_contract,
        }


@dataclass(frozen=True, slots=True)
class Account:
    addr: str
    is_party_b: bool = False

    def __post_init__(self) -> None:
        require_checksum_address(self.addr, "signerAccount.addr")
        require_bool(self.is_party_b, "signerAccount.isPartyB")


@dataclass(frozen=True, slots=True)
class FlexField:
    """A byte range of `callData` (offset counted after the 4-byte selector) a filler may set."""

    offset: int
    length: int
    authorized_flex_filler: str

    def __post_init__(self) -> None:
        require_uint(self.offset, "flexFields.offset")
        require_uint(self.length, "flexFields.length")
        require_checksum_address(self.authorized_flex_filler, "flexFields.authorizedFlexFiller")


@dataclass(frozen=True, slots=True)
class ReplayAttackHeader:
    """nonce 0 = salt-only; deadline 0 = never expires (spec §3, replay rules)."""

    nonce: int
    deadline: int
    salt: bytes

    def __post_init__(self) -> None:
        require_uint(self.nonce, "replayAttackHeader.nonce")
        require_uint(self.deadline, "replayAttackHeader.deadline")
        require_bytes(self.salt, "replayAttackHeader.salt", 32)


@dataclass(frozen=True, slots=True)
class SignedOperation:
    """The pinned 7-field SignedOperation (with flexFields and maxUses)."""

    signer: str
    target: str
    call_data: bytes
    signer_account: Account
    flex_fields: tuple[FlexField, ...]
    max_uses: int
    replay_attack_header: ReplayAttackHeader

    def __post_init__(self) -> None:
        require_checksum_address(self.signer, "signer")
        require_checksum_address(self.target, "target")
        require_bytes(self.call_data, "callData")
        if not isinstance(self.signer_account, Account):
            raise TypeError("signer_account must be an Account")
        if not isinstance(self.flex_fields, tuple) or (
            self.flex_fields and not all(isinstance(f, FlexField) for f in self.flex_fields)
        ):
            raise TypeError("flex_fields must be a tuple of FlexField")
        require_uint(self.max_uses, "maxUses")
        if not isinstance(self.replay_attack_header, ReplayAttackHeader):
            raise TypeError("replay_attack_header must be a ReplayAttackHeader")

    @property
    def selector(self) -> bytes:
        return self.call_data[:4]


@dataclass(frozen=True, slots=True)
class LegacySignedOperation:
    """The legacy 5-field SignedOperation (no flexFields, no maxUses): also what GaslessGateway
    wallet operations sign. Read so it can be judged and refused by name, never built to send."""

    signer: str
    target: str
    call_data: bytes
    signer_account: Account
    replay_attack_header: ReplayAttackHeader

    @property
    def selector(self) -> bytes:
        return self.call_data[:4]


@dataclass(frozen=True, slots=True)
class WrappedOperation:
    """A SignedOperation with its 65-byte signature: the unit the solver receives."""

    signed_operation: SignedOperation
    signature: bytes

    def __post_init__(self) -> None:
        require_bytes(self.signature, "signature")


@dataclass(frozen=True, slots=True)
class InstantOpen:
    """Body of POST /instant_trade/instant_open: `{addMargin?, sendQuote}` (without addMargin the
    virtual account must already hold the margin)."""

    add_margin: WrappedOperation | None
    send_quote: WrappedOperation


@dataclass(frozen=True, slots=True)
class InstantClose:
    """Body of POST /instant_trade/instant_close: a list of one or more wrapped operations."""

    operations: tuple[WrappedOperation, ...]


@dataclass(frozen=True, slots=True)
class DelegationInfo:
    account: Account
    delegated_signer: str
    selectors: tuple[bytes, ...]
    expiry_timestamp: int

    def __post_init__(self) -> None:
        require_checksum_address(self.delegated_signer, "delegatedSigner")
        for i, sel in enumerate(self.selectors):
            require_bytes(sel, f"selectors[{i}]", 4)
        require_uint(self.expiry_timestamp, "expiryTimestamp")


@dataclass(frozen=True, slots=True)
class SignedDelegation:
    delegation_info: DelegationInfo
    replay_attack_header: ReplayAttackHeader


@dataclass(frozen=True, slots=True)
class FlexFillAuth:
    op_hash: bytes
    field_index: int
    value: bytes

    def __post_init__(self) -> None:
        require_bytes(self.op_hash, "opHash", 32)
        require_uint(self.field_index, "fieldIndex")
        require_bytes(self.value, "value")


@dataclass(frozen=True, slots=True)
class Leg:
    """A TakeProfit / StopLoss leg. Decimal amounts travel as strings in the signed message."""

    quantity: str
    price: str
    order_type: int
    conditional_price: str
    conditional_price_type: str

    def __post_init__(self) -> None:
        for name in ("quantity", "price", "conditional_price", "conditional_price_type"):
            if not isinstance(getattr(self, name), str):
                raise TypeError(f"{name} must be a string")
        require_uint(self.order_type, "orderType", 8)


@dataclass(frozen=True, slots=True)
class SendQuoteLeg(Leg):
    leverage: int = 0

    def __post_init__(self) -> None:
        Leg.__post_init__(self)
        require_uint(self.leverage, "leverage")


ZERO_LEG = Leg("0", "0", 0, "0", "market")
ZERO_SEND_QUOTE = SendQuoteLeg("0", "0", 0, "0", "market", 0)


@dataclass(frozen=True, slots=True)
class ConditionalOrder:
    virtual_account: str
    sub_account: str
    salt: int
    quote_id: int
    symbol_id: int
    position_type: int
    affiliate: str
    take_profit: Leg = ZERO_LEG
    stop_loss: Leg = ZERO_LEG
    send_quote: SendQuoteLeg = field(default=ZERO_SEND_QUOTE)

    def __post_init__(self) -> None:
        require_checksum_address(self.virtual_account, "virtualAccount")
        require_checksum_address(self.sub_account, "subAccount")
        require_uint(self.salt, "salt")
        require_int256(self.quote_id, "quoteId")
        require_uint(self.symbol_id, "symbolId")
        require_uint(self.position_type, "positionType", 8)
        require_checksum_address(self.affiliate, "affiliate")


#: The COH's conditional-order ids are strings "coh<N>" (spec §4 "COH": the POST reply's and the
#: search rows' `coh_quote_id`; the OpenAPI's GET /api/v5/ parameter "Encoded coh quote id (e.g.
#: coh123)"; `cohQuoteId` is typed `string` in the served CancelConditionalOrder).
COH_QUOTE_ID_PREFIX = "coh"
MAX_COH_QUOTE_ID_CHARS = 3 + 78


def coh_quote_id_text(number: int) -> str:
    """The canonical text form of the COH's order number `number` (>= 1): "coh<number>"."""
    if type(number) is not int or number < 1:
        raise ValueError(f"a COH order number is a whole number >= 1, got {number!r}")
    return f"{COH_QUOTE_ID_PREFIX}{number}"


def parse_coh_quote_id(text: object) -> int | None:
    """The order number of a canonical "coh<N>" id (N >= 1, no sign, no leading zero); None
    for anything else (another prefix, a bare number, a JSON number, padding)."""
    if not isinstance(text, str) or len(text) > MAX_COH_QUOTE_ID_CHARS:
        return None
    digits = text[len(COH_QUOTE_ID_PREFIX) :]
    if (
        not text.startswith(COH_QUOTE_ID_PREFIX)
        or not digits.isascii()
        or not digits.isdigit()
        or digits.startswith("0")
    ):
        return None
    return int(digits)


@dataclass(frozen=True, slots=True)
class CancelConditionalOrder:
    """The TP/SL cancel message `CancelConditionalOrder(address virtualAccount,string salt,string
    cohQuoteId,string conditionalOrderType)`, as `GET /api/v5/signing-spec-del` serves it (the
    SDK's signing-spec fixtures). `salt` is the cancel's own (the SDK's `deleteQuoteTpSl` signs
    a fresh one); `coh_quote_id` the order's "coh<N>" id."""

    virtual_account: str
    salt: str
    coh_quote_id: str
    conditional_order_type: str

    def __post_init__(self) -> None:
        require_checksum_address(self.virtual_account, "virtualAccount")
        for name in ("salt", "coh_quote_id", "conditional_order_type"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name):
                raise TypeError(f"{name} must be a non-empty string")


@dataclass(frozen=True, slots=True)
class TpslRequest:
    """Body of POST {tpsl}/api/v5/: a signed ConditionalOrder with its domain and signer."""

    domain: Domain
    order: ConditionalOrder
    signer: str
    signature: bytes

    def __post_init__(self) -> None:
        require_checksum_address(self.signer, "signer")
        require_bytes(self.signature, "signature")


def unchecked(cls: type[T]) -> Callable[..., T]:
    """A positional constructor of the frozen, slotted dataclass `cls` that skips its
    `__post_init__` checks: only for a reader that has already proved every field (the wire
    reader's canonical path, the validator's verdict). Generated from the fields, as dataclasses
    generates `__init__`; equal values either way (a test proves it)."""
    names = [f.name for f in fields(cls)]  # type: ignore[arg-type]
    namespace: dict[str, Any] = {"_new": object.__new__, "_cls": cls}
    lines = [f"def make({', '.join(names)}):", "    self = _new(_cls)"]
    for i, name in enumerate(names):
        namespace[f"_set{i}"] = cls.__dict__[name].__set__  # the slot itself, not frozen setattr
        lines.append(f"    _set{i}(self, {name})")
    lines.append("    return self")
    exec(compile("\n".join(lines), f"<unchecked {cls.__name__}>", "exec"), namespace)  # ours
    make = namespace["make"]
    make.__qualname__ = f"unchecked({cls.__name__})"
    return make
