"""EIP-712 types, domains and hashing for the pinned v0.8.5 structs (spec §3).

Two ways to hash the same value, which property tests prove equal:
- the generic path: `typed_data(domain, value)` fed to eth-account's encoder (`generic_digest`);
- the fast path: `struct_hash` / `digest`, one small function per struct with the typehashes
  precomputed and words encoded directly, as `hashStruct` is written in the EIP, generated from
  `TYPES` (nothing about a struct is written twice).

Type strings are derived from `TYPES` by `encode_type`, never retyped; tests check them and their
typehashes against the values in contracts-and-services.md.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from . import signatures
from .model import (
    Account,
    CancelConditionalOrder,
    ConditionalOrder,
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
    # The cancel message, as the COH serves it at /api/v5/signing-spec-del (the SDK's "realistic
    # handler payload" fixture of getTpSlDeleteSigningSpec; deleteQuoteTpSl signs it).
    "CancelConditionalOrder": (
        ("virtualAccount", "address"),
        ("salt", "string"),
        ("cohQuoteId", "string"),
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


def instant_layer_domain(chain_id: int, instant_layer: str) -> Domain:
    return Domain(INSTANT_LAYER_DOMAIN_NAME, INSTANT_LAYER_DOMAIN_VERSION, chain_id, instant_layer)


def default_conditional_order_domain(chain_id: int, instant_layer: str) -> Domain:
    """The documented default; the real domain is configuration (served at /api/v5/signing-spec)."""
    return Domain(
        CONDITIONAL_ORDER_DOMAIN_NAME, CONDITIONAL_ORDER_DOMAIN_VERSION, chain_id, instant_layer
    )


# --------------------------------------------------------------------------------------------
# Fast path: hashStruct per type, generated from TYPES

#: The model class of each pinned type: its fields are the type's members, in order and named
#: in snake_case (a test checks every pair); the hashers and `message` read members by name.
MODELS: dict[str, type] = {
    "EIP712Domain": Domain,
    "Account": Account,
    "FlexField": FlexField,
    "ReplayAttackHeader": ReplayAttackHeader,
    "SignedOperation": SignedOperation,
    "DelegationInfo": DelegationInfo,
    "SignedDelegation": SignedDelegation,
    "FlexFillAuth": FlexFillAuth,
    "ConditionalOrder": ConditionalOrder,
    "TakeProfit": Leg,
    "StopLoss": Leg,
    "SendQuote": SendQuoteLeg,
    "CancelConditionalOrder": CancelConditionalOrder,
}

_ZERO_12 = bytes(12)
_FALSE_WORD = bytes(32)
_TRUE_WORD = bytes(31) + b"\x01"
_EMPTY_ARRAY_HASH = keccak(b"")


@lru_cache(maxsize=1 << 12)
def _address_word(address: str) -> bytes:
    return _ZERO_12 + address_bytes(address)


@lru_cache(maxsize=256)
def attribute(member: str) -> str:
    """The model attribute of a member: its name in snake_case (`signerAccount` ->
    `signer_account`; a test checks that every model follows its type). Cached: the writer,
    `message` and `abi_args` ask it for every member of every value."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", member).lower()


def _member_word(member_type: str, value: str, hashers: dict[str, str]) -> str:
    """Source of the 32-byte encodeData word of one member (EIP-712 `encodeData`)."""
    if member_type.endswith("[]"):
        item = _member_word(member_type[:-2], "item", hashers)
        return (
            f"(_keccak(b''.join([{item} for item in {value}])) if {value} else _EMPTY_ARRAY_HASH)"
        )
    if member_type in hashers:
        return f"{hashers[member_type]}({value})"
    if member_type == "address":
        return f"_address_word({value})"
    if member_type == "bool":
        return f"(_TRUE_WORD if {value} else _FALSE_WORD)"
    if member_type == "bytes":
        return f"_keccak({value})"
    if member_type == "string":
        return f"_keccak({value}.encode())"
    if member_type.startswith("uint"):
        return f"{value}.to_bytes(32, 'big')"
    if member_type.startswith("int"):
        return f"{value}.to_bytes(32, 'big', signed=True)"
    if member_type.startswith("bytes"):  # bytesN: left-aligned, zero-padded
        pad = 32 - int(member_type[5:])
        return f"{value} + {bytes(pad)!r}" if pad else value
    raise TypeError(f"no EIP-712 encoding for member type {member_type}")


