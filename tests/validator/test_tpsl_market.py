"""The TP/SL market rules (docs/protocol.md §10) beyond the one-mutation corpus: a short
position's sides, what runs without the market keys, and the context keys themselves."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from harness.context import CohLimits, context_from_json
from harness.errors import ContextError
from harness.validator.engine import Options, Validator
from harness.validator.results import rules_not_run

from .corpus import generate as g

MARKET_RULES = (
    "tpsl.trigger-side",
    "tpsl.trigger-at-mark",
    "tpsl.min-distance",
    "tpsl.tp-sl-spread",
)


def short_order(tp: str, sl: str, context=g.FULL) -> set[str]:
    """The rules a short position's order (mark 65000.5) with these triggers trips."""
    order = g.tpsl_request().order
    order = replace(
        order,
        position_type=1,
        take_profit=replace(order.take_profit, conditional_price=tp),
        stop_loss=replace(order.stop_loss, conditional_price=sl),
    )
    result = Validator(Options(context=context, now=g.NOW)).validate_body(
        g.tpsl_json(g.sign_order(order))
    )
    return set(result.rule_ids)


def test_a_short_position_takes_profit_below_the_mark_and_stops_loss_above_it() -> None:
    assert short_order(tp="60000.5", sl="70000") == set()


def test_tpsl_trigger_side_a_short_take_profit_above_the_mark_is_refused() -> None:
    assert short_order(tp="66000", sl="70000") == {"tpsl.trigger-side"}


def test_tpsl_trigger_side_a_short_stop_loss_below_the_mark_is_refused() -> None:
    assert short_order(tp="60000.5", sl="64000") == {"tpsl.trigger-side"}


def test_tpsl_sl_beyond_tp_a_short_stop_loss_below_its_take_profit() -> None:
    assert short_order(tp="60000.5", sl="59000", context=g.MINIMAL) == {"tpsl.sl-beyond-tp"}


def test_tpsl_min_distance_a_short_take_profit_just_below_the_mark() -> None:
    assert short_order(tp="64990", sl="70000") == {"tpsl.min-distance"}


def test_the_market_rules_say_they_need_the_mark_when_the_context_has_none() -> None:
    needs = {item["rule"]: item["needs"] for item in rules_not_run(g.MINIMAL)}
    for rule in MARKET_RULES:
        assert needs[rule] == "the context key mark_prices", (rule, needs.get(rule))
    assert needs["tpsl.quantity-position"] == "the context key open_quantities"
    assert "tpsl.trigger-zero" not in needs and "tpsl.sl-beyond-tp" not in needs
    marks_only = replace(g.MINIMAL, mark_prices=g.FULL.mark_prices)
    needs = {item["rule"]: item["needs"] for item in rules_not_run(marks_only)}
    assert needs["tpsl.min-distance"] == "the context key coh_limits", needs


def test_an_order_on_a_symbol_without_a_mark_is_not_judged_against_one() -> None:
    context = replace(g.FULL, mark_prices=((2, Decimal("3500.25")),))
    assert short_order(tp="66000", sl="70000", context=context) == set()


def test_context_market_keys_round_trip_and_limits_read_as_served_numbers() -> None:
    data = g.FULL.to_json()
    assert context_from_json(data) == g.FULL
    data["coh_limits"] = {
        "MaxRequestTimeDeltaSeconds": 60,
        "MinPriceDistancePercent": 0.1,
        "MinProfitStopLossSpreadPercent": 0.2,
        "MaxActiveOrdersPerUser": 50,
    }
    assert context_from_json(data).coh_limits == CohLimits(60, Decimal("0.1"), Decimal("0.2"), 50)


@pytest.mark.parametrize(
    ("key", "value", "path"),
    [
        ("mark_prices", {"BTC": "1"}, "mark_prices.BTC"),
        ("mark_prices", {"1": "0"}, "mark_prices.1"),
        ("mark_prices", {"1": 65000.5}, "mark_prices.1"),
        ("open_quantities", {"42": "-1"}, "open_quantities.42"),
        ("coh_limits", {"MaxRequestTimeDeltaSeconds": 60}, "coh_limits.MinPriceDistancePercent"),
    ],
)
def test_a_bad_market_key_names_its_path(key: str, value: object, path: str) -> None:
    data = {**g.FULL.to_json(), key: value}
    with pytest.raises(ContextError) as caught:
        context_from_json(data)
    assert path in str(caught.value), str(caught.value)
