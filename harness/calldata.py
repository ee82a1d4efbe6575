"""Canonical function signatures of the flow, selectors derived by keccak, strict codecs (spec §2).

Each `Function` holds its canonical signature once; its selector is computed from it, and the
values the docs quote are checked in tests, never retyped here. `decode` is strict: the selector
must match and the arguments must re-encode to exactly the bytes given (no trailing bytes, no
non-canonical offsets or padding).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from . import abicodec
from .eip712 import LEGACY_SIGNED_OPERATION, TYPES, attribute, primary_type
from .errors import CalldataError, InputError
from .model import DelegationInfo, SignedDelegation, SignedOperation
from .primitives import ZERO_ADDRESS, eip55, keccak
from .protocol import (
    GENERATIONS,
    V0_8_5,
    BindState,
    OrderType,
    PositionType,
    Protocol,
    SubAccountIsolationType,
    VirtualAccountIsolationType,
)

# Tuple aliases of spec §2.
SIG5 = "(bytes,uint256,int256,uint256,bytes,(uint256,address,address))"  # SingleUpnlAndPriceSig
SIG4 = "(bytes,uint256,int256,bytes,(uint256,address,address))"  # SingleUpnlSig
PAIR_SIG = (
    "(bytes,uint256,int256,int256,uint256,bytes,(uint256,address,address))"  # PairUpnlAndPrice
)


def abi_tuple(type_name: str, types: dict[str, Any] = TYPES) -> str:
    """The ABI tuple type of a pinned struct, derived from `eip712.TYPES` (structs nest as
    tuples, arrays keep their `[]`)."""

    def member(member_type: str) -> str:
        base, array = member_type.removesuffix("[]"), member_type.endswith("[]")
        return (abi_tuple(base, types) if base in types else base) + ("[]" if array else "")

    return f"({','.join(member(t) for _, t in types[type_name])})"


ACCOUNT = abi_tuple("Account")
FLEX_FIELD = abi_tuple("FlexField")
REPLAY_HEADER = abi_tuple("ReplayAttackHeader")
OP7 = abi_tuple("SignedOperation")
OP5 = abi_tuple("SignedOperation", {**TYPES, "SignedOperation": LEGACY_SIGNED_OPERATION})
DELEGATION_INFO = abi_tuple("DelegationInfo")
SOLVER_FEE_CAPS = "(uint256,uint256)"  # SolverFeeCaps(openRateCap, closeRateCap), v0.8.6
SUB_ACCOUNT_CREATION = "(string,bytes,address,uint8,bool)"
TEMPLATE_OPERATION = "(uint256[],uint256[],uint256[])"


@dataclass(frozen=True)
class Function:
    """One contract function: canonical name and typed, named inputs."""

    name: str
    inputs: tuple[tuple[str, str], ...]
    outputs: tuple[str, ...] = ()
    contract: str = ""

    @cached_property
    def signature(self) -> str:
        return f"{self.name}({','.join(t for _, t in self.inputs)})"

    @cached_property
    def selector(self) -> bytes:
        return keccak(self.signature.encode())[:4]

    @cached_property
    def input_types(self) -> list[str]:
        return [t for _, t in self.inputs]

    @cached_property
    def arg_names(self) -> list[str]:
        return [n for n, _ in self.inputs]

    def encode(self, *args: Any) -> bytes:
        """selector ‖ abi.encode(args); wrong types or ranges raise InputError (named)."""
        if len(args) != len(self.inputs):
            raise InputError(self.name, f"expected {len(self.inputs)} arguments, got {len(args)}")
        try:
            return self.selector + abi_encode(self.input_types, list(args))
        except (_encoding_error(), TypeError, ValueError, OverflowError) as exc:
            raise InputError(self.name, f"cannot ABI-encode arguments: {exc}") from None

    def decode(self, call_data: bytes) -> dict[str, Any]:
        """Arguments by name. CalldataError unless the bytes are exactly a canonical call."""
        if len(call_data) < 4:
            raise CalldataError(f"{self.name}: calldata shorter than the 4-byte selector")
        if call_data[:4] != self.selector:
            raise CalldataError(
                f"{self.name}: selector 0x{call_data[:4].hex()} is not 0x{self.selector.hex()}"
            )
        return dict(zip(self.arg_names, self._decoder(call_data[4:], self.name), strict=True))

    @cached_property
    def _decoder(self) -> Callable[[bytes, str], tuple[Any, ...]]:
        return abicodec.decoder(tuple(self.input_types))

    def decode_output(self, data: bytes) -> tuple[Any, ...]:
        return tuple(_strict_decode(list(self.outputs), data, f"{self.name} output"))


def abi_encode(types: list[str], values: list[Any]) -> bytes:
    """eth-abi's encoder, imported on first use: validating (decoding) never needs it, and it
    costs a fifth of a second at start-up."""
    from eth_abi import encode

    return encode(types, values)


def _encoding_error() -> type[Exception]:
    from eth_abi.exceptions import EncodingError

    return EncodingError


def _strict_decode(types: list[str] | tuple[str, ...], data: bytes, what: str) -> tuple[Any, ...]:
    """Canonical decoding in one pass (`abicodec`, proved equal to eth-abi decode + re-encode)."""
    return abicodec.decode(types, data, what)


def _fn(
    contract: str, name: str, *inputs: tuple[str, str], outputs: tuple[str, ...] = ()
) -> Function:
    return Function(name, tuple(inputs), outputs, contract)


# --- AccountLayer (§2a) -----------------------------------------------------------------------
CREATE_SUB_ACCOUNTS = _fn(
    "account_layer",
    "createSubAccounts",
    ("affiliate", "address"),
    ("creations", f"{SUB_ACCOUNT_CREATION}[]"),
    outputs=("address[]",),
)
GET_USER_SUB_ACCOUNTS_ADDRESSES = _fn(
    "account_layer",
    "getUserSubAccountsAddresses",
    ("owner", "address"),
    ("offset", "uint256"),
    ("limit", "uint256"),
    outputs=("address[]",),
)
DEPOSIT_FOR_ACCOUNT = _fn(
    "account_layer", "depositForAccount", ("account", "address"), ("amount", "uint256")
)
ACCOUNT_LAYER_CALL = _fn(
    "account_layer", "_call", ("account", "address"), ("calls", "bytes[]"), outputs=("bytes[]",)
)
ADD_MARGIN_TO_NEXT_VA = _fn(
    "account_layer",
    "addMarginToNextVA",
    ("subAccount", "address"),
    ("vaIsolationType", "uint8"),
    ("symbolId", "uint256"),
    ("amount", "uint256"),
)
PREDICT_NEXT_VIRTUAL_ACCOUNT_ADDRESS = _fn(
    "account_layer",
    "predictNextVirtualAccountAddress",
    ("subAccount", "address"),
    ("vaIsolationType", "uint8"),
    ("symbolId", "uint256"),
    outputs=("address",),
)
OWNER_OF = _fn("account_layer", "ownerOf", ("account", "address"), outputs=("address",))
GET_VIRTUAL_ACCOUNT = _fn(
    "account_layer",
    "getVirtualAccount",
    ("account", "address"),
    outputs=("address", "address", "uint256", "bool", "bytes", "uint8"),
)

# --- Symmio core (§2b) ------------------------------------------------------------------------
BIND_TO_PARTY_B = _fn("symmio_core", "bindToPartyB", ("partyB", "address"))
GET_BIND_STATE = _fn(
    "symmio_core",
    "getBindState",
    ("partyA", "address"),
    outputs=("uint8", "address", "uint256"),
)
REQUEST_TO_UNBIND_FROM_PARTY_B = _fn("symmio_core", "requestToUnbindFromPartyB")
COMPLETE_UNBIND_REQUEST = _fn("symmio_core", "completeUnbindRequest", ("partyA", "address"))
CANCEL_UNBIND_REQUEST = _fn("symmio_core", "cancelUnbindRequest")
SEND_QUOTE_WITH_AFFILIATE_AND_DATA = _fn(
    "symmio_core",
    "sendQuoteWithAffiliateAndData",
    ("partyBsWhiteList", "address[]"),
    ("symbolId", "uint256"),
    ("positionType", "uint8"),
    ("orderType", "uint8"),
    ("price", "uint256"),
    ("quantity", "uint256"),
    ("cva", "uint256"),
    ("lf", "uint256"),
    ("partyAmm", "uint256"),
    ("partyBmm", "uint256"),
    ("deadline", "uint256"),
    ("affiliate", "address"),
    ("upnlSig", SIG5),
    ("data", "bytes"),
    outputs=("uint256",),
)
#: v0.8.6: the same arguments and then SolverFeeCaps, a static tuple after `data` (real-world.md
#: §2.1; perps-core `PartyAFacet` at the v0.8.6 tag): its selector is 0x0ac30baf.
SEND_QUOTE = _fn(
    "symmio_core",
    "sendQuote",
    *SEND_QUOTE_WITH_AFFILIATE_AND_DATA.inputs,
    ("solverFeeCaps", SOLVER_FEE_CAPS),
    outputs=("uint256",),
)
REQUEST_TO_CLOSE_POSITION = _fn(
    "symmio_core",
    "requestToClosePosition",
    ("quoteId", "uint256"),
    ("closePrice", "uint256"),
    ("quantityToClose", "uint256"),
    ("orderType", "uint8"),
    ("deadline", "uint256"),
)
LOCK_QUOTE = _fn("symmio_core", "lockQuote", ("quoteId", "uint256"), ("upnlSig", SIG4))
OPEN_POSITION = _fn(
    "symmio_core",
    "openPosition",
    ("quoteId", "uint256"),
    ("filledAmount", "uint256"),
    ("openedPrice", "uint256"),
    ("upnlSig", PAIR_SIG),
)
# Not deployed anywhere: its selector is only a delegation key the COH looks up (§6.2).
REQUEST_TO_CLOSE_POSITION_WITH_UPNL_SIG = _fn(
    "symmio_core",
    "requestToClosePosition",
    ("quoteId", "uint256"),
    ("closePrice", "uint256"),
    ("quantityToClose", "uint256"),
    ("orderType", "uint8"),
    ("deadline", "uint256"),
    ("upnlSig", SIG4),
)

# --- InstantLayer (§2c) -----------------------------------------------------------------------
GRANT_DELEGATION = _fn("instant_layer", "grantDelegation", ("info", DELEGATION_INFO))
GRANT_BATCH_DELEGATION_BY_SIG = _fn(
    "instant_layer",
    "grantBatchDelegationBySig",
    ("signedDelegation", f"({DELEGATION_INFO},{REPLAY_HEADER})"),
    ("signature", "bytes"),
)
INITIATE_REVOKE_DELEGATION = _fn(
    "instant_layer",
    "initiateRevokeDelegation",
    ("account", ACCOUNT),
    ("delegatedSigner", "address"),
    ("selectors", "bytes4[]"),
)
FINALIZE_REVOKE_DELEGATION = _fn(
    "instant_layer",
    "finalizeRevokeDelegation",
    ("account", ACCOUNT),
    ("delegatedSigner", "address"),
    ("selectors", "bytes4[]"),
)
IS_DELEGATION_ACTIVE = _fn(
    "instant_layer",
    "isDelegationActive",
    ("delegator", "address"),
    ("delegate", "address"),
    ("selector", "bytes4"),
    outputs=("bool",),
)
EXECUTE_BATCH = _fn(
    "instant_layer",
    "executeBatch",
    ("signedOps", f"{OP7}[]"),
    ("signatures", "bytes[]"),
    ("fills", "bytes[][]"),
    ("flexFillerSignatures", "bytes[][]"),
    outputs=("bytes[]",),
)
EXECUTE_TEMPLATE = _fn(
    "instant_layer",
    "executeTemplate",
    ("templateId", "uint256"),
    ("signedOps", f"{OP7}[]"),
    ("signatures", "bytes[]"),
    ("fills", "bytes[][]"),
    ("flexFillerSignatures", "bytes[][]"),
    outputs=("bytes[]",),
)
LEGACY_EXECUTE_BATCH = _fn(
    "instant_layer", "executeBatch", ("signedOps", f"{OP5}[]"), ("signatures", "bytes[]")
)

# --- ERC20 ------------------------------------------------------------------------------------
ERC20_APPROVE = _fn(
    "erc20", "approve", ("spender", "address"), ("amount", "uint256"), outputs=("bool",)
)
ERC20_TRANSFER = _fn(
    "erc20", "transfer", ("to", "address"), ("amount", "uint256"), outputs=("bool",)
)
ERC20_TRANSFER_FROM = _fn(
    "erc20",
    "transferFrom",
    ("from", "address"),
    ("to", "address"),
    ("amount", "uint256"),
    outputs=("bool",),
)
ERC20_ALLOWANCE = _fn(
    "erc20", "allowance", ("owner", "address"), ("spender", "address"), outputs=("uint256",)
)
ERC20_BALANCE_OF = _fn("erc20", "balanceOf", ("account", "address"), outputs=("uint256",))
ERC20_DECIMALS = _fn("erc20", "decimals", outputs=("uint8",))

#: v0.8.6: grant several delegations in one owner-signed operation (real-world.md §2.5).
GRANT_DELEGATIONS = _fn("instant_layer", "grantDelegations", ("infos", f"{DELEGATION_INFO}[]"))

#: Every function this module knows (every generation's).
FUNCTIONS: tuple[Function, ...] = tuple(
    value for value in list(globals().values()) if isinstance(value, Function)
)
#: The deployable function of each name (the name a `protocol` generation uses for it).
NAMED: dict[str, Function] = {
    f.name: f for f in FUNCTIONS if f is not REQUEST_TO_CLOSE_POSITION_WITH_UPNL_SIG
}
#: The functions some generation adds, by selector, with the first generation that has it.
ADDED_IN: dict[bytes, type[Protocol]] = {
    NAMED[name].selector: gen for gen in GENERATIONS for name in gen.added_functions
}
#: The v0.8.5 functions, by selector (first 4 calldata bytes).
BY_SELECTOR: dict[bytes, Function] = {
    f.selector: f
    for f in FUNCTIONS
    if f is not REQUEST_TO_CLOSE_POSITION_WITH_UPNL_SIG and f.selector not in ADDED_IN
}
#: Functions of generations after v0.8.5, by selector: recognised, refused by name on v0.8.5.
OTHER_GENERATION_FUNCTIONS: dict[bytes, Function] = {
    sel: f for f in FUNCTIONS if (sel := f.selector) in ADDED_IN
}


def functions_of(generation: type[Protocol]) -> dict[bytes, Function]:
    """The functions a generation's contracts have, by selector."""
    added = {
        s: f for s, f in OTHER_GENERATION_FUNCTIONS.items() if generation.at_least(ADDED_IN[s])
    }
    return {**BY_SELECTOR, **added}


