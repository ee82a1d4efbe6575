"""Builders for every step of the instant-trading flow (spec "End-to-end Summary"), for the
protocol generation the context names (`Context.generation`: v0.8.5 unless it says v0.8.6).

Steps 1-5 return a `TxRequest` (sender, contract, calldata) that the chain module or a wallet
sends; steps 6-8 return signed HTTP bodies as typed values (`wire` turns them into JSON). The
builders never read the clock or the network: deadlines, prices and locked params are arguments.
Every invalid argument raises `InputError` naming the argument and the rule.
"""

from __future__ import annotations

import secrets
import uuid as uuid_module
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol as Interface

from . import calldata as cd
from . import eip712, pricing
from .context import Context, Symbol
from .errors import InputError
from .model import (
    ZERO_LEG,
    Account,
    CancelConditionalOrder,
    ConditionalOrder,
    DelegationInfo,
    Domain,
    FlexField,
    InstantClose,
    InstantOpen,
    Leg,
    ReplayAttackHeader,
    SignedDelegation,
    SignedOperation,
    TpslRequest,
    WrappedOperation,
    coh_quote_id_text,
    parse_coh_quote_id,
)
from .pricing import Side
from .primitives import require_checksum_address
from .protocol import CURRENT, Protocol
from .upnl_sig import UpnlSigRegime
from .upnl_sig import placeholder as upnl_sig_placeholder
from .upnl_sig import region as upnl_sig_region


class Signer(Interface):
    """Anything with an address that signs 32-byte digests (harness.keys.LocalKey, a wallet)."""

    address: str

    def sign_digest(self, digest: bytes) -> bytes: ...


@dataclass(frozen=True)
class TxRequest:
    """One on-chain step: `sender` calls `to` with `data`."""

    step: str
    sender: str
    to: str
    data: bytes
    function: cd.Function

    def describe(self) -> str:
        return f"{self.step}: {self.sender} -> {self.to} {self.function.signature}"


def _need(value: str | None, field: str) -> str:
    if value is None:
        raise InputError(field, "required here, but not set in the context")
    return value


def _require_timestamp(value: object, field: str) -> int:
    if type(value) is not int or value < 0:
        raise InputError(field, f"expected a unix timestamp (non-negative integer), got {value!r}")
    return value


# --- Steps 1-3: account set-up ------------------------------------------------------------------


def create_sub_account(
    context: Context,
    owner: str,
    name: str,
    *,
    isolation_type: int = cd.SUB_ISO_MARKET_DIRECTION,
    single_va_mode: bool = True,
    metadata: bytes = b"",
) -> TxRequest:
    """Step 1: createSubAccounts(affiliate, [(name, metadata, core, isolationType, singleVAMode)]).

    singleVAMode must be true for TP/SL: the COH checks the VA against
    predictNextVirtualAccountAddress, which only stays put in single-VA mode.
    """
    require_checksum_address(owner, "owner")
    if not isinstance(name, str) or not name:
        raise InputError("name", "expected a non-empty string")
    if isolation_type not in (
        cd.SUB_ISO_POSITION,
        cd.SUB_ISO_MARKET,
        cd.SUB_ISO_MARKET_DIRECTION,
        cd.SUB_ISO_CUSTOM,
    ):
        raise InputError(
            "isolation_type", f"expected 0..3 (POSITION..CUSTOM), got {isolation_type!r}"
        )
    if type(single_va_mode) is not bool:
        raise InputError("single_va_mode", f"expected a boolean, got {single_va_mode!r}")
    affiliate = _need(context.affiliate, "affiliate")
    creation = (name, bytes(metadata), context.symmio_core, isolation_type, single_va_mode)
    data = cd.CREATE_SUB_ACCOUNTS.encode(affiliate, [creation])
    return TxRequest(
        "createSubAccounts", owner, context.account_layer, data, cd.CREATE_SUB_ACCOUNTS
    )


def approve_collateral(context: Context, owner: str, token: str, amount_units: int) -> TxRequest:
    """Step 2a: the allowance goes to Symmio Core, the ERC20 spender — not the AccountLayer."""
    require_checksum_address(owner, "owner")
    require_checksum_address(token, "token")
    if type(amount_units) is not int or amount_units <= 0:
        raise InputError("amount_units", f"expected a positive integer, got {amount_units!r}")
    data = cd.ERC20_APPROVE.encode(context.symmio_core, amount_units)
    return TxRequest("approve", owner, token, data, cd.ERC20_APPROVE)


