"""Primitive values of the protocol: addresses, hex strings, integer ranges, keccak.

The spec's snippets turn a signature into text with `.hex().lstrip("0x")`, which also strips the
leading zero digits of `r` (about one signature in sixteen). Every byte string here is rendered by
`to_hex`, which keeps every digit.
"""

from __future__ import annotations

import re
from functools import lru_cache

from .errors import InputError

try:  # safe-pysha3: C keccak with no per-call Python wrapper (6x pycryptodome's per-call cost)
    from sha3 import keccak_256 as _keccak_256
except ImportError:  # pragma: no cover - pycryptodome is always there (eth-hash[pycryptodome])
    from Crypto.Hash import keccak as _keccak

    def _keccak_256(data: bytes) -> object:  # type: ignore[misc]
        return _keccak.new(data=data, digest_bits=256)


UINT256_MAX = 2**256 - 1
INT256_MIN = -(2**255)
INT256_MAX = 2**255 - 1
UINT8_MAX = 2**8 - 1
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"


def keccak(data: bytes) -> bytes:
    """keccak-256 (the hot paths call it several times per operation)."""
    return _keccak_256(data).digest()  # type: ignore[attr-defined]


def to_hex(data: bytes) -> str:
    """0x-prefixed lowercase hex with every digit kept (2 per byte)."""
    return "0x" + bytes(data).hex()


@lru_cache(maxsize=1 << 14)
def eip55(address: str) -> str:
    """EIP-55 form of a 0x + 40-hex-digit address (any case).

    Equal to eth_utils.to_checksum_address (a test proves it) at a fifth of the cost, and cached:
    the same few addresses (signer, targets, accounts) recur in every body a reader sees.
    """
    digits = address[2:].lower()
    nibbles = keccak(digits.encode()).hex()
    return "0x" + "".join(
        c.upper() if n >= "8" else c for c, n in zip(digits, nibbles, strict=False)
    )


def checksum_address(value: str | bytes, field: str = "address") -> str:
    """EIP-55 form of a 20-byte address given as bytes or 0x-hex (any case)."""
    if isinstance(value, bytes | bytearray):
        if len(value) != 20:
            raise InputError(field, f"expected 20 bytes, got {len(value)}")
        return eip55("0x" + bytes(value).hex())
    if not isinstance(value, str):
        raise InputError(field, f"expected an address string, got {type(value).__name__}")
    body = value[2:] if value[:2] in ("0x", "0X") else None
    if body is None or len(body) != 40 or not _is_hex(body):
        raise InputError(field, f"expected 0x followed by 40 hex digits, got {value!r}")
    return eip55("0x" + body)


def require_checksum_address(value: object, field: str) -> str:
    """Accept only an address already in EIP-55 form (what builders and typed values store)."""
    if value.__class__ is str and _is_checksummed(value):  # type: ignore[arg-type]
        return value  # type: ignore[return-value]
    if not isinstance(value, str):
        raise InputError(field, f"expected an EIP-55 address string, got {type(value).__name__}")
    good = checksum_address(value, field)
    if good != value:
        raise InputError(field, f"address {value!r} is not in EIP-55 checksum form ({good})")
    return value


@lru_cache(maxsize=1 << 14)
def _is_checksummed(value: str) -> bool:
    """True for 0x + 40 hex digits in EIP-55 form (cached: typed values are built from the same
    few addresses over and over)."""
    return len(value) == 42 and value[:2] == "0x" and _is_hex(value[2:]) and eip55(value) == value


def address_bytes(address: str) -> bytes:
    return bytes.fromhex(address[2:])


def require_uint(value: object, field: str, bits: int = 256) -> int:
    # bool is an int subclass: rejected explicitly; IntEnum members (protocol enums) are ints
    if not isinstance(value, int) or isinstance(value, bool):
        raise InputError(field, f"expected an integer, got {type(value).__name__}")
    if value < 0 or value >= 1 << bits:
        raise InputError(field, f"expected a uint{bits} (0..2**{bits}-1), got {value}")
    return value


def require_int256(value: object, field: str) -> int:
    if type(value) is not int:
        raise InputError(field, f"expected an integer, got {type(value).__name__}")
    if not INT256_MIN <= value <= INT256_MAX:
        raise InputError(field, f"expected an int256, got {value}")
    return value


def require_bytes(value: object, field: str, length: int | None = None) -> bytes:
    if not isinstance(value, bytes | bytearray):
        raise InputError(field, f"expected bytes, got {type(value).__name__}")
    if length is not None and len(value) != length:
        raise InputError(field, f"expected exactly {length} bytes, got {len(value)}")
    return bytes(value)


def require_bool(value: object, field: str) -> bool:
    if type(value) is not bool:
        raise InputError(field, f"expected a boolean, got {type(value).__name__}")
    return value


_HEX_DIGITS = re.compile(r"[0-9a-fA-F]*\Z")


def _is_hex(text: str) -> bool:
    return _HEX_DIGITS.match(text) is not None
