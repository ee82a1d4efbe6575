"""Fee-limit salts (v0.8.6 GaslessLayer): a `ReplayAttackHeader.salt` that also caps the relay fee.

When salt bytes 0..8 are the tag `protocol.V0_8_6.fee_limit_salt_tag`
(bytes8(keccak("SYMMIO_GASLESS_FEE_LIMIT_V1"))), bytes 8..24 are a uint128 maximum fee
(18 decimals) and bytes 24..32 the caller's own salt; the GaslessLayer reverts
`FeeLimitExceeded(uint256 fee, uint256 maxFee)` when the fee it would take is above the maximum.
Any other salt is uncapped (real-world.md §2.9; perps-core `GaslessFeeLimits.sol@2411069`, read
only). Such a salt carries only 64 random bits by design, so a salt rule decodes it and never calls
it low-entropy. Pure: no I/O.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from .errors import InputError
from .protocol import V0_8_6

TAG: bytes = V0_8_6.fee_limit_salt_tag or b""
MAX_FEE_LIMIT_WEI = (1 << 128) - 1
CALLER_SALT_BYTES = 8


@dataclass(frozen=True)
class FeeLimitSalt:
    """A decoded fee-limit salt: the largest fee the relay may take (wei) and the caller's part."""

    max_fee_wei: int
    caller_salt: bytes

    def to_bytes(self) -> bytes:
        return TAG + self.max_fee_wei.to_bytes(16, "big") + self.caller_salt


def fee_limit_salt(max_fee_wei: int, caller_salt: bytes | None = None) -> bytes:
    """The 32-byte salt capping the relay fee at `max_fee_wei`; `caller_salt` (8 bytes) defaults
    to fresh random bytes. InputError naming the argument when out of range."""
    if type(max_fee_wei) is not int or not 0 <= max_fee_wei <= MAX_FEE_LIMIT_WEI:
        raise InputError("max_fee_wei", f"expected an integer in 0..2**128-1, got {max_fee_wei!r}")
    if caller_salt is None:
        caller_salt = secrets.token_bytes(CALLER_SALT_BYTES)
    if not isinstance(caller_salt, bytes) or len(caller_salt) != CALLER_SALT_BYTES:
        raise InputError("caller_salt", f"expected {CALLER_SALT_BYTES} bytes")
    return FeeLimitSalt(max_fee_wei, caller_salt).to_bytes()


def decode(salt: bytes) -> FeeLimitSalt | None:
    """The fee limit a 32-byte salt carries, or None for an ordinary (uncapped) salt."""
    if len(salt) != 32 or salt[:8] != TAG:
        return None
    return FeeLimitSalt(int.from_bytes(salt[8:24], "big"), bytes(salt[24:]))
