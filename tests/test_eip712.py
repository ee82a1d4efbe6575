"""EIP-712 types, hashes and signatures against the facts file (contracts-and-services.md §3)."""

from __future__ import annotations

import dataclasses

import pytest
from eth_account import Account as EthAccount
from eth_utils import to_checksum_address
from hypothesis import given
from hypothesis import strategies as st

from harness import calldata as cd
from harness import eip712
from harness.errors import SignatureError
from harness.model import (
    Account,
    DelegationInfo,
    FlexField,
    ReplayAttackHeader,
    SignedDelegation,
    SignedOperation,
)
from harness.primitives import keccak, to_hex
from harness.signatures import (
    SECP256K1_HALF_N,
    SECP256K1_N,
    address_of,
    check_signature,
    recover_digest,
    sign_digest,
    to_high_s,
    well_formed,
)
from tests import strategies as s

# Known answers, copied from contracts-and-services.md §3 (recomputed there with keccak).
TYPEHASHES = {
    "EIP712Domain": "8b73c3c69bb8fe3d512ecc4cf759cc79239f7b179b0ffacaa9a75d522b39400f",
    "Account": "31d614fa0ffec792c91f16dfe66078409e8b9f97745247e5c1f8ed002a7ee289",
    "ReplayAttackHeader": "4ea556deed6f321beabcaecdbed7ae2fcd767b4da2c7f293f1c4eb8e852274c2",
    "FlexField": "0cc46038915888be0b6b7d7a9bd527d91ab573986db7973054b22213256163b2",
    "SignedOperation": "70d230c2c569f040b54e4305d0a1edee21d19fed14158fa50eb11d5220c9a9c5",
    "DelegationInfo": "f92b10cbd34e2cbf63ff07f483a9766340058875987819d5a025d04353b7e321",
    "SignedDelegation": "1faf52f2c2de9258d9608231ba85da6933c891faec7f7acf7fd96d2941d40573",
    "FlexFillAuth": "6f4c730db2efef49e0244b002b0f48cb41264f7aa6a1d29ed3521812c768c0a3",
    "ConditionalOrder": "85fe96e9b92659cfa4e8d229e64ae42f7134291fe9e582f7a3914211e8d94000",
    "TakeProfit": "2e4835049390b150a582f0811cbad740f880c3f3607b911153f5291d197cd35c",
    "StopLoss": "3baff35491fc3d4b773c6d8cb572480c36650eaee67f602788afacd4ddd114af",
    "SendQuote": "1b254edeec31f3f31271fdebe7f358d008bc1da099ac2b3ecef269d10b1ec965",
}
LEGACY_TYPEHASH = "14d2e9ae5dfb61c1e01219ab2f62a7f85fa235e88aba7ae3153d14465bb7f4c7"
SIGNED_OPERATION_ENCODE_TYPE = (
    "SignedOperation(address signer,address target,bytes callData,Account signerAccount,"
    "FlexField[] flexFields,uint256 maxUses,ReplayAttackHeader replayAttackHeader)"
    "Account(address addr,bool isPartyB)"
    "FlexField(uint256 offset,uint256 length,address authorizedFlexFiller)"
    "ReplayAttackHeader(uint256 nonce,uint256 deadline,bytes32 salt)"
)

VECTOR_KEY = "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
VECTOR_DOMAIN = eip712.instant_layer_domain(999, "0x72DBF07457b2712b160F67A85D338F860c1CA620")
A33 = to_checksum_address("0x" + "33" * 20)
A44 = to_checksum_address("0x" + "44" * 20)


def vector_operation(flex: tuple[FlexField, ...] = ()) -> SignedOperation:
    return SignedOperation(
        signer=address_of(VECTOR_KEY),
        target="0x57331038c21982116EE9b0906E4a5c5cB52dcE2e",
        call_data=cd.REQUEST_TO_CLOSE_POSITION.encode(42, 10**18, 5 * 10**18, 1, 1700000000),
        signer_account=Account(A33, False),
        flex_fields=flex,
        max_uses=1,
        replay_attack_header=ReplayAttackHeader(0, 1700000000, b"\x11" * 32),
    )


@pytest.mark.parametrize("name", sorted(TYPEHASHES))
def test_typehash_known_answer(name: str) -> None:
    got = eip712.TYPEHASH[name].hex()
    assert got == TYPEHASHES[name], f"{name}: typehash {got}, facts file says {TYPEHASHES[name]}"


def test_signed_operation_encode_type_is_the_pinned_7_field_string() -> None:
    assert eip712.encode_type("SignedOperation") == SIGNED_OPERATION_ENCODE_TYPE


def test_legacy_5_field_typehash_is_recognisable() -> None:
    assert eip712.LEGACY_SIGNED_OPERATION_TYPEHASH.hex() == LEGACY_TYPEHASH
    assert [n for n, _ in eip712.LEGACY_SIGNED_OPERATION] == [
        "signer",
        "target",
        "callData",
        "signerAccount",
        "replayAttackHeader",
    ]


def test_conditional_order_referenced_types_in_eip712_order() -> None:
    assert eip712.referenced_types("ConditionalOrder") == ["SendQuote", "StopLoss", "TakeProfit"]


