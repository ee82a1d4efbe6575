"""Money and price arithmetic of the flow (spec §6, §7, §8): Decimal and integer wei only.

Every computation runs in a 120-digit decimal context, so nothing is rounded by the context;
where the flow must round, the rounding is explicit and always against the user's favour:
- a slipped limit price is rounded away from the mark (long open up, short open down, long close
  down, short close up), so the quote never asks for a better price than the slippage allows;
- locked values and margin are rounded up to the wei, so they never fall below the formula.
A user-given amount that does not fit its precision is an error, never silently rounded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import (
    ROUND_CEILING,
    ROUND_FLOOR,
    Context,
    Decimal,
    InvalidOperation,
    localcontext,
)
from typing import Literal

from .calldata import POSITION_LONG, POSITION_SHORT
from .errors import InputError

Side = Literal["long", "short"]
WEI_DECIMALS = 18
ONE = Decimal(1)
HUNDRED = Decimal(100)
#: Upper bound for the short-side margin price (spec §6 "SHORT_BUFFER", a slippage buffer).
SHORT_MARGIN_BUFFER = Decimal("1.10")
_CONTEXT = Context(prec=120)


def _ctx() -> localcontext:
    return localcontext(_CONTEXT)


def to_decimal(value: object, field: str) -> Decimal:
    """A finite Decimal from a Decimal, an int or a decimal string. Floats are refused."""
    if isinstance(value, bool | float):
        raise InputError(
            field,
            f"expected a Decimal, an int or a decimal string, got {type(value).__name__} "
            f"{value!r} (floats are never used for money or prices)",
        )
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip()) if value.strip() == value else None
        except InvalidOperation:
            result = None
        if result is None:
            raise InputError(field, f"expected a decimal string, got {value!r}")
    else:
        raise InputError(field, f"expected a Decimal, got {type(value).__name__}")
    if not result.is_finite():
        raise InputError(field, f"expected a finite number, got {value!r}")
    return result


def positive(value: object, field: str) -> Decimal:
    result = to_decimal(value, field)
    if result <= 0:
        raise InputError(field, f"must be greater than zero, got {format_decimal(result)}")
    return result


def non_negative(value: object, field: str) -> Decimal:
    result = to_decimal(value, field)
    if result < 0:
        raise InputError(field, f"must not be negative, got {format_decimal(result)}")
    return result


def step(places: int) -> Decimal:
    """The smallest increment at `places` decimals: 10**-places."""
    return Decimal(1).scaleb(-places)


def fits_precision(value: Decimal, places: int) -> bool:
    with _ctx():
        return value == value.quantize(step(places))


def require_precision(value: object, places: int, field: str) -> Decimal:
    """The value at exactly `places` decimals; InputError if that would change it."""
    if type(places) is not int or places < 0:
        raise InputError(f"{field} precision", f"expected a non-negative integer, got {places!r}")
    result = to_decimal(value, field)
    if not fits_precision(result, places):
        raise InputError(
            field,
            f"{format_decimal(result)} has more than {places} decimal places "
            f"(the symbol's precision); round it yourself before sending",
        )
    with _ctx():
        return result.quantize(step(places))


def format_decimal(value: Decimal) -> str:
    """Plain positional notation, never an exponent (str(Decimal('1E-8')) would give '1E-8')."""
    text = format(value, "f")
    return "0" if text in ("-0", "") else text


def parse_side(side: object) -> int:
    """'long' -> POSITION_LONG (0), 'short' -> POSITION_SHORT (1)."""
    if side == "long":
        return POSITION_LONG
    if side == "short":
        return POSITION_SHORT
    raise InputError("side", f"expected 'long' or 'short', got {side!r}")


def require_leverage(leverage: object, max_leverage: int | None = None) -> int:
    if type(leverage) is not int:
        raise InputError("leverage", f"expected a whole number >= 1, got {leverage!r}")
    if leverage < 1:
        raise InputError("leverage", f"must be at least 1, got {leverage}")
    if max_leverage is not None and leverage > max_leverage:
        raise InputError("leverage", f"{leverage} exceeds the symbol's max leverage {max_leverage}")
    return leverage


def slippage_fraction(slippage_pct: object) -> Decimal:
    """Percent (5 = 5%) to a fraction in [0, 1). 100% or more is refused, not capped."""
    pct = to_decimal(slippage_pct, "slippage_pct")
    if not 0 <= pct < HUNDRED:
        raise InputError("slippage_pct", f"must be in [0, 100), got {format_decimal(pct)}")
    with _ctx():
        return pct / HUNDRED


def open_price(mark: object, slippage_pct: object, side: Side, price_precision: int) -> Decimal:
    """Worst acceptable entry: long mark*(1+s) rounded up, short mark*(1-s) rounded down."""
    return _slipped(mark, slippage_pct, parse_side(side) == POSITION_LONG, price_precision)


def close_price(mark: object, slippage_pct: object, side: Side, price_precision: int) -> Decimal:
    """Worst acceptable exit, opposite to entry: closing a long accepts down to mark*(1-s)."""
    return _slipped(mark, slippage_pct, parse_side(side) == POSITION_SHORT, price_precision)


def _slipped(mark: object, slippage_pct: object, upward: bool, places: int) -> Decimal:
    mark_d = positive(mark, "mark_price")
    fraction = slippage_fraction(slippage_pct)
    with _ctx():
        raw = mark_d * (ONE + fraction) if upward else mark_d * (ONE - fraction)
        price = raw.quantize(step(places), rounding=ROUND_CEILING if upward else ROUND_FLOOR)
    if price <= 0:
        raise InputError(
            "price", f"slipped price {format_decimal(raw)} rounds to zero at {places} decimals"
        )
    return price


# --- Units ------------------------------------------------------------------------------------


def to_wei(amount: object, field: str = "amount") -> int:
    """18-decimal fixed point, exactly. InputError if the amount has more than 18 decimals."""
    value = non_negative(amount, field)
    if not fits_precision(value, WEI_DECIMALS):
        raise InputError(field, f"{format_decimal(value)} has more than 18 decimal places")
    with _ctx():
        return int(value.scaleb(WEI_DECIMALS))


def to_wei_rounded_up(amount: Decimal, field: str = "amount") -> int:
    """18-decimal fixed point, rounded up to the next wei (for locked values and margin)."""
    value = non_negative(amount, field)
    with _ctx():
        return int(value.scaleb(WEI_DECIMALS).to_integral_value(rounding=ROUND_CEILING))


def from_wei(wei: int) -> Decimal:
    if type(wei) is not int or wei < 0:
        raise InputError("wei", f"expected a non-negative integer, got {wei!r}")
    with _ctx():
        return Decimal(wei).scaleb(-WEI_DECIMALS)


def _require_decimals(decimals: object) -> int:
    if type(decimals) is not int or not 0 <= decimals <= WEI_DECIMALS:
        raise InputError("decimals", f"expected a token decimals value 0..18, got {decimals!r}")
    return decimals


def to_token_units(amount: object, decimals: int, field: str = "amount") -> int:
    """Token-native integer units (6 for USDC, 18 for most stablecoins), exactly."""
    places = _require_decimals(decimals)
    value = non_negative(amount, field)
    if not fits_precision(value, places):
        raise InputError(
            field, f"{format_decimal(value)} has more decimals than the token's {places}"
        )
    with _ctx():
        return int(value.scaleb(places))


def token_units_to_wei(units: int, decimals: int) -> int:
    """Native token units to Symmio's internal 18-decimal balance (exact by construction)."""
    places = _require_decimals(decimals)
    if type(units) is not int or units < 0:
        raise InputError("units", f"expected a non-negative integer, got {units!r}")
    return units * 10 ** (WEI_DECIMALS - places)


