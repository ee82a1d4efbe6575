"""EIP-712 types, domains and hashing for the pinned v0.8.5 structs (spec §3).

Two ways to hash the same value, which property tests prove equal:
- the generic path: `typed_data(domain, value)` fed to eth-account's encoder (`generic_digest`);
- the fast path: `struct_hash` / `digest`, one small function per struct with the typehashes
  precomputed and words encoded directly, as `hashStruct` is written in the EIP.

Type strings are derived from `TYPES` by `encode_type`, never retyped; tests check them and their
typehashes against the values in contracts-and-services.md.
"""

from __future__ import annotations

from dataclasses import fields
from functools import lru_cache
from typing import Any

from . import signatures
from .model import (
    Account,
    ConditionalOrder,
    ConditionalOrderDelete,
    DelegationInfo,
    Domain,
    FlexField,
    FlexFillAuth,
    Leg,
    LegacySignedOperation,
    ReplayAttackHeader,
    SendQuoteLeg,
    SignedDelegation,
    SignedOperation,
)
from .primitives import address_bytes, keccak
from .protocol import CURRENT

Fields = tuple[tuple[str, str], ...]

_LEG_FIELDS: Fields = (
    ("quantity", "string"),
    ("price", "string"),
    ("orderType", "uint8"),
    ("conditionalPrice", "string"),
    ("conditionalPriceType", "string"),
)

#: Every struct of the pinned protocol, member order as in the contracts and the COH.
TYPES: dict[str, Fields] = {
    "EIP712Domain": (
        ("name", "string"),
        ("version", "string"),
        ("chainId", "uint256"),
        ("verifyingContract", "address"),
    ),
    "Account": (("addr", "address"), ("isPartyB", "bool")),
    "FlexField": (
        ("offset", "uint256"),
        ("length", "uint256"),
        ("authorizedFlexFiller", "address"),
    ),
    "ReplayAttackHeader": (("nonce", "uint256"), ("deadline", "uint256"), ("salt", "bytes32")),
    "SignedOperation": (
        ("signer", "address"),
        ("target", "address"),
        ("callData", "bytes"),
        ("signerAccount", "Account"),
        ("flexFields", "FlexField[]"),
        ("maxUses", "uint256"),
        ("replayAttackHeader", "ReplayAttackHeader"),
    ),
    "DelegationInfo": (
        ("account", "Account"),
        ("delegatedSigner", "address"),
        ("selectors", "bytes4[]"),
        ("expiryTimestamp", "uint256"),
    ),
    "SignedDelegation": (
        ("delegationInfo", "DelegationInfo"),
        ("replayAttackHeader", "ReplayAttackHeader"),
    ),
    "FlexFillAuth": (("opHash", "bytes32"), ("fieldIndex", "uint256"), ("value", "bytes")),
    "ConditionalOrder": (
        ("virtualAccount", "address"),
        ("subAccount", "address"),
        ("salt", "uint256"),
        ("quoteId", "int256"),
        ("symbolId", "uint256"),
        ("positionType", "uint8"),
        ("affiliate", "address"),
        ("takeProfit", "TakeProfit"),
        ("stopLoss", "StopLoss"),
        ("sendQuote", "SendQuote"),
    ),
    "TakeProfit": _LEG_FIELDS,
    "StopLoss": _LEG_FIELDS,
    "SendQuote": (*_LEG_FIELDS, ("leverage", "uint256")),
    # The delete message's types are served by the COH at /api/v5/signing-spec-del; no public
    # source pins them. This is the harness's default, overridable wherever a spec is served.
    "ConditionalOrderDelete": (
        ("virtualAccount", "address"),
        ("salt", "uint256"),
        ("cohQuoteId", "uint256"),
        ("conditionalOrderType", "string"),
    ),
}

#: The legacy 5-field generation (recognised so it can be rejected by name, never signed).
LEGACY_SIGNED_OPERATION: Fields = tuple(
    f for f in TYPES["SignedOperation"] if f[0] not in ("flexFields", "maxUses")
)

