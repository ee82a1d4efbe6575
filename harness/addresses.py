"""Deterministic account addresses of the AccountLayer (spec §2a, "Address formulas").

sub-account = low 20 bytes of
    keccak(0xff ‖ affiliate ‖ keccak(user ‖ uint256 globalNonce) ‖ keccak("ACC_V1"))
VA = low 20 bytes of keccak(0xff ‖ parent ‖ keccak(uint256 nonce) ‖ keccak("VACC_V1"))
Nonces are pre-incremented on chain, so the first account of each kind uses nonce 1.
"""

from __future__ import annotations

from .primitives import address_bytes, eip55, keccak, require_checksum_address, require_uint

SUB_ACCOUNT_SALT = keccak(b"ACC_V1")
VIRTUAL_ACCOUNT_SALT = keccak(b"VACC_V1")


def sub_account_address(affiliate: str, user: str, global_nonce: int) -> str:
    require_checksum_address(affiliate, "affiliate")
    require_checksum_address(user, "user")
    require_uint(global_nonce, "global_nonce")
    inner = keccak(address_bytes(user) + global_nonce.to_bytes(32, "big"))
    return eip55(
        "0x" + keccak(b"\xff" + address_bytes(affiliate) + inner + SUB_ACCOUNT_SALT)[12:].hex()
    )


def virtual_account_address(parent: str, nonce: int) -> str:
    require_checksum_address(parent, "parent")
    require_uint(nonce, "nonce")
    inner = keccak(nonce.to_bytes(32, "big"))
    return eip55(
        "0x" + keccak(b"\xff" + address_bytes(parent) + inner + VIRTUAL_ACCOUNT_SALT)[12:].hex()
    )