def wei_to_token_units(wei: int, decimals: int) -> int:
    """18-decimal wei to native units; InputError if the wei amount is not a whole token unit."""
    places = _require_decimals(decimals)
    if type(wei) is not int or wei < 0:
        raise InputError("wei", f"expected a non-negative integer, got {wei!r}")
    units, remainder = divmod(wei, 10 ** (WEI_DECIMALS - places))
    if remainder:
        raise InputError("wei", f"{wei} is not a whole number of {places}-decimal token units")
    return units


# --- Locked params and margin -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LockedParamsPct:
    """GET /get_locked_params/{symbol}?leverage=N: percentages, served as strings."""

    cva: Decimal
    lf: Decimal
    party_amm: Decimal
    party_bmm: Decimal
    leverage: int

    @classmethod
    def from_response(cls, body: Mapping[str, object]) -> LockedParamsPct:
        """Strict reading of the solver's response: every value a decimal string."""
        values: dict[str, Decimal] = {}
        for key in ("cva", "lf", "partyAmm", "partyBmm"):
            if key not in body:
                raise InputError(f"locked_params.{key}", "missing")
            raw = body[key]
            if not isinstance(raw, str):
                raise InputError(f"locked_params.{key}", f"expected a decimal string, got {raw!r}")
            values[key] = non_negative(raw, f"locked_params.{key}")
        leverage_raw = body.get("leverage")
        try:
            leverage = int(str(leverage_raw)) if leverage_raw is not None else 1
        except ValueError:
            raise InputError(
                "locked_params.leverage", f"not an integer: {leverage_raw!r}"
            ) from None
        return cls(
            values["cva"],
            values["lf"],
            values["partyAmm"],
            values["partyBmm"],
            require_leverage(leverage),
        )