INSTANT_LAYER_DOMAIN_NAME, INSTANT_LAYER_DOMAIN_VERSION = CURRENT.instant_layer_domain
CONDITIONAL_ORDER_DOMAIN_NAME, CONDITIONAL_ORDER_DOMAIN_VERSION = CURRENT.conditional_order_domain


def _base_type(type_name: str) -> str:
    return type_name[:-2] if type_name.endswith("[]") else type_name


def referenced_types(primary: str, types: dict[str, Fields] = TYPES) -> list[str]:
    """Struct types reachable from `primary` (excluding it), sorted by name (EIP-712 order)."""
    seen: set[str] = set()
    stack = [primary]
    while stack:
        for _, member_type in types[stack.pop()]:
            base = _base_type(member_type)
            if base in types and base not in seen and base != primary:
                seen.add(base)
                stack.append(base)
    return sorted(seen)


def encode_type(primary: str, types: dict[str, Fields] = TYPES) -> str:
    """EIP-712 encodeType: the primary struct, then every referenced struct sorted by name."""

    def one(name: str) -> str:
        return f"{name}({','.join(f'{t} {n}' for n, t in types[name])})"

    return one(primary) + "".join(one(name) for name in referenced_types(primary, types))


def type_hash(primary: str, types: dict[str, Fields] = TYPES) -> bytes:
    return keccak(encode_type(primary, types).encode())


TYPEHASH: dict[str, bytes] = {name: type_hash(name) for name in TYPES}
LEGACY_SIGNED_OPERATION_TYPEHASH = type_hash(
    "SignedOperation", {**TYPES, "SignedOperation": LEGACY_SIGNED_OPERATION}
)


def eip712_types(primary: str) -> dict[str, list[dict[str, str]]]:
    """The `types` object of a typed-data JSON for `primary` (EIP712Domain included)."""
    names = ["EIP712Domain", primary, *referenced_types(primary)]
    return {name: [{"name": n, "type": t} for n, t in TYPES[name]] for name in names}


# --------------------------------------------------------------------------------------------
# Domains


@lru_cache(maxsize=256)
def separator(domain: Domain) -> bytes:
    """hashStruct(EIP712Domain) — the domain separator."""
    return keccak(
        TYPEHASH["EIP712Domain"]
        + keccak(domain.name.encode())
        + keccak(domain.version.encode())
        + domain.chain_id.to_bytes(32, "big")
        + _address_word(domain.verifying_contract)
    )


def instant_layer_domain(chain_id: int, instant_layer: str) -> Domain:
    return Domain(INSTANT_LAYER_DOMAIN_NAME, INSTANT_LAYER_DOMAIN_VERSION, chain_id, instant_layer)


def default_conditional_order_domain(chain_id: int, instant_layer: str) -> Domain:
    """The documented default; the real domain is configuration (served at /api/v5/signing-spec)."""
    return Domain(
        CONDITIONAL_ORDER_DOMAIN_NAME, CONDITIONAL_ORDER_DOMAIN_VERSION, chain_id, instant_layer
    )


# --------------------------------------------------------------------------------------------
# Fast path: hashStruct per type, words encoded directly

_ZERO_12 = bytes(12)
_FALSE_WORD = bytes(32)
_TRUE_WORD = bytes(31) + b"\x01"
_EMPTY_ARRAY_HASH = keccak(b"")


@lru_cache(maxsize=1 << 12)
def _address_word(address: str) -> bytes:
    return _ZERO_12 + address_bytes(address)


def _uint_word(value: int) -> bytes:
    return value.to_bytes(32, "big")


def _int_word(value: int) -> bytes:
    return value.to_bytes(32, "big", signed=True)


@lru_cache(maxsize=1 << 12)
def hash_account(account: Account) -> bytes:
    return keccak(
        TYPEHASH["Account"]
        + _address_word(account.addr)
        + (_TRUE_WORD if account.is_party_b else _FALSE_WORD)
    )


def hash_flex_field(flex: FlexField) -> bytes:
    return keccak(
        TYPEHASH["FlexField"]
        + _uint_word(flex.offset)
        + _uint_word(flex.length)
        + _address_word(flex.authorized_flex_filler)
    )