def deposit(context: Context, owner: str, sub_account: str, amount_units: int) -> TxRequest:
    """Step 2b: depositForAccount(sub, amount) in the token's native units."""
    require_checksum_address(owner, "owner")
    require_checksum_address(sub_account, "sub_account")
    if type(amount_units) is not int or amount_units <= 0:
        raise InputError("amount_units", f"expected a positive integer, got {amount_units!r}")
    data = cd.DEPOSIT_FOR_ACCOUNT.encode(sub_account, amount_units)
    return TxRequest(
        "depositForAccount", owner, context.account_layer, data, cd.DEPOSIT_FOR_ACCOUNT
    )


def bind(context: Context, owner: str, sub_account: str, hedger: str | None = None) -> TxRequest:
    """Step 3: AccountLayer._call(sub, [bindToPartyB(hedger)])."""
    require_checksum_address(owner, "owner")
    require_checksum_address(sub_account, "sub_account")
    party_b = hedger or _need(context.hedger, "hedger")
    require_checksum_address(party_b, "hedger")
    inner = cd.BIND_TO_PARTY_B.encode(party_b)
    data = cd.ACCOUNT_LAYER_CALL.encode(sub_account, [inner])
    return TxRequest("bindToPartyB", owner, context.account_layer, data, cd.ACCOUNT_LAYER_CALL)


# --- Steps 4-5: delegations ---------------------------------------------------------------------


def session_key_delegation(
    sub_account: str, session_key: str, expiry: int, generation: type[Protocol] = CURRENT
) -> DelegationInfo:
    """Step 4: the session key gets the generation's trading selectors (v0.8.6: the capped
    sendQuote), the COH key and 0x00000001."""
    return DelegationInfo(
        Account(sub_account, False),
        session_key,
        cd.session_key_selectors(generation),
        _require_timestamp(expiry, "expiry"),
    )


def tpsl_bot_delegation(sub_account: str, bot: str, expiry: int) -> DelegationInfo:
    """Step 5: the TP/SL bot gets the close selectors the COH validates against + 0x00000001."""
    return DelegationInfo(
        Account(sub_account, False),
        bot,
        cd.TPSL_BOT_SELECTORS,
        _require_timestamp(expiry, "expiry"),
    )


def grant_delegation(context: Context, owner: str, info: DelegationInfo) -> TxRequest:
    """grantDelegation(info). Only the account owner may send it (not a session key)."""
    require_checksum_address(owner, "owner")
    if info.delegated_signer == owner:
        raise InputError("delegatedSigner", "equals the owner: the contract reverts SelfDelegation")
    if not info.selectors:
        raise InputError("selectors", "empty: grantDelegation with no selectors does nothing")
    data = cd.GRANT_DELEGATION.encode(cd.delegation_info_args(info))
    return TxRequest("grantDelegation", owner, context.instant_layer, data, cd.GRANT_DELEGATION)


def signed_delegation(
    context: Context,
    owner_key: Signer,
    info: DelegationInfo,
    *,
    nonce: int,
    deadline: int = 0,
    salt: bytes | None = None,
) -> tuple[SignedDelegation, bytes]:
    """A SignedDelegation for grantBatchDelegationBySig (nonce must be delegationNonces + 1)."""
    if type(nonce) is not int or nonce < 1:
        raise InputError(
            "nonce", "grantBatchDelegationBySig needs delegationNonces[account] + 1 (>= 1)"
        )
    header = ReplayAttackHeader(
        nonce, _require_timestamp(deadline, "deadline"), salt if salt is not None else _fresh_salt()
    )
    value = SignedDelegation(info, header)
    domain = eip712.instant_layer_domain(context.chain_id, context.instant_layer)
    return value, owner_key.sign_digest(eip712.digest(domain, value))


def grant_delegation_by_sig(
    context: Context, sender: str, value: SignedDelegation, signature: bytes
) -> TxRequest:
    data = cd.GRANT_BATCH_DELEGATION_BY_SIG.encode(cd.signed_delegation_args(value), signature)
    return TxRequest(
        "grantBatchDelegationBySig",
        sender,
        context.instant_layer,
        data,
        cd.GRANT_BATCH_DELEGATION_BY_SIG,
    )