def test_vector_signer_address() -> None:
    assert address_of(VECTOR_KEY) == "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23"


def test_vector_domain_separator() -> None:
    expected = "e0ce24f65991ba2a22215fb776b2a8fb5dd303ee3a310293777afa9ead8c7d49"
    assert eip712.separator(VECTOR_DOMAIN).hex() == expected


@pytest.mark.parametrize(
    ("flex", "expected"),
    [
        ((), "52fdc463f818d4a9f1036abf588f8629de06943b13e5370bc48247f662f8d67e"),
        (
            (FlexField(36, 32, A44),),
            "e76374a46dd3970c8f8abe4582a615543fc8d7d14d3a9c5588d97da7150185c7",
        ),
    ],
    ids=["no-flex-fields", "one-flex-field"],
)
def test_signed_operation_digest_vector(flex: tuple[FlexField, ...], expected: str) -> None:
    op = vector_operation(flex)
    assert eip712.digest(VECTOR_DOMAIN, op).hex() == expected, "fast path"
    assert eip712.generic_digest(VECTOR_DOMAIN, op).hex() == expected, "eth-account path"


def test_signed_delegation_digest_vector() -> None:
    info = DelegationInfo(
        Account(A33, False),
        A44,
        tuple(bytes.fromhex(x) for x in ("a6d66852", "a7f3b34b", "501e891f", "00000001")),
        1800000000,
    )
    value = SignedDelegation(info, ReplayAttackHeader(1, 0, b"\x11" * 32))
    expected = "df4877eae8c09e251491dd28538d5bb2aa01556a72c32c487ac2492a071d0678"
    assert eip712.digest(VECTOR_DOMAIN, value).hex() == expected
    assert eip712.generic_digest(VECTOR_DOMAIN, value).hex() == expected


@given(s.domains, s.signable)
def test_fast_path_equals_eth_account(domain, value) -> None:
    fast = eip712.digest(domain, value).hex()
    generic = eip712.generic_digest(domain, value).hex()
    assert fast == generic, f"{type(value).__name__}: fast {fast} != eth-account {generic}"


@given(s.private_keys, s.domains, s.signable)
def test_sign_then_recover_gives_the_signer(key, domain, value) -> None:
    signature = eip712.sign(domain, value, key)
    assert eip712.recover(domain, value, signature) == address_of(key)


@given(s.private_keys, st.binary(min_size=32, max_size=32))
def test_every_signature_is_65_bytes_low_s_v27_28_and_130_hex_digits(key, digest) -> None:
    signature = sign_digest(key, digest)
    assert len(signature) == 65
    assert signature[64] in (27, 28), f"v = {signature[64]}"
    assert int.from_bytes(signature[32:64], "big") <= SECP256K1_HALF_N, "high s"
    text = to_hex(signature)
    assert text.startswith("0x") and len(text) == 132, f"{len(text) - 2} hex digits"


@given(s.private_keys, s.domains, s.signed_operations)
def test_signature_equals_eth_account_sign_typed_data(key, domain, op) -> None:
    ours = eip712.sign(domain, op, key)
    theirs = EthAccount.sign_typed_data(key, full_message=eip712.typed_data(domain, op))
    assert ours == bytes(theirs.signature)


def test_leading_zero_signature_keeps_every_hex_digit() -> None:
    """The spec snippet's `.hex().lstrip("0x")` drops r's leading zeros; to_hex must not."""
    key = bytes.fromhex(VECTOR_KEY[2:])
    for i in range(10_000):
        signature = sign_digest(key, i.to_bytes(32, "big"))
        if signature.hex().startswith("0"):
            break
    else:  # pragma: no cover - 1 in 16 signatures starts with a zero digit
        pytest.fail("no leading-zero signature found")
    snippet = "0x" + signature.hex().lstrip("0x")
    assert len(snippet) < 132, "the snippet's bug would not show on this signature"
    assert to_hex(signature) == "0x" + signature.hex() and len(to_hex(signature)) == 132


def _mutations(op: SignedOperation) -> dict[str, SignedOperation]:
    h = op.replay_attack_header
    flip = bytes([op.call_data[0] ^ 1]) + op.call_data[1:] if op.call_data else b"\x00"
    other = to_checksum_address(bytes(19) + b"\x01")
    replace = dataclasses.replace
    return {
        "signer": replace(op, signer=other if op.signer != other else A33),
        "target": replace(op, target=other if op.target != other else A33),
        "callData": replace(op, call_data=flip),
        "signerAccount.addr": replace(
            op,
            signer_account=Account(
                other if op.signer_account.addr != other else A33, op.signer_account.is_party_b
            ),
        ),
        "signerAccount.isPartyB": replace(
            op, signer_account=Account(op.signer_account.addr, not op.signer_account.is_party_b)
        ),
        "flexFields": replace(op, flex_fields=(*op.flex_fields, FlexField(0, 0, A44))),
        "maxUses": replace(op, max_uses=(op.max_uses + 1) % 2**256),
        "nonce": replace(op, replay_attack_header=replace(h, nonce=(h.nonce + 1) % 2**256)),
        "deadline": replace(
            op, replay_attack_header=replace(h, deadline=(h.deadline + 1) % 2**256)
        ),
        "salt": replace(
            op, replay_attack_header=replace(h, salt=bytes([h.salt[0] ^ 0x80]) + h.salt[1:])
        ),
    }