def open_function(generation: type[Protocol]) -> Function:
    """The Symmio core function an instant open calls in `generation`."""
    return NAMED[generation.open_function]


# --- Typed values as ABI tuples -------------------------------------------------------------


def abi_args(value: object, type_name: str | None = None) -> tuple[Any, ...]:
    """A pinned struct as its ABI tuple, derived from `eip712.TYPES` (each member read from the
    model attribute of its name): nested structs become tuples, arrays lists."""
    name = type_name or primary_type(value)
    out: list[Any] = []
    for member, member_type in TYPES[name]:
        item = getattr(value, attribute(member))
        base = member_type[:-2] if member_type.endswith("[]") else member_type
        if base in TYPES:
            item = (
                [abi_args(x, base) for x in item]
                if member_type.endswith("[]")
                else abi_args(item, base)
            )
        elif member_type.endswith("[]"):
            item = list(item)
        out.append(item)
    return tuple(out)


def operation_args(op: SignedOperation) -> tuple[Any, ...]:
    """A SignedOperation as the ABI tuple OP7 (for executeBatch, getOperationHash)."""
    return abi_args(op, "SignedOperation")


def delegation_info_args(info: DelegationInfo) -> tuple[Any, ...]:
    """A DelegationInfo as the ABI tuple DELEGATION_INFO (for grantDelegation)."""
    return abi_args(info, "DelegationInfo")