def grant_operation(
    context: Context,
    owner_key: Signer,
    infos: DelegationInfo | tuple[DelegationInfo, ...],
    *,
    deadline: int,
    salt: bytes | None = None,
) -> WrappedOperation:
    """v0.8.6: a grant as an owner-signed SignedOperation (real-world.md §2.5), relayed by anyone
    (the GaslessLayer): target the InstantLayer itself, callData `grantDelegation(info)` for one
    DelegationInfo or `grantDelegations(infos)` for a tuple (modelled on the v0.8.6 docs and the
    SDK's relay; the newest readable InstantLayer source refuses it, the deployed one relays it),
    signerAccount the account the delegations are for, no flex fields, maxUses 1. `salt` may be a
    fee-limit salt (`harness.fee_limit_salt`). InputError for what the contract would refuse."""
    if not context.generation.grants_as_operations:
        raise InputError(
            "contracts_version",
            f"v{context.generation.version} has no grant operations: the owner sends "
            "grantDelegation (grant_delegation) or relays grantBatchDelegationBySig",
        )
    many = isinstance(infos, tuple)
    entries = infos if isinstance(infos, tuple) else (infos,)
    if not entries:
        raise InputError("infos", "empty: grantDelegations with no entry reverts InvalidDelegation")
    account = entries[0].account
    for i, info in enumerate(entries):
        where = f"infos[{i}]" if many else "info"
        if info.account != account:
            raise InputError(
                f"{where}.account",
                f"{info.account.addr} is not {account.addr}: one operation grants on one account "
                "(the contract reverts InvalidDelegation)",
            )
        if info.account.is_party_b:
            raise InputError(f"{where}.account.isPartyB", "a PartyB account cannot delegate")
        if info.delegated_signer == owner_key.address:
            raise InputError(f"{where}.delegatedSigner", "equals the owner: SelfDelegation")
        if not info.selectors:
            raise InputError(f"{where}.selectors", "empty: the contract reverts InvalidDelegation")
    call = (
        cd.GRANT_DELEGATIONS.encode([cd.delegation_info_args(i) for i in entries])
        if many
        else cd.GRANT_DELEGATION.encode(cd.delegation_info_args(entries[0]))
    )
    return sign_operation(
        context,
        owner_key,
        context.instant_layer,
        call,
        account.addr,
        deadline=deadline,
        salt=salt,
    )


# --- SignedOperation (spec §5) ------------------------------------------------------------------


def _fresh_salt() -> bytes:
    while True:  # a zero salt is legal on chain but flagged by the validator; never produce it
        salt = secrets.token_bytes(32)
        if any(salt):
            return salt


def sign_operation(
    context: Context,
    key: Signer,
    target: str,
    call_data: bytes,
    account: str,
    *,
    deadline: int,
    salt: bytes | None = None,
    nonce: int = 0,
    max_uses: int = 1,
    flex_fields: tuple[FlexField, ...] = (),
) -> WrappedOperation:
    """Sign a 7-field SignedOperation with `key` for `account` (sub-account on open, VA on close).

    deadline 0 means "never expires" and is kept as 0 (the spec snippet's `deadline or default`
    would silently replace it). nonce 0 is salt-only mode; maxUses 1 is the standard.
    """
    op = SignedOperation(
        signer=key.address,
        target=target,
        call_data=bytes(call_data),
        signer_account=Account(account, False),
        flex_fields=tuple(flex_fields),
        max_uses=max_uses,
        replay_attack_header=ReplayAttackHeader(
            nonce,
            _require_timestamp(deadline, "deadline"),
            salt if salt is not None else _fresh_salt(),
        ),
    )
    domain = eip712.instant_layer_domain(context.chain_id, context.instant_layer)
    return WrappedOperation(op, key.sign_digest(eip712.digest(domain, op)))


# --- Step 6: instant_open -----------------------------------------------------------------------