@dataclass(frozen=True, slots=True)
class LockedValues:
    """The four locked amounts of a quote, in 18-decimal wei."""

    cva: int
    lf: int
    party_amm: int
    party_bmm: int

    @property
    def total_party_a(self) -> int:
        return self.cva + self.lf + self.party_amm


def notional(price: Decimal, quantity: Decimal) -> Decimal:
    with _ctx():
        return price * quantity


def locked_values(notional_value: Decimal, params: LockedParamsPct, leverage: int) -> LockedValues:
    """cva, lf, partyAmm = notional * pct / (100 * leverage); partyBmm = notional * pct / 100."""
    lev = require_leverage(leverage)
    base = non_negative(notional_value, "notional")
    with _ctx():
        divisor = HUNDRED * lev
        return LockedValues(
            cva=to_wei_rounded_up(base * params.cva / divisor, "cva"),
            lf=to_wei_rounded_up(base * params.lf / divisor, "lf"),
            party_amm=to_wei_rounded_up(base * params.party_amm / divisor, "partyAmm"),
            party_bmm=to_wei_rounded_up(base * params.party_bmm / HUNDRED, "partyBmm"),
        )


def add_margin_wei(
    side: Side,
    requested_price: Decimal,
    mark_price: Decimal,
    quantity: Decimal,
    leverage: int,
    trading_fee: object,
) -> int:
    """Margin moved to the next VA (spec §6 "addMargin sizing").

    upper price = the requested price on a long, mark * 1.10 on a short (a short's fill can land
    above the mark); margin = upper price * quantity / leverage * (1 + 2 * trading fee), rounded up
    to the wei. The fee counts twice: opening and closing.
    """
    lev = require_leverage(leverage)
    fee = non_negative(trading_fee, "trading_fee")
    qty = positive(quantity, "quantity")
    with _ctx():
        upper = (
            positive(requested_price, "requested_price")
            if parse_side(side) == POSITION_LONG
            else positive(mark_price, "mark_price") * SHORT_MARGIN_BUFFER
        )
        return to_wei_rounded_up(upper * qty / lev * (ONE + 2 * fee), "margin")
