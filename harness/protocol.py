"""What protocol v0.8.5 is, in one place: the version, its domains, enums, body kinds and limits,
and the other generations and products a body may come from (recognised so they can be refused
by name, never accepted).

This is the bottom layer: it imports nothing of the harness. Struct members live in `eip712.TYPES`;
function signatures in `calldata` (selectors derived there by keccak). A selector of another
generation that this harness cannot derive from a signature it pins is written here once, with
where it comes from (docs/protocol.md §Generations).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class PositionType(IntEnum):
    LONG = 0
    SHORT = 1


class OrderType(IntEnum):
    LIMIT = 0
    MARKET = 1


class SubAccountIsolationType(IntEnum):
    POSITION = 0
    MARKET = 1
    MARKET_DIRECTION = 2
    CUSTOM = 3


class VirtualAccountIsolationType(IntEnum):
    POSITION = 0
    MARKET = 1
    MARKET_LONG = 2
    MARKET_SHORT = 3


class BindState(IntEnum):
    NOT_BOUND = 0
    BOUND = 1
    PENDING_UNBIND = 2


#: The three bodies a frontend sends.
INSTANT_OPEN = "instant_open"
INSTANT_CLOSE = "instant_close"
TPSL = "tpsl"
BODY_KINDS: tuple[str, ...] = (INSTANT_OPEN, INSTANT_CLOSE, TPSL)


@dataclass(frozen=True)
class Protocol:
    """One generation of the Instant Trading protocol, as far as a frontend's bodies show it."""

    version: str
    instant_layer_domain: tuple[str, str]  # (name, version) of the EIP712Domain
    conditional_order_domain: tuple[str, str]  # the documented TP/SL default
    signed_operation_fields: int  # members of SignedOperation
    max_body_bytes: int  # one HTTP body, as the validator and the mock services read it
    max_close_operations: int  # wrapped ops in one instant_close request
    conditional_price_types: tuple[str, ...]


V0_8_5 = Protocol(
    version="0.8.5",
    instant_layer_domain=("SymmioInstantLayer", "1"),
    conditional_order_domain=("ConditionalOrder", "1"),
    signed_operation_fields=7,
    max_body_bytes=2 * 1024 * 1024,
    max_close_operations=100,
    conditional_price_types=("market", "last_close"),
)

#: The generation this harness implements.
CURRENT = V0_8_5
VERSION = CURRENT.version
MAX_BODY_BYTES = CURRENT.max_body_bytes
MAX_CLOSE_OPERATIONS = CURRENT.max_close_operations

# --- Other generations and products (docs/protocol.md §Generations) ---------------------------

#: v0.8.6 opens with sendQuote(..., (uint256,uint256) SolverFeeCaps): selector as observed.
V086_SEND_QUOTE_SELECTOR = bytes.fromhex("0ac30baf")
#: v0.8.6 grants a delegation as a SignedOperation whose target is the InstantLayer itself, its
#: callData `grantDelegation(DelegationInfo)` or `grantDelegations(DelegationInfo[])`
#: (0x9cfb6914): both signatures are pinned in `calldata` (GRANT_DELEGATION, GRANT_DELEGATIONS).
#: GaslessGateway wallet operations sign the legacy 5-field SignedOperation under this domain.
GASLESS_GATEWAY_DOMAIN: tuple[str, str] = ("GaslessGateway", "1")
#: Members of the legacy (pre-flex) SignedOperation, also the GaslessGateway's.
LEGACY_SIGNED_OPERATION_FIELDS = 5