@dataclass(frozen=True)
class OpenPlan:
    """The signed instant_open body and every number that went into it."""

    body: InstantOpen
    position_type: int
    va_isolation_type: int
    requested_price: Decimal
    quantity: Decimal
    notional: Decimal
    locked: pricing.LockedValues
    margin_wei: int
    uuid: str
    #: v0.8.6: the SolverFeeCaps (openRateCap, closeRateCap) in wei; None on v0.8.5
    solver_fee_caps: tuple[int, int] | None = None


def _solver_fee_caps(
    generation: type[Protocol], symbol: Symbol, given: tuple[object, object] | None
) -> tuple[int, int] | None:
    """The SolverFeeCaps of an open, in wei: None where the generation has none (giving caps
    there is an error), else `given` or the symbol's minimums, never below them."""
    if not generation.solver_fee_caps:
        if given is not None:
            raise InputError(
                "solver_fee_caps", f"v{generation.version} sendQuote carries no SolverFeeCaps"
            )
        return None
    minimums = (symbol.min_open_solver_fee_cap, symbol.min_close_solver_fee_cap)
    if given is None:
        given = minimums
    if not isinstance(given, tuple) or len(given) != 2:
        raise InputError("solver_fee_caps", "expected (open cap, close cap)")
    out = []
    for name, value, least in zip(("openRateCap", "closeRateCap"), given, minimums, strict=True):
        cap = pricing.non_negative(value, f"solver_fee_caps.{name}")
        if cap < least:
            raise InputError(
                f"solver_fee_caps.{name}",
                f"{pricing.format_decimal(cap)} is below the symbol's minimum "
                f"{pricing.format_decimal(least)} (contract-symbols min_*_solver_fee_cap)",
            )
        out.append(pricing.to_wei(cap, f"solver_fee_caps.{name}"))
    return out[0], out[1]


def build_instant_open(
    context: Context,
    session_key: Signer,
    *,
    sub_account: str,
    symbol: Symbol,
    side: Side,
    quantity: object,
    leverage: int,
    mark_price: object,
    locked_params: pricing.LockedParamsPct,
    trading_fee: object,
    deadline: int,
    slippage_pct: object = Decimal("5"),
    sub_isolation_type: int = cd.SUB_ISO_MARKET_DIRECTION,
    max_leverage: int | None = None,
    quote_uuid: str | None = None,
    salts: tuple[bytes, bytes] | None = None,
    upnl_sig: UpnlSigRegime = UpnlSigRegime.GUIDE_ZERO,
    upnl_sig_timestamp: int | None = None,
    solver_fee_caps: tuple[object, object] | None = None,
) -> OpenPlan:
    """addMarginToNextVA (AccountLayer) + sendQuoteWithAffiliateAndData (Symmio core), both signed
    by the session key with signerAccount = the sub-account (spec §6).

    `upnl_sig` picks how sendQuote's upnlSig is filled (`harness.upnl_sig`, real-world.md §3):
    the guide's all-zero sentinel (default), the SDK's placeholder carrying the requested price
    and `upnl_sig_timestamp` (required for the SDK regimes: builders never read the clock), or
    that placeholder plus one FlexField over exactly its encoded region, filled by the hedger.

    On v0.8.6 (`context.generation`) the open is the capped `sendQuote` (real-world.md §2.1):
    `solver_fee_caps` (open, close) as decimal ratios, by default the symbol's served minimums
    (`Symbol.min_open_solver_fee_cap`, `min_close_solver_fee_cap`); caps below them are refused."""
    require_checksum_address(sub_account, "sub_account")
    caps = _solver_fee_caps(context.generation, symbol, solver_fee_caps)
    position_type = pricing.parse_side(side)
    lev = pricing.require_leverage(leverage, max_leverage)
    qty = pricing.require_precision(
        pricing.positive(quantity, "quantity"), symbol.quantity_precision, "quantity"
    )
    mark = pricing.positive(mark_price, "mark_price")
    if locked_params.leverage != lev:
        raise InputError(
            "locked_params.leverage",
            f"locked params were fetched for leverage {locked_params.leverage}, "
            f"the order uses {lev}",
        )
    price = pricing.open_price(mark, slippage_pct, side, symbol.price_precision)
    notional = pricing.notional(price, qty)
    locked = pricing.locked_values(notional, locked_params, lev)
    margin = pricing.add_margin_wei(side, price, mark, qty, lev, trading_fee)
    va_iso = cd.va_isolation_type(sub_isolation_type, position_type)
    hedger = _need(context.hedger, "hedger")
    affiliate = _need(context.affiliate, "affiliate")
    ident = quote_uuid if quote_uuid is not None else str(uuid_module.uuid4())
    if not isinstance(ident, str) or not ident:
        raise InputError("quote_uuid", "expected a non-empty string")
    _require_timestamp(deadline, "deadline")
    if not isinstance(upnl_sig, UpnlSigRegime):
        raise InputError("upnl_sig", f"expected a harness.upnl_sig.UpnlSigRegime, got {upnl_sig!r}")
    if upnl_sig is UpnlSigRegime.GUIDE_ZERO:
        stamp = 0
    elif upnl_sig_timestamp is None:
        raise InputError("upnl_sig_timestamp", f"required for the {upnl_sig.value} upnlSig (now)")
    else:
        stamp = _require_timestamp(upnl_sig_timestamp, "upnl_sig_timestamp")
    price_wei = pricing.to_wei(price, "price")

    add_call = cd.ADD_MARGIN_TO_NEXT_VA.encode(sub_account, va_iso, symbol.id, margin)
    send_args = (
        [hedger],
        symbol.id,
        position_type,
        cd.ORDER_MARKET,
        price_wei,
        pricing.to_wei(qty, "quantity"),
        locked.cva,
        locked.lf,
        locked.party_amm,
        locked.party_bmm,
        deadline,
        affiliate,
        upnl_sig_placeholder(upnl_sig, price_wei, stamp),
        cd.encode_quote_data(ident),
    )
    send_call = cd.open_function(context.generation).encode(
        *send_args, *(() if caps is None else (caps,))
    )
    flex: tuple[FlexField, ...] = ()
    if upnl_sig is UpnlSigRegime.SDK_FLEX:
        where = upnl_sig_region(send_call)
        flex = (FlexField(where.offset, where.length, hedger),)
    add_salt, send_salt = salts if salts is not None else (None, None)
    add_op = sign_operation(
        context,
        session_key,
        context.account_layer,
        add_call,
        sub_account,
        deadline=deadline,
        salt=add_salt,
    )
    send_op = sign_operation(
        context,
        session_key,
        context.symmio_core,
        send_call,
        sub_account,
        deadline=deadline,
        salt=send_salt,
        flex_fields=flex,
    )
    return OpenPlan(
        InstantOpen(add_op, send_op),
        position_type,
        va_iso,
        price,
        qty,
        notional,
        locked,
        margin,
        ident,
        caps,
    )