_HEADER_TYPEHASH = TYPEHASH["ReplayAttackHeader"]
_SIGNED_OPERATION_TYPEHASH = TYPEHASH["SignedOperation"]


def hash_replay_attack_header(header: ReplayAttackHeader) -> bytes:
    return keccak(
        b"".join(
            (
                _HEADER_TYPEHASH,
                header.nonce.to_bytes(32, "big"),
                header.deadline.to_bytes(32, "big"),
                header.salt,
            )
        )
    )


def hash_signed_operation(op: SignedOperation) -> bytes:
    # one join of the words (not a chain of concatenations): the hot path of every operation
    flex = (
        keccak(b"".join(hash_flex_field(f) for f in op.flex_fields))
        if op.flex_fields
        else _EMPTY_ARRAY_HASH
    )
    return keccak(
        b"".join(
            (
                _SIGNED_OPERATION_TYPEHASH,
                _address_word(op.signer),
                _address_word(op.target),
                keccak(op.call_data),
                hash_account(op.signer_account),
                flex,
                op.max_uses.to_bytes(32, "big"),
                hash_replay_attack_header(op.replay_attack_header),
            )
        )
    )


def hash_legacy_signed_operation(op: SignedOperation | LegacySignedOperation) -> bytes:
    """hashStruct of the legacy 5-field SignedOperation over the members both generations share
    (for a 7-field op: what its signature would be over if it was made with the old type)."""
    return keccak(
        LEGACY_SIGNED_OPERATION_TYPEHASH
        + _address_word(op.signer)
        + _address_word(op.target)
        + keccak(op.call_data)
        + hash_account(op.signer_account)
        + hash_replay_attack_header(op.replay_attack_header)
    )


def legacy_digest(domain: Domain, op: SignedOperation | LegacySignedOperation) -> bytes:
    """The digest a legacy 5-field signer signs (the InstantLayer's or GaslessGateway's domain)."""
    return keccak(b"\x19\x01" + separator(domain) + hash_legacy_signed_operation(op))


def hash_delegation_info(info: DelegationInfo) -> bytes:
    selectors = keccak(b"".join(s + bytes(28) for s in info.selectors))
    return keccak(
        TYPEHASH["DelegationInfo"]
        + hash_account(info.account)
        + _address_word(info.delegated_signer)
        + selectors
        + _uint_word(info.expiry_timestamp)
    )


def hash_signed_delegation(delegation: SignedDelegation) -> bytes:
    return keccak(
        TYPEHASH["SignedDelegation"]
        + hash_delegation_info(delegation.delegation_info)
        + hash_replay_attack_header(delegation.replay_attack_header)
    )


def hash_flex_fill_auth(auth: FlexFillAuth) -> bytes:
    return keccak(
        TYPEHASH["FlexFillAuth"] + auth.op_hash + _uint_word(auth.field_index) + keccak(auth.value)
    )


def _hash_leg(leg: Leg, type_name: str) -> bytes:
    encoded = (
        TYPEHASH[type_name]
        + keccak(leg.quantity.encode())
        + keccak(leg.price.encode())
        + _uint_word(leg.order_type)
        + keccak(leg.conditional_price.encode())
        + keccak(leg.conditional_price_type.encode())
    )
    if type_name == "SendQuote":
        assert isinstance(leg, SendQuoteLeg)
        encoded += _uint_word(leg.leverage)
    return keccak(encoded)


def hash_conditional_order(order: ConditionalOrder) -> bytes:
    return keccak(
        TYPEHASH["ConditionalOrder"]
        + _address_word(order.virtual_account)
        + _address_word(order.sub_account)
        + _uint_word(order.salt)
        + _int_word(order.quote_id)
        + _uint_word(order.symbol_id)
        + _uint_word(order.position_type)
        + _address_word(order.affiliate)
        + _hash_leg(order.take_profit, "TakeProfit")
        + _hash_leg(order.stop_loss, "StopLoss")
        + _hash_leg(order.send_quote, "SendQuote")
    )