@given(s.domains, s.signed_operations)
def test_changing_any_signed_field_changes_the_digest(domain, op) -> None:
    original = eip712.digest(domain, op)
    for field, mutated in _mutations(op).items():
        assert eip712.digest(domain, mutated) != original, f"digest ignores {field}"


@given(s.domains, s.domains, s.signed_operations)
def test_changing_the_domain_changes_the_digest(d1, d2, op) -> None:
    if d1 != d2:
        assert eip712.digest(d1, op) != eip712.digest(d2, op)


def test_high_s_twin_is_rejected() -> None:
    signature = sign_digest(VECTOR_KEY, b"\x22" * 32)
    with pytest.raises(SignatureError, match="high-s"):
        recover_digest(b"\x22" * 32, to_high_s(signature))


@pytest.mark.parametrize("v", [0, 1, 29, 35])
def test_v_outside_27_28_is_rejected(v: int) -> None:
    signature = sign_digest(VECTOR_KEY, b"\x22" * 32)
    with pytest.raises(SignatureError, match="expected v 27 or 28") as caught:
        check_signature(signature[:64] + bytes([v]))
    assert caught.value.rule == "sig.v"


@pytest.mark.parametrize("length", [0, 64, 66])
def test_signature_length_other_than_65_is_rejected(length: int) -> None:
    with pytest.raises(SignatureError, match="expected 65 bytes"):
        check_signature(b"\x01" * length)


_EDGE_SCALARS = st.sampled_from(
    [0, 1, SECP256K1_HALF_N, SECP256K1_HALF_N + 1, SECP256K1_N - 1, SECP256K1_N, 2**256 - 1]
)


@given(
    r=st.one_of(_EDGE_SCALARS, st.integers(0, 2**256 - 1)),
    s_=st.one_of(_EDGE_SCALARS, st.integers(0, 2**256 - 1)),
    v=st.sampled_from([0, 1, 26, 27, 28, 29, 255]),
    length=st.sampled_from([65, 65, 65, 64, 66]),
)
def test_well_formed_accepts_exactly_what_check_signature_accepts(r, s_, v, length) -> None:
    signature = (r.to_bytes(32, "big") + s_.to_bytes(32, "big") + bytes([v]) + bytes(1))[:length]
    try:
        check_signature(signature)
        accepted = True
    except SignatureError:
        accepted = False
    assert well_formed(signature) is accepted, (r, s_, v, length)


def test_model_fields_follow_the_pinned_members_in_order() -> None:
    """`eip712.message` (and the wire keys) are derived from TYPES by position: each model
    dataclass must list its fields as the pinned members, in order (snake_case of camelCase)."""
    import re
    from dataclasses import fields

    pairs = eip712.MODELS
    assert set(pairs) == set(eip712.TYPES)
    snake = lambda name: re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()  # noqa: E731
    for type_name, cls in pairs.items():
        members = [snake(name) for name, _ in eip712.TYPES[type_name]]
        assert [f.name for f in fields(cls)] == members, type_name


@given(s.domains, s.signed_operations)
def test_the_legacy_5_field_digest_equals_eth_account_over_the_legacy_type(domain, op) -> None:
    from eth_account.messages import encode_typed_data

    types = eip712.eip712_types("SignedOperation")
    types["SignedOperation"] = [{"name": n, "type": t} for n, t in eip712.LEGACY_SIGNED_OPERATION]
    del types["FlexField"]
    message = eip712.message(op)
    del message["flexFields"], message["maxUses"]
    signable = encode_typed_data(
        full_message={
            "types": types,
            "primaryType": "SignedOperation",
            "domain": domain.as_dict(),
            "message": message,
        }
    )
    generic = keccak(b"\x19" + signable.version + signable.header + signable.body)
    assert eip712.legacy_digest(domain, op) == generic


def test_recover_many_gives_each_pair_its_signer_or_its_error_in_place() -> None:
    from harness.signatures import recover_address_bytes, recover_many

    digest = b"\x22" * 32
    good = sign_digest(VECTOR_KEY, digest)
    other = sign_digest(VECTOR_KEY, b"\x33" * 32)
    bad_v = good[:64] + bytes([1])  # a recovery id, not 27/28
    no_point = bytes(31) + b"\x05" + good[32:]  # r = 5: no curve point for it here
    got = recover_many([(digest, good), (digest, bad_v), (b"\x33" * 32, other), (digest, no_point)])
    signer = bytes.fromhex(address_of(VECTOR_KEY)[2:])
    assert got[0] == signer == got[2] == recover_address_bytes(digest, good)
    assert isinstance(got[1], SignatureError) and got[1].rule == "sig.unrecoverable"
    assert isinstance(got[3], SignatureError) or got[3] != signer