def _compile_hashers(
    types: dict[str, Fields], names: dict[str, str], cached: frozenset[str]
) -> dict[str, Any]:
    """`hashStruct` of each type in `names` (type -> function name), generated from its members:
    one keccak over the typehash and the members' words joined, as
    the EIP writes it. Types in `cached` recur in every body (accounts) and are memoised."""
    namespace: dict[str, Any] = {
        "_keccak": keccak,
        "_address_word": _address_word,
        "_TRUE_WORD": _TRUE_WORD,
        "_FALSE_WORD": _FALSE_WORD,
        "_EMPTY_ARRAY_HASH": _EMPTY_ARRAY_HASH,
    }
    lines = []
    for type_name, function in names.items():
        namespace[f"_TYPEHASH_{function}"] = type_hash(type_name, types)
        words = [
            _member_word(member_type, f"value.{attribute(member)}", names)
            for member, member_type in types[type_name]
        ]
        lines += [
            f"def {function}(value):",
            f"    return _keccak(b''.join((_TYPEHASH_{function}, {', '.join(words)})))",
        ]
    exec(compile("\n".join(lines), "<eip712 hashers>", "exec"), namespace)  # our own source
    out = {}
    for type_name, function in names.items():
        hasher = namespace[function]
        if type_name in cached:
            hasher = namespace[function] = lru_cache(maxsize=1 << 12)(hasher)
        out[type_name] = hasher
    return out


_GENERATED = _compile_hashers(
    TYPES, {name: f"hash_{name}" for name in TYPES}, frozenset(("Account", "EIP712Domain"))
)
# The legacy 5-field SignedOperation over the members both generations share (for a 7-field op:
# what its signature would be over if it was made with the old type).
_LEGACY = _compile_hashers(
    {**TYPES, "SignedOperation": LEGACY_SIGNED_OPERATION},
    {
        "SignedOperation": "hash_legacy",
        "Account": "hash_Account",
        "ReplayAttackHeader": "hash_ReplayAttackHeader",
    },
    frozenset(("Account",)),
)

separator = _GENERATED["EIP712Domain"]  # hashStruct(EIP712Domain), the domain separator
hash_account = _GENERATED["Account"]
hash_flex_field = _GENERATED["FlexField"]
hash_replay_attack_header = _GENERATED["ReplayAttackHeader"]
hash_signed_operation = _GENERATED["SignedOperation"]
hash_legacy_signed_operation = _LEGACY["SignedOperation"]
hash_delegation_info = _GENERATED["DelegationInfo"]
hash_signed_delegation = _GENERATED["SignedDelegation"]
hash_flex_fill_auth = _GENERATED["FlexFillAuth"]
hash_conditional_order = _GENERATED["ConditionalOrder"]
hash_cancel_conditional_order = _GENERATED["CancelConditionalOrder"]


def legacy_digest(domain: Domain, op: SignedOperation | LegacySignedOperation) -> bytes:
    """The digest a legacy 5-field signer signs (the InstantLayer's or GaslessGateway's domain)."""
    return keccak(b"\x19\x01" + separator(domain) + hash_legacy_signed_operation(op))


# The primary types a value is signed as (the legs are members only, and share one class).
_HASHERS = {
    MODELS[name]: (_GENERATED[name], name)
    for name in TYPES
    if name not in ("EIP712Domain", "TakeProfit", "StopLoss", "SendQuote")
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

    Derived from `TYPES`: each member is read from the model attribute of its name (a test
    checks that every model follows its type), so member names are never retyped here.
    """
    name = type_name or primary_type(value)
    out: dict[str, Any] = {}
    for member, member_type in TYPES[name]:
        item = getattr(value, attribute(member))
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
