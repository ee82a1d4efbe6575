"""Raw secp256k1 signatures as the InstantLayer accepts them (OZ 4.9 ECDSA, spec §3 step 6).

Always 65 bytes `r || s || v`, `s` in the lower half of the curve order, `v` in {27, 28}. Signing
and recovery go straight to libsecp256k1 through coincurve: eth-account's generic path is ~1,000
recoveries a second here, the raw floor ~18,000.
"""

from __future__ import annotations

from collections.abc import Iterable

from coincurve import PrivateKey
from coincurve._libsecp256k1 import ffi as _ffi
from coincurve._libsecp256k1 import lib as _lib
from coincurve.context import GLOBAL_CONTEXT
from coincurve.flags import EC_UNCOMPRESSED as _EC_UNCOMPRESSED

from .errors import SignatureError
from .primitives import eip55, keccak

_CTX = GLOBAL_CONTEXT.ctx

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
SECP256K1_HALF_N = SECP256K1_N // 2
SIGNATURE_LENGTH = 65


def private_key_bytes(key: bytes | str) -> bytes:
    """A 32-byte private key from bytes or 0x-hex. The key itself never appears in an error."""
    if isinstance(key, str):
        text = key[2:] if key[:2] in ("0x", "0X") else key
        try:
            raw = bytes.fromhex(text)
        except ValueError:
            raise SignatureError("private key: expected 64 hex digits") from None
    elif isinstance(key, bytes | bytearray):
        raw = bytes(key)
    else:
        raise SignatureError(f"private key: expected bytes or hex, got {type(key).__name__}")
    if len(raw) != 32 or not 0 < int.from_bytes(raw, "big") < SECP256K1_N:
        raise SignatureError("private key: expected a 32-byte scalar in 1..n-1")
    return raw


def address_of(key: bytes | str) -> str:
    """EIP-55 address of a private key."""
    public = PrivateKey(private_key_bytes(key)).public_key.format(compressed=False)
    return eip55("0x" + keccak(public[1:])[12:].hex())


def sign_digest(key: bytes | str, digest: bytes) -> bytes:
    """Sign a 32-byte digest: 65 bytes r||s||v, low s (libsecp256k1 normalises), v in {27, 28}."""
    if len(digest) != 32:
        raise SignatureError(f"digest: expected 32 bytes, got {len(digest)}")
    raw = PrivateKey(private_key_bytes(key)).sign_recoverable(digest, hasher=None)
    return raw[:64] + bytes([raw[64] + 27])


def check_signature(signature: bytes) -> tuple[int, int, int]:
    """(r, s, v) of a signature the InstantLayer would accept, or SignatureError saying why not
    and which rule it breaks (checked in this order: length, v, r/s range, high s)."""
    if len(signature) != SIGNATURE_LENGTH:
        raise SignatureError(
            f"expected {SIGNATURE_LENGTH} bytes (r||s||v), got {len(signature)}", "sig.length"
        )
    v = signature[64]
    if v not in (27, 28):
        hint = f" (v {v} looks like a recovery id: add 27)" if v in (0, 1) else ""
        raise SignatureError(f"expected v 27 or 28, got {v}{hint}", "sig.v")
    r = int.from_bytes(signature[:32], "big")
    s = int.from_bytes(signature[32:64], "big")
    if not (0 < r < SECP256K1_N and 0 < s < SECP256K1_N):
        name, value = ("r", r) if not 0 < r < SECP256K1_N else ("s", s)
        what = "zero" if value == 0 else "not below the curve order n"
        raise SignatureError(f"{name} is {what}", "sig.range")
    if s > SECP256K1_HALF_N:
        raise SignatureError(
            "s is in the upper half of the curve order (high-s), which OZ ECDSA rejects: use "
            "n - s and flip v",
            "sig.low-s",
        )
    return r, s, v


_N_BYTES = SECP256K1_N.to_bytes(32, "big")
_HALF_N_BYTES = SECP256K1_HALF_N.to_bytes(32, "big")
_ZERO_32 = bytes(32)


def well_formed(signature: bytes) -> bool:
    """True when `check_signature` would accept `signature`: the same rules, read as big-endian
    byte strings of one length (whose order is their numeric order) instead of integers."""
    return (
        len(signature) == SIGNATURE_LENGTH
        and (signature[64] == 27 or signature[64] == 28)
        and _ZERO_32 < signature[:32] < _N_BYTES
        and _ZERO_32 < signature[32:64] <= _HALF_N_BYTES
    )


def recover_address_bytes(digest: bytes, signature: bytes) -> bytes:
    """The 20 address bytes that signed `digest`, for a signature that passed check_signature.

    No EIP-55 formatting: hot paths (the validator) compare bytes. Straight to libsecp256k1
    through coincurve's own cffi binding (parse, recover, serialise: what
    `PublicKey.from_signature_and_message(...).format(False)` does, without its objects; a test
    proves them equal). SignatureError (sig.unrecoverable) when no public key recovers.
    """
    (got,) = recover_many([(digest, signature)])
    if isinstance(got, SignatureError):
        raise got
    return got


def recover_many(pairs: Iterable[tuple[bytes, bytes]]) -> list[bytes | SignatureError]:
    """`recover_address_bytes` of each (digest, signature), in order, with libsecp256k1's in/out
    structures allocated once for all of them; a pair that does not recover gives its
    SignatureError (sig.unrecoverable) in its place."""
    parsed = _ffi.new("secp256k1_ecdsa_recoverable_signature *")
    public = _ffi.new("secp256k1_pubkey *")
    out = _ffi.new("unsigned char[65]")
    size = _ffi.new("size_t *", 65)
    serialised = _ffi.buffer(out, 65)
    parse, recover, serialize = (
        _lib.secp256k1_ecdsa_recoverable_signature_parse_compact,
        _lib.secp256k1_ecdsa_recover,
        _lib.secp256k1_ec_pubkey_serialize,
    )
    results: list[bytes | SignatureError] = []
    for digest, signature in pairs:
        rec_id = signature[64] - 27 if len(signature) == SIGNATURE_LENGTH else -1
        if len(digest) != 32 or not 0 <= rec_id <= 3:
            results.append(
                SignatureError("signature does not recover to a public key", "sig.unrecoverable")
            )
        elif parse(_CTX, parsed, signature, rec_id) and recover(_CTX, public, parsed, digest):
            # parse_compact reads the first 64 bytes (r || s) of the 65 given
            size[0] = 65
            serialize(_CTX, out, size, public, _EC_UNCOMPRESSED)
            results.append(keccak(serialised[1:])[12:])
        else:
            results.append(
                SignatureError(
                    "signature does not recover to a public key (failed to recover ECDSA "
                    "public key)",
                    "sig.unrecoverable",
                )
            )
    return results


def recover_digest(digest: bytes, signature: bytes) -> str:
    """EIP-55 address that signed `digest`; SignatureError for anything OZ ECDSA would reject."""
    check_signature(signature)
    return eip55("0x" + recover_address_bytes(digest, signature).hex())


def to_high_s(signature: bytes) -> bytes:
    """The malleable twin of a low-s signature (same signer, s' = n - s, v flipped).

    For negative tests: the contract and the validator must both reject it.
    """
    r, s, v = signature[:32], int.from_bytes(signature[32:64], "big"), signature[64]
    return r + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - v])