def signed_delegation_args(value: SignedDelegation) -> tuple[Any, ...]:
    """A SignedDelegation as the ABI tuple of grantBatchDelegationBySig / getDelegationHash."""
    return abi_args(value, "SignedDelegation")


# --- Delegation keys (§0.4, §6.2) -------------------------------------------------------------
#: Opaque key the conditional-order handler looks up; matches no known signature.
COH_REQUEST_TO_CLOSE_KEY = bytes.fromhex("eaa31b19")
#: Selector of a requestToClosePosition overload that exists on no chain: a delegation key only.
COH_CLOSE_WITH_UPNL_SIG_KEY = REQUEST_TO_CLOSE_POSITION_WITH_UPNL_SIG.selector
#: Session marker services check with isDelegationActive; no function has it.
SESSION_KEY_MARKER = bytes.fromhex("00000001")
#: Valid in a delegation's selector list, never as the first 4 bytes of an operation's callData.
DELEGATION_ONLY_KEYS: frozenset[bytes] = frozenset(
    {COH_REQUEST_TO_CLOSE_KEY, COH_CLOSE_WITH_UPNL_SIG_KEY, SESSION_KEY_MARKER}
)


def session_key_selectors(generation: type[Protocol]) -> tuple[bytes, ...]:
    """Step 4, session key: the generation's trading selectors (real-world.md §2.3: v0.8.6 swaps
    the open for the capped sendQuote; keys granted the v0.8.5 set must be re-granted) + the COH
    key + the session marker."""
    trading = tuple(NAMED[name].selector for name in generation.session_key_functions())
    return (*trading, COH_REQUEST_TO_CLOSE_KEY, SESSION_KEY_MARKER)