# --- Step 7: instant_close ----------------------------------------------------------------------


@dataclass(frozen=True)
class ClosePlan:
    body: InstantClose
    close_price: Decimal
    quantity: Decimal


def build_instant_close(
    context: Context,
    session_key: Signer,
    *,
    virtual_account: str,
    quote_id: int,
    symbol: Symbol,
    side: Side,
    quantity: object,
    mark_price: object,
    deadline: int,
    slippage_pct: object = Decimal("5"),
    salt: bytes | None = None,
) -> ClosePlan:
    """requestToClosePosition signed by the session key with signerAccount = the VA (spec §7).
    The body is a list of one wrapped operation; slippage runs opposite to the entry."""
    require_checksum_address(virtual_account, "virtual_account")
    if type(quote_id) is not int or quote_id <= 0:
        raise InputError("quote_id", f"expected the on-chain quote id (positive), got {quote_id!r}")
    qty = pricing.require_precision(
        pricing.positive(quantity, "quantity"), symbol.quantity_precision, "quantity"
    )
    price = pricing.close_price(mark_price, slippage_pct, side, symbol.price_precision)
    _require_timestamp(deadline, "deadline")
    call = cd.REQUEST_TO_CLOSE_POSITION.encode(
        quote_id,
        pricing.to_wei(price, "close_price"),
        pricing.to_wei(qty, "quantity"),
        cd.ORDER_MARKET,
        deadline,
    )
    op = sign_operation(
        context,
        session_key,
        context.symmio_core,
        call,
        virtual_account,
        deadline=deadline,
        salt=salt,
    )
    return ClosePlan(InstantClose((op,)), price, qty)


# --- Step 8: TP/SL ------------------------------------------------------------------------------

