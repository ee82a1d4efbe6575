"""The small pieces behind the published shapes: JSON numbers from Decimals, the COH's order
ids, and the harness headers' bound."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from harness.model import coh_quote_id_text, parse_coh_quote_id
from harness.services.published import (
    HEADER_BUDGET,
    OMITTED_HEADER,
    WARNINGS_HEADER,
    dumps,
    harness_headers,
    number,
    read_harness_list,
)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("0.1"), "0.1"),
        (Decimal("1E-8"), "0.00000001"),
        (Decimal("68250.50"), "68250.50"),
        (Decimal("1E+3"), "1000"),
        (Decimal("-0"), "0"),
    ],
)
def test_a_decimal_is_written_as_its_exact_json_number(value: Decimal, text: str) -> None:
    assert dumps({"x": value}) == '{"x":' + text + "}"
    assert json.loads(dumps({"x": value}), parse_float=Decimal)["x"] == value


def test_number_reads_a_signed_amount_string_without_float() -> None:
    assert number("0.0150") == Decimal("0.015") and str(number("68250")) == "68250"


@pytest.mark.parametrize("text", ["coh1", "coh123456"])
def test_a_coh_quote_id_round_trips(text: str) -> None:
    got = parse_coh_quote_id(text)
    assert got is not None and coh_quote_id_text(got) == text


@pytest.mark.parametrize("bad", ["1", "coh", "coh0", "coh01", "coh-1", "COH1", " coh1", 1, None])
def test_anything_but_a_coh_prefixed_number_is_no_coh_quote_id(bad: object) -> None:
    assert parse_coh_quote_id(bad) is None


def test_no_harness_header_when_there_is_nothing_to_say() -> None:
    assert harness_headers() == {}


def test_the_warnings_header_is_bounded_and_says_how_many_it_left_out() -> None:
    items = [{"rule_id": "r", "path": f"p{i}", "message": "m" * 200} for i in range(100)]
    headers = harness_headers(items)
    assert len(headers[WARNINGS_HEADER]) <= HEADER_BUDGET
    kept = read_harness_list(headers, WARNINGS_HEADER)
    assert kept == items[: len(kept)] and int(headers[OMITTED_HEADER]) == 100 - len(kept)


def test_the_headers_are_ascii_whatever_the_message() -> None:
    headers = harness_headers([{"rule_id": "r", "path": "", "message": "prix \u20ac"}])
    assert headers[WARNINGS_HEADER].isascii()
    assert read_harness_list(headers, WARNINGS_HEADER)[0]["message"] == "prix \u20ac"