#: Step 4 on v0.8.5 (the builder guide's list).
SESSION_KEY_SELECTORS: tuple[bytes, ...] = session_key_selectors(V0_8_5)
#: Step 5, TP/SL bot: the close-selector set the COH validates against + session marker.
TPSL_BOT_SELECTORS: tuple[bytes, ...] = (
    REQUEST_TO_CLOSE_POSITION.selector,
    COH_REQUEST_TO_CLOSE_KEY,
    COH_CLOSE_WITH_UPNL_SIG_KEY,
    SESSION_KEY_MARKER,
)

# --- Enums (§2a, §2b) -------------------------------------------------------------------------
# The IntEnums live in `protocol`; these names are the same members, for the flow's callers.
SUB_ISO_POSITION, SUB_ISO_MARKET, SUB_ISO_MARKET_DIRECTION, SUB_ISO_CUSTOM = SubAccountIsolationType
VA_ISO_POSITION, VA_ISO_MARKET, VA_ISO_MARKET_LONG, VA_ISO_MARKET_SHORT = (
    VirtualAccountIsolationType
)
POSITION_LONG, POSITION_SHORT = PositionType
ORDER_LIMIT, ORDER_MARKET = OrderType
BIND_NOT_BOUND, BIND_BOUND, BIND_PENDING_UNBIND = BindState


