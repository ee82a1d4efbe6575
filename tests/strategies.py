"""Hypothesis strategies for the protocol's values, shared by the test modules."""

from __future__ import annotations

from typing import Any

from eth_utils import to_checksum_address
from hypothesis import strategies as st

from harness.model import (
    Account,
    ConditionalOrder,
    DelegationInfo,
    Domain,
    FlexField,
    FlexFillAuth,
    Leg,
    ReplayAttackHeader,
    SendQuoteLeg,
    SignedDelegation,
    SignedOperation,
)
from harness.signatures import SECP256K1_N

uint256 = st.integers(min_value=0, max_value=2**256 - 1)
int256 = st.integers(min_value=-(2**255), max_value=2**255 - 1)
uint8 = st.integers(min_value=0, max_value=255)
bytes32 = st.binary(min_size=32, max_size=32)
addresses = st.binary(min_size=20, max_size=20).map(to_checksum_address)
private_keys = st.integers(min_value=1, max_value=SECP256K1_N - 1).map(
    lambda k: k.to_bytes(32, "big")
)
call_data = st.binary(min_size=0, max_size=600)
decimal_strings = st.one_of(
    st.just("0"),
    st.from_regex(r"[1-9][0-9]{0,20}(\.[0-9]{1,18})?", fullmatch=True),
    st.from_regex(r"0\.[0-9]{1,18}", fullmatch=True),
)

accounts = st.builds(Account, addresses, st.booleans())
flex_fields = st.builds(FlexField, uint256, uint256, addresses)
headers = st.builds(ReplayAttackHeader, uint256, uint256, bytes32)
signed_operations = st.builds(
    SignedOperation,
    signer=addresses,
    target=addresses,
    call_data=call_data,
    signer_account=accounts,
    flex_fields=st.lists(flex_fields, max_size=3).map(tuple),
    max_uses=uint256,
    replay_attack_header=headers,
)
delegation_infos = st.builds(
    DelegationInfo,
    accounts,
    addresses,
    st.lists(st.binary(min_size=4, max_size=4), max_size=6).map(tuple),
    uint256,
)
signed_delegations = st.builds(SignedDelegation, delegation_infos, headers)
flex_fill_auths = st.builds(FlexFillAuth, bytes32, uint256, st.binary(max_size=100))
legs = st.builds(
    Leg,
    decimal_strings,
    decimal_strings,
    uint8,
    decimal_strings,
    st.sampled_from(["market", "last_close"]),
)
send_quote_legs = st.builds(
    SendQuoteLeg,
    decimal_strings,
    decimal_strings,
    uint8,
    decimal_strings,
    st.sampled_from(["market", "last_close"]),
    uint256,
)
conditional_orders = st.builds(
    ConditionalOrder,
    virtual_account=addresses,
    sub_account=addresses,
    salt=uint256,
    quote_id=int256,
    symbol_id=uint256,
    position_type=uint8,
    affiliate=addresses,
    take_profit=legs,
    stop_loss=legs,
    send_quote=send_quote_legs,
)
domains = st.builds(
    Domain,
    st.text(max_size=30),
    st.text(max_size=5),
    uint256,
    addresses,
)
signable = st.one_of(
    signed_operations, signed_delegations, delegation_infos, flex_fill_auths, conditional_orders
)

json_values: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=30,
)


def abi_values(type_str: str) -> st.SearchStrategy[Any]:
    """Values of an ABI type string, as eth-abi decodes them (addresses lowercase)."""
    if type_str.endswith("[]"):
        return st.lists(abi_values(type_str[:-2]), max_size=3).map(tuple)
    if type_str.startswith("("):
        return st.tuples(*(abi_values(t) for t in split_tuple(type_str)))
    if type_str == "address":
        return st.binary(min_size=20, max_size=20).map(lambda b: "0x" + b.hex())
    if type_str == "bool":
        return st.booleans()
    if type_str == "string":
        return st.text(max_size=40)
    if type_str == "bytes":
        return st.binary(max_size=80)
    if type_str.startswith("bytes"):
        n = int(type_str[5:])
        return st.binary(min_size=n, max_size=n)
    if type_str.startswith("uint"):
        return st.integers(min_value=0, max_value=2 ** int(type_str[4:] or 256) - 1)
    if type_str.startswith("int"):
        bits = int(type_str[3:] or 256)
        return st.integers(min_value=-(2 ** (bits - 1)), max_value=2 ** (bits - 1) - 1)
    raise ValueError(type_str)


def split_tuple(type_str: str) -> list[str]:
    """Top-level member types of a tuple type string '(a,(b,c),d[])'."""
    inner, depth, parts, current = type_str[1:-1], 0, [], ""
    for ch in inner:
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
            continue
        depth += ch == "("
        depth -= ch == ")"
        current += ch
    if current:
        parts.append(current)
    return parts


def json_leaves(value, path=()):
    """(path, value) of `value` and of everything inside it, depth first (paths as tuples of
    keys and indexes)."""
    yield path, value
    if isinstance(value, dict):
        for key, child in value.items():
            yield from json_leaves(child, (*path, key))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from json_leaves(child, (*path, i))
