"""Decimal pricing: slippage direction, precision, units, locked params, margin."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from harness import pricing
from harness.errors import InputError

marks = st.decimals(
    min_value=Decimal("0.0001"),
    max_value=Decimal("1000000"),
    places=6,
    allow_nan=False,
    allow_infinity=False,
)
slippages = st.decimals(min_value=0, max_value=Decimal("99.99"), places=2)
precisions = st.integers(min_value=0, max_value=8)
sides = st.sampled_from(["long", "short"])


@given(marks, slippages, sides, precisions)
def test_slippage_never_moves_the_price_in_the_users_favour(mark, slip, side, places) -> None:
    fraction = slip / 100
    try:
        entry = pricing.open_price(mark, slip, side, places)
        exit_ = pricing.close_price(mark, slip, side, places)
    except InputError as exc:
        assert "rounds to zero" in str(exc)
        return
    if side == "long":  # pays at most entry, sells at least exit
        assert entry >= mark * (1 + fraction) >= mark
        assert exit_ <= mark * (1 - fraction) <= mark
    else:
        assert entry <= mark * (1 - fraction) <= mark
        assert exit_ >= mark * (1 + fraction) >= mark


@given(marks, slippages, sides, precisions)
def test_quantization_never_exceeds_the_precision(mark, slip, side, places) -> None:
    try:
        price = pricing.open_price(mark, slip, side, places)
    except InputError:
        return
    assert -price.as_tuple().exponent <= places
    text = pricing.format_decimal(price)
    assert "E" not in text and "e" not in text
    assert len(text.partition(".")[2]) == places


@given(st.decimals(min_value=0, max_value=Decimal(10) ** 12, places=18))
def test_wei_conversion_is_exact(amount: Decimal) -> None:
    wei = pricing.to_wei(amount)
    assert pricing.from_wei(wei) == amount


@given(st.integers(min_value=0, max_value=10**30), st.sampled_from([6, 18]))
def test_token_unit_conversion_is_exact(units: int, decimals: int) -> None:
    wei = pricing.token_units_to_wei(units, decimals)
    assert pricing.wei_to_token_units(wei, decimals) == units
    assert pricing.to_token_units(pricing.from_wei(wei), decimals) == units


def test_token_units_known_answers() -> None:
    assert pricing.to_token_units(Decimal("1000"), 6) == 1_000_000_000
    assert pricing.to_token_units(Decimal("1000"), 18) == 1000 * 10**18
    assert pricing.token_units_to_wei(1, 6) == 10**12
    with pytest.raises(InputError, match="more decimals than the token's 6"):
        pricing.to_token_units(Decimal("0.0000001"), 6)
    with pytest.raises(InputError, match="not a whole number of 6-decimal"):
        pricing.wei_to_token_units(10**12 + 1, 6)


def test_to_wei_refuses_more_than_18_decimals() -> None:
    with pytest.raises(InputError, match="more than 18 decimal places"):
        pricing.to_wei(Decimal("1e-19"))


def test_format_decimal_never_uses_exponents() -> None:
    assert str(Decimal("0.00000001")) == "1E-8"  # what str() would send
    assert pricing.format_decimal(Decimal("0.00000001")) == "0.00000001"
    assert pricing.format_decimal(Decimal("1E+3")) == "1000"


@given(
    st.decimals(min_value=Decimal("0.001"), max_value=Decimal("1000"), places=6),
    st.integers(min_value=1, max_value=100),
)
def test_locked_values_never_fall_below_the_formula(notional: Decimal, leverage: int) -> None:
    params = pricing.LockedParamsPct(
        Decimal("2"), Decimal("1.5"), Decimal("5"), Decimal("0.3"), leverage
    )
    values = pricing.locked_values(notional, params, leverage)
    assert pricing.from_wei(values.cva) >= notional * 2 / (100 * leverage)
    assert pricing.from_wei(values.cva) - notional * 2 / (100 * leverage) < Decimal("1e-18")
    assert pricing.from_wei(values.party_bmm) >= notional * Decimal("0.3") / 100


def test_margin_known_answers() -> None:
    long = pricing.add_margin_wei(
        "long", Decimal("100"), Decimal("99"), Decimal("2"), 4, Decimal("0.001")
    )
    assert long == pricing.to_wei(Decimal("100") * 2 / 4 * Decimal("1.002"))
    short = pricing.add_margin_wei(
        "short", Decimal("95"), Decimal("100"), Decimal("2"), 4, Decimal("0.001")
    )
    assert short == pricing.to_wei(Decimal("110") * 2 / 4 * Decimal("1.002")), "mark x 1.10"


def test_locked_params_response_is_read_strictly() -> None:
    with pytest.raises(InputError, match="locked_params.cva: expected a decimal string"):
        pricing.LockedParamsPct.from_response(
            {"cva": 2, "lf": "1", "partyAmm": "1", "partyBmm": "0"}
        )
    with pytest.raises(InputError, match="locked_params.lf: missing"):
        pricing.LockedParamsPct.from_response({"cva": "2"})


@pytest.mark.parametrize("bad", [0.1, float("nan"), "1,5", None, True])
def test_floats_and_junk_are_refused(bad) -> None:
    with pytest.raises(InputError):
        pricing.to_decimal(bad, "x")


@given(marks, slippages)
def test_open_and_close_are_mirror_images(mark, slip) -> None:
    assume(mark * (1 - slip / 100) >= Decimal("0.01"))
    assert pricing.open_price(mark, slip, "long", 2) >= pricing.close_price(
        mark, slip, "short", 2
    ) - Decimal("0.01")