def va_isolation_type(sub_isolation_type: int, position_type: int) -> int:
    """The VA isolation type addMarginToNextVA accepts for a sub-account's type (§2a table)."""
    if sub_isolation_type == SUB_ISO_POSITION:
        return VA_ISO_POSITION
    if sub_isolation_type == SUB_ISO_MARKET:
        return VA_ISO_MARKET
    if sub_isolation_type == SUB_ISO_MARKET_DIRECTION:
        return VA_ISO_MARKET_LONG if position_type == POSITION_LONG else VA_ISO_MARKET_SHORT
    raise InputError(
        "isolationType",
        f"sub-account isolation type {sub_isolation_type} has no next-VA type "
        "(CUSTOM sub-accounts supply their own VAs)",
    )


# --- Domain helpers -----------------------------------------------------------------------------

#: The empty SingleUpnlAndPriceSig the solver replaces (§6 "Empty Muon sig").
EMPTY_UPNL_SIG: tuple[Any, ...] = (b"", 0, 0, 0, b"", (0, ZERO_ADDRESS, ZERO_ADDRESS))
EMPTY_UPNL_SIG_4: tuple[Any, ...] = (b"", 0, 0, b"", (0, ZERO_ADDRESS, ZERO_ADDRESS))
EMPTY_PAIR_UPNL_SIG: tuple[Any, ...] = (b"", 0, 0, 0, 0, b"", (0, ZERO_ADDRESS, ZERO_ADDRESS))


def is_empty_upnl_sig(sig: tuple[Any, ...]) -> bool:
    """True for the all-zero sentinel (addresses compared case-insensitively)."""
    req_id, timestamp, upnl, price, gateway_sig, (nonce, owner, signer_) = sig
    return (
        req_id == b""
        and timestamp == 0
        and upnl == 0
        and price == 0
        and gateway_sig == b""
        and nonce == 0
        and int(owner, 16) == 0
        and int(signer_, 16) == 0
    )


def encode_quote_data(uuid: str) -> bytes:
    """The sendQuote `data` blob: abi.encode of the one-field tuple `(string uuid)`."""
    return abi_encode(["(string)"], [(uuid,)])


_QUOTE_DATA = abicodec.decoder(("(string)",))


def decode_quote_data(data: bytes) -> str:
    """The uuid inside a sendQuote `data` blob; CalldataError unless it is exactly `(string)`."""
    (value,) = _QUOTE_DATA(data, "sendQuote data")
    return value[0]


def describe_selector(selector: bytes) -> str:
    """A human name for a 4-byte selector (for reports)."""
    if selector in BY_SELECTOR:
        return BY_SELECTOR[selector].signature
    if selector in OTHER_GENERATION_FUNCTIONS:
        added = ADDED_IN[selector].version
        return f"{OTHER_GENERATION_FUNCTIONS[selector].signature} (v{added})"
    if selector == COH_REQUEST_TO_CLOSE_KEY:
        return "COH request-to-close key (delegation key only)"
    if selector == COH_CLOSE_WITH_UPNL_SIG_KEY:
        return f"{REQUEST_TO_CLOSE_POSITION_WITH_UPNL_SIG.signature} (delegation key only)"
    if selector == SESSION_KEY_MARKER:
        return "session-key marker (delegation key only)"
    return "unknown selector"


def checksum(address: str) -> str:
    """eth-abi decodes addresses lowercase; reports and typed values use EIP-55."""
    return eip55(address)