def hash_conditional_order_delete(message: ConditionalOrderDelete) -> bytes:
    return keccak(
        TYPEHASH["ConditionalOrderDelete"]
        + _address_word(message.virtual_account)
        + _uint_word(message.salt)
        + _uint_word(message.coh_quote_id)
        + keccak(message.conditional_order_type.encode())
    )


_HASHERS = {
    Account: (hash_account, "Account"),
    FlexField: (hash_flex_field, "FlexField"),
    ReplayAttackHeader: (hash_replay_attack_header, "ReplayAttackHeader"),
    SignedOperation: (hash_signed_operation, "SignedOperation"),
    DelegationInfo: (hash_delegation_info, "DelegationInfo"),
    SignedDelegation: (hash_signed_delegation, "SignedDelegation"),
    FlexFillAuth: (hash_flex_fill_auth, "FlexFillAuth"),
    ConditionalOrder: (hash_conditional_order, "ConditionalOrder"),
    ConditionalOrderDelete: (hash_conditional_order_delete, "ConditionalOrderDelete"),
}


def primary_type(value: object) -> str:
    try:
        return _HASHERS[type(value)][1]
    except KeyError:
        raise TypeError(f"no EIP-712 type for {type(value).__name__}") from None


def struct_hash(value: object) -> bytes:
    """hashStruct(value) for any pinned struct (fast path)."""
    try:
        hasher = _HASHERS[type(value)][0]
    except KeyError:
        raise TypeError(f"no EIP-712 type for {type(value).__name__}") from None
    return hasher(value)  # type: ignore[operator]


def digest(domain: Domain, value: object) -> bytes:
    """keccak(0x1901 ‖ domainSeparator ‖ hashStruct(value)) — what the signer signs."""
    return keccak(b"\x19\x01" + separator(domain) + struct_hash(value))


def operation_digest(prefix: bytes, op: SignedOperation) -> bytes:
    """`digest` of a SignedOperation given `0x1901 ‖ separator` (a validator computes it once
    per domain: the hot path of every operation)."""
    return keccak(prefix + hash_signed_operation(op))


def sign(domain: Domain, value: object, key: bytes | str) -> bytes:
    """65-byte low-s signature (v in {27, 28}) of `value` under `domain`."""
    return signatures.sign_digest(key, digest(domain, value))


def recover(domain: Domain, value: object, signature: bytes) -> str:
    """The EIP-55 address that signed `value`; SignatureError if the signature is unacceptable."""
    return signatures.recover_digest(digest(domain, value), signature)


# --------------------------------------------------------------------------------------------
# Generic path: typed-data message dicts for eth-account (and for JSON typed data)


def message(value: object, type_name: str | None = None) -> dict[str, Any]:
    """The EIP-712 message of a struct as Python values (bytes stay bytes, ints stay ints).

    Derived from `TYPES`: a model dataclass lists its fields in the order of its pinned members
    (a test checks every pair), so member names are never retyped here.
    """
    name = type_name or primary_type(value)
    out: dict[str, Any] = {}
    for (member, member_type), f in zip(TYPES[name], fields(value), strict=True):  # type: ignore[arg-type]
        item = getattr(value, f.name)
        array = member_type.endswith("[]")
        base = _base_type(member_type)
        if base in TYPES:
            item = [message(x, base) for x in item] if array else message(item, base)
        elif array:
            item = list(item)
        out[member] = item
    return out


def typed_data(domain: Domain, value: object) -> dict[str, Any]:
    """The full typed-data object (`types`, `primaryType`, `domain`, `message`)."""
    primary = primary_type(value)
    return {
        "types": eip712_types(primary),
        "primaryType": primary,
        "domain": domain.as_dict(),
        "message": message(value),
    }


def generic_digest(domain: Domain, value: object) -> bytes:
    """The digest through eth-account's generic encoder (the reference the fast path must equal)."""
    # Imported here: eth-account pulls in py_ecc's BLS code (~0.4 s) that nothing else needs.
    from eth_account.messages import encode_typed_data

    signable = encode_typed_data(full_message=typed_data(domain, value))
    return keccak(b"\x19" + signable.version + signable.header + signable.body)