CONDITIONAL_PRICE_TYPES = ("market", "last_close")


def build_tpsl(
    domain: Domain,
    session_key: Signer,
    *,
    sub_account: str,
    virtual_account: str,
    affiliate: str,
    quote_id: int,
    symbol: Symbol,
    side: Side,
    quantity: object,
    mark_price: object,
    take_profit: object | None = None,
    stop_loss: object | None = None,
    salt: int | None = None,
) -> TpslRequest:
    """A ConditionalOrder signed by the session key (spec §8): unused legs are the canonical zero
    leg, used legs trigger on `last_close`, every amount within the symbol's precision."""
    if take_profit is None and stop_loss is None:
        raise InputError("take_profit/stop_loss", "set at least one of take_profit and stop_loss")
    position_type = pricing.parse_side(side)
    if type(quote_id) is not int or quote_id <= 0:
        raise InputError("quote_id", f"expected the on-chain quote id (positive), got {quote_id!r}")
    qty = pricing.require_precision(
        pricing.positive(quantity, "quantity"), symbol.quantity_precision, "quantity"
    )
    mark = pricing.positive(mark_price, "mark_price")
    # The leg's execution price is the mark, rounded against the user like a close.
    leg_price = pricing.close_price(mark, 0, side, symbol.price_precision)
    long = position_type == cd.POSITION_LONG

    def leg(trigger: object | None, field: str, above: bool) -> Leg:
        if trigger is None:
            return ZERO_LEG
        price = pricing.require_precision(
            pricing.positive(trigger, field), symbol.price_precision, field
        )
        if (price > mark) != above or price == mark:
            where = "above" if above else "below"
            raise InputError(
                field,
                f"must be {where} the mark price {pricing.format_decimal(mark)} "
                f"for a {side} position, got {pricing.format_decimal(price)}",
            )
        return Leg(
            pricing.format_decimal(qty),
            pricing.format_decimal(leg_price),
            cd.ORDER_MARKET,
            pricing.format_decimal(price),
            "last_close",
        )

    order = ConditionalOrder(
        virtual_account=virtual_account,
        sub_account=sub_account,
        salt=salt if salt is not None else secrets.randbits(256),
        quote_id=quote_id,
        symbol_id=symbol.id,
        position_type=position_type,
        affiliate=affiliate,
        take_profit=leg(take_profit, "take_profit", above=long),
        stop_loss=leg(stop_loss, "stop_loss", above=not long),
    )
    signature = session_key.sign_digest(eip712.digest(domain, order))
    return TpslRequest(domain, order, session_key.address, signature)


def build_tpsl_delete(
    domain: Domain,
    session_key: Signer,
    *,
    virtual_account: str,
    coh_quote_id: int | str,
    conditional_order_type: str,
    salt: str | None = None,
) -> tuple[CancelConditionalOrder, bytes]:
    """The cancel of one leg, `CancelConditionalOrder{virtualAccount, salt, cohQuoteId,
    conditionalOrderType}`, signed under the COH domain. The order is named by its VA, its
    "coh<N>" id (a bare N is written in that form) and its leg; `salt` is the cancel's own,
    fresh unless given (the SDK's `deleteQuoteTpSl` signs a new random salt for each cancel)."""
    if conditional_order_type not in ("take_profit", "stop_loss"):
        raise InputError(
            "conditional_order_type",
            f"expected take_profit or stop_loss, got {conditional_order_type!r}",
        )
    if isinstance(coh_quote_id, int) and not isinstance(coh_quote_id, bool) and coh_quote_id > 0:
        coh_quote_id = coh_quote_id_text(coh_quote_id)
    if parse_coh_quote_id(coh_quote_id) is None:
        raise InputError(
            "coh_quote_id", f'expected the order\'s "coh<N>" id (or N), got {coh_quote_id!r}'
        )
    assert isinstance(coh_quote_id, str)
    if salt is not None and (not isinstance(salt, str) or not salt):
        raise InputError("salt", f"expected a non-empty string, got {salt!r}")
    message = CancelConditionalOrder(
        virtual_account,
        salt if salt is not None else str(secrets.randbits(256)),
        coh_quote_id,
        conditional_order_type,
    )
    return message, session_key.sign_digest(eip712.digest(domain, message))
