"""What each protocol generation is, in one place: v0.8.5 and v0.8.6 as classes (what v0.8.6
changes stated once, the rest inherited), their domains, enums, body kinds and limits, and the
other products a body may come from (recognised so they can be refused by name).

This is the bottom layer: it imports nothing of the harness. Struct members live in `eip712.TYPES`;
function signatures in `calldata` (selectors derived there by keccak). A selector of another
generation that this harness cannot derive from a signature it pins is written here once, with
where it comes from (docs/protocol.md §Generations).
"""

from __future__ import annotations

from enum import IntEnum
from typing import ClassVar


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


#: The bodies a frontend sends: the three of every generation, and (v0.8.6) a grant operation,
#: an owner-signed SignedOperation (or a list of them) that a GaslessLayer relays.
INSTANT_OPEN = "instant_open"
INSTANT_CLOSE = "instant_close"
TPSL = "tpsl"
GRANT_OPERATION = "grant_operation"
BODY_KINDS: tuple[str, ...] = (INSTANT_OPEN, INSTANT_CLOSE, TPSL, GRANT_OPERATION)


class Protocol:
    """One generation of the Instant Trading protocol, as far as a frontend's bodies and the
    contracts it calls show it. A generation is a class: it states what it changes and inherits
    the rest from the one before (the fork-as-a-class model of execution-spec-tests). Never
    instantiated; compare generations with `at_least`.

    Functions are named here by their canonical Solidity name (the key `calldata.function_named`
    reads); their signatures and selectors live in `calldata` only."""

    version: ClassVar[str]
    #: (name, version) of the InstantLayer's EIP712Domain
    instant_layer_domain: ClassVar[tuple[str, str]]
    #: the documented TP/SL domain default
    conditional_order_domain: ClassVar[tuple[str, str]]
    #: members of SignedOperation
    signed_operation_fields: ClassVar[int]
    #: one HTTP body, as the validator and the mock services read it
    max_body_bytes: ClassVar[int]
    #: wrapped ops in one instant_close request
    max_close_operations: ClassVar[int]
    conditional_price_types: ClassVar[tuple[str, ...]]
    #: the Symmio core function an instant open calls
    open_function: ClassVar[str]
    #: the older open the core still has (None: it has no other)
    legacy_open_function: ClassVar[str | None]
    #: functions this generation adds to the contracts (their signatures are in `calldata`)
    added_functions: ClassVar[tuple[str, ...]]
    #: sendQuote carries SolverFeeCaps (openRateCap, closeRateCap), 18-decimal ratios
    solver_fee_caps: ClassVar[bool]
    #: the account owner may grant a delegation as a SignedOperation relayed by anyone
    grants_as_operations: ClassVar[bool]
    #: a delegate's operation runs scoped to the account its delegation was granted on
    scoped_delegations: ClassVar[bool]
    #: a pending revocation takes effect by itself once its eta passes (no finalize call)
    revocation_self_finalizing: ClassVar[bool]
    #: setRevocationCooldown's default and accepted range, seconds (inclusive)
    revocation_cooldown_default: ClassVar[int]
    revocation_cooldown_range: ClassVar[tuple[int, int]]
    #: a GaslessLayer relays owner-signed operations, reading fee limits from salts
    gasless: ClassVar[bool]
    #: salt bytes 0..8 tagging a fee-limit salt (bytes8(keccak("SYMMIO_GASLESS_FEE_LIMIT_V1")))
    fee_limit_salt_tag: ClassVar[bytes | None]

    def __init__(self) -> None:  # pragma: no cover - a generation is its class
        raise TypeError("a protocol generation is a class; use it without instantiating it")

    @classmethod
    def at_least(cls, other: type[Protocol]) -> bool:
        """True when this generation is `other` or a later one."""
        return issubclass(cls, other)

    @classmethod
    def session_key_functions(cls) -> tuple[str, ...]:
        """The trading functions a session key is granted (spec §4; real-world.md §2.3): add
        margin, this generation's open, close."""
        return ("addMarginToNextVA", cls.open_function, "requestToClosePosition")


class V0_8_5(Protocol):
    """The v0.8.5 builder guide's protocol (instant-trading-v0.8.5.md), Base's deployment."""

    version = "0.8.5"
    instant_layer_domain = ("SymmioInstantLayer", "1")
    conditional_order_domain = ("ConditionalOrder", "1")
    signed_operation_fields = 7
    max_body_bytes = 2 * 1024 * 1024
    max_close_operations = 100
    conditional_price_types = ("market", "last_close")
    open_function = "sendQuoteWithAffiliateAndData"
    legacy_open_function = None
    added_functions = ()
    solver_fee_caps = False
    grants_as_operations = False
    scoped_delegations = False
    revocation_self_finalizing = False
    revocation_cooldown_default = 600
    revocation_cooldown_range = (300, 2_592_000)
    gasless = False
    fee_limit_salt_tag = None


class V0_8_6(V0_8_5):
    """What v0.8.6 (Arbitrum) changes (real-world.md §2; perps-core
    `contracts/instantLayer/InstantLayer.sol@8138803`, `docs/v0.8.6`). Unchanged: SignedOperation,
    the domains, ConditionalOrder, the close."""

    version = "0.8.6"
    # §2.1: sendQuote(..., SolverFeeCaps); the legacy open still exists and stores zero caps
    open_function = "sendQuote"
    legacy_open_function = "sendQuoteWithAffiliateAndData"
    added_functions = ("sendQuote", "grantDelegations")
    solver_fee_caps = True
    # §2.5, §2.6, §2.7
    grants_as_operations = True
    scoped_delegations = True
    revocation_self_finalizing = True
    # §2.9 (GaslessLayer, GaslessFeeLimits.sol@2411069)
    gasless = True
    fee_limit_salt_tag = bytes.fromhex("596c7d5c49096006")


#: Every generation this harness implements, oldest first.
GENERATIONS: tuple[type[Protocol], ...] = (V0_8_5, V0_8_6)
BY_VERSION: dict[str, type[Protocol]] = {g.version: g for g in GENERATIONS}


def generation(version: str) -> type[Protocol]:
    """The generation named `version` ("0.8.5", "0.8.6"; a leading "v" is accepted);
    ValueError naming the known ones otherwise."""
    key = version.removeprefix("v") if isinstance(version, str) else version
    try:
        return BY_VERSION[key]
    except (KeyError, TypeError):
        known = ", ".join(BY_VERSION)
        raise ValueError(f"unknown contracts version {version!r} (known: {known})") from None


#: The default generation (a context that names no version is judged as this one).
CURRENT: type[Protocol] = V0_8_5
VERSION = CURRENT.version
MAX_BODY_BYTES = CURRENT.max_body_bytes
MAX_CLOSE_OPERATIONS = CURRENT.max_close_operations

# --- Other products (docs/protocol.md §Generations) -------------------------------------------

#: GaslessGateway wallet operations sign the legacy 5-field SignedOperation under this domain.
GASLESS_GATEWAY_DOMAIN: tuple[str, str] = ("GaslessGateway", "1")
#: Members of the legacy (pre-flex) SignedOperation, also the GaslessGateway's.
LEGACY_SIGNED_OPERATION_FIELDS = 5
