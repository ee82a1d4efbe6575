"""Wire JSON: round trips, strictness, every defect with its JSON path."""

from __future__ import annotations

import copy
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness import wire
from harness.errors import WireError
from harness.model import InstantClose, InstantOpen, TpslRequest, WrappedOperation
from tests import strategies as s

wrapped_ops = st.builds(WrappedOperation, s.signed_operations, st.binary(min_size=65, max_size=65))
open_bodies = st.builds(InstantOpen, wrapped_ops, wrapped_ops)
close_bodies = st.lists(wrapped_ops, min_size=1, max_size=3).map(
    lambda ops: InstantClose(tuple(ops))
)
tpsl_bodies = st.builds(
    TpslRequest, s.domains, s.conditional_orders, s.addresses, st.binary(min_size=65, max_size=65)
)


def _json_round(obj):
    return json.loads(json.dumps(obj))


@given(open_bodies)
def test_instant_open_round_trip(body: InstantOpen) -> None:
    data = _json_round(wire.instant_open_to_wire(body))
    assert wire.instant_open_from_wire(data) == body
    assert wire.instant_open_to_wire(wire.instant_open_from_wire(data)) == data


@given(close_bodies)
def test_instant_close_round_trip(body: InstantClose) -> None:
    data = _json_round(wire.instant_close_to_wire(body))
    assert isinstance(data, list)
    assert wire.instant_close_from_wire(data) == body


@given(tpsl_bodies)
def test_tpsl_round_trip(body: TpslRequest) -> None:
    data = _json_round(wire.tpsl_to_wire(body))
    assert isinstance(data["typedData"]["message"]["salt"], str)
    assert wire.tpsl_from_wire(data) == body


@given(s.json_values)
def test_readers_never_raise_on_any_json(value) -> None:
    for parse in (wire.parse_instant_open, wire.parse_instant_close, wire.parse_tpsl):
        parsed = parse(value)
        assert parsed.value is not None or parsed.errors


@given(wrapped_ops)
def test_numeric_strings_on_the_wire(op: WrappedOperation) -> None:
    data = wire.wrapped_operation_to_wire(op)
    so = data["signedOperation"]
    assert isinstance(so["maxUses"], str)
    assert all(isinstance(so["replayAttackHeader"][k], str) for k in ("nonce", "deadline"))
    assert len(data["signature"]) == 132


@pytest.fixture
def open_json() -> dict:
    from tests.test_flow import example_open

    return wire.instant_open_to_wire(example_open().body)


def _codes(parsed) -> list[tuple[str, str, str]]:
    return [(p.path, p.code, p.severity) for p in parsed.problems]


def test_json_number_is_information_with_path(open_json: dict) -> None:
    open_json["sendQuote"]["signedOperation"]["maxUses"] = 1
    parsed = wire.parse_instant_open(open_json)
    assert parsed.value is not None, "SDK-style numbers are read"
    assert _codes(parsed) == [("sendQuote.signedOperation.maxUses", wire.UINT_JSON_NUMBER, "info")]
    assert "the JSON number 1: a JSON integer, as the solver's schema publishes it" in (
        parsed.problems[0].message
    )
    with pytest.raises(WireError, match=r"sendQuote\.signedOperation\.maxUses"):
        wire.instant_open_from_wire(open_json)


@pytest.mark.parametrize(
    ("path", "value", "code"),
    [
        (("addMargin", "signedOperation", "maxUses"), "01", wire.UINT_FORMAT),
        (("addMargin", "signedOperation", "maxUses"), "-1", wire.UINT_FORMAT),
        (("addMargin", "signedOperation", "maxUses"), 1.0, wire.UINT_FORMAT),
        (("addMargin", "signedOperation", "maxUses"), True, wire.UINT_FORMAT),
        (("addMargin", "signedOperation", "maxUses"), str(2**256), wire.UINT_RANGE),
        (("addMargin", "signedOperation", "signer"), "0x" + "ab" * 20, wire.ADDRESS_CHECKSUM),
        (("addMargin", "signedOperation", "signer"), "0x1234", wire.ADDRESS_FORMAT),
        (("addMargin", "signedOperation", "signerAccount", "isPartyB"), "false", wire.BOOL_TYPE),
        (("addMargin", "signedOperation", "signerAccount", "isPartyB"), 0, wire.BOOL_TYPE),
        (("addMargin", "signedOperation", "callData"), "a6d66852", wire.HEX_FORMAT),
        (("addMargin", "signedOperation", "callData"), "0xa6d6685", wire.HEX_FORMAT),
        (("addMargin", "signedOperation", "replayAttackHeader", "salt"), "0x11", wire.HEX_LENGTH),
        (("addMargin", "signature"), "0x" + "00" * 64, wire.SIG_LENGTH),
        (("addMargin", "signedOperation", "flexFields"), {}, wire.JSON_TYPE),
    ],
    ids=lambda v: v if isinstance(v, str) and "." in v else None,
)
def test_each_defect_is_reported_at_its_path(open_json: dict, path, value, code) -> None:
    target = open_json
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    parsed = wire.parse_instant_open(open_json)
    assert parsed.value is None
    assert _codes(parsed) == [(".".join(path), code, "error")], parsed.problems


def test_missing_and_unknown_keys(open_json: dict) -> None:
    del open_json["addMargin"]["signedOperation"]["target"]
    open_json["sendQuote"]["extra"] = 1
    parsed = wire.parse_instant_open(open_json)
    assert ("addMargin.signedOperation.target", wire.JSON_MISSING, "error") in _codes(parsed)
    assert ("sendQuote.extra", wire.JSON_UNKNOWN, "error") in _codes(parsed)


def test_legacy_5_field_operation_is_named(open_json: dict) -> None:
    so = open_json["sendQuote"]["signedOperation"]
    del so["flexFields"], so["maxUses"]
    parsed = wire.parse_instant_open(open_json)
    assert _codes(parsed) == [("sendQuote.signedOperation", wire.LEGACY_5_FIELD, "error")]
    assert "legacy 5-field SignedOperation" in parsed.problems[0].message


def test_close_is_a_bare_list_and_the_published_envelope_is_information(open_json: dict) -> None:
    op = open_json["sendQuote"]
    assert wire.parse_instant_close([op]).problems == []
    parsed = wire.parse_instant_close({"operations": [op]})
    assert parsed.value is not None
    assert _codes(parsed) == [("", wire.CLOSE_ENVELOPE, "info")]
    assert _codes(wire.parse_instant_close([])) == [("", wire.CLOSE_EMPTY, "error")]


def test_tpsl_salt_must_be_a_decimal_string() -> None:
    from tests.test_flow import example_tpsl

    data = wire.tpsl_to_wire(example_tpsl())
    data["typedData"]["message"]["salt"] = int(data["typedData"]["message"]["salt"])
    parsed = wire.parse_tpsl(data)
    assert _codes(parsed) == [("typedData.message.salt", wire.TPSL_SALT_TYPE, "error")]


def test_tpsl_types_must_equal_the_pinned_ones() -> None:
    from tests.test_flow import example_tpsl

    data = wire.tpsl_to_wire(example_tpsl())
    bad = copy.deepcopy(data)
    bad["typedData"]["types"]["StopLoss"][0]["type"] = "uint256"
    assert _codes(wire.parse_tpsl(bad)) == [("typedData.types.StopLoss", wire.TPSL_TYPES, "error")]
    no_domain = copy.deepcopy(data)
    del no_domain["typedData"]["types"]["EIP712Domain"]
    assert _codes(wire.parse_tpsl(no_domain)) == [
        ("typedData.types.EIP712Domain", wire.TPSL_TYPES_NO_DOMAIN, "warning")
    ]


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        ({"addMargin": 1}, "instant_open"),
        ([], "instant_close"),
        ({"operations": []}, "instant_close"),
        ({"typedData": {}}, "tpsl"),
        ({"x": 1}, None),
        (3, None),
    ],
)
def test_detect_kind(body, kind) -> None:
    assert wire.detect_kind(body) == kind


def _tweaks(draw_path_value):
    """Non-canonical variants of one JSON value: what a sloppy encoder writes instead."""
    value = draw_path_value
    if isinstance(value, bool):
        return [str(value).lower(), int(value), None]
    if isinstance(value, str) and value.startswith("0x"):
        return [
            value.lower(),
            value.upper().replace("0X", "0x"),
            value[2:],
            value + "0",
            " " + value,
        ]
    if isinstance(value, str):
        return [int(value), "0" + value, value + ".0", "-" + value, f" {value}"]
    if isinstance(value, list):
        return [tuple(value), {}, None]
    if isinstance(value, dict):
        return [{**value, "extra": 1}, dict(list(value.items())[1:]), []]
    return [None]


@given(s.signed_operations, st.binary(min_size=65, max_size=65), st.data())
def test_the_canonical_fast_reader_accepts_exactly_what_the_full_reader_reads_cleanly(
    op, signature, data
):
    from unittest import mock

    body = json.loads(json.dumps(wire.wrapped_operation_to_wire(WrappedOperation(op, signature))))
    spots = list(s.json_leaves(body))
    path, original = data.draw(st.sampled_from(spots))
    variant = data.draw(st.sampled_from([original, *_tweaks(original)]))
    if path:
        target = body
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = variant
    else:
        body = variant
    fast = wire._fast_operation_parts(copy.deepcopy(body), "close[0]")
    with mock.patch.object(wire, "_fast_operation_parts", lambda value, path: None):
        r = wire.Reader()
        full = wire._read_operation_parts(r, copy.deepcopy(body), "close[0]")
    if r.problems:
        assert fast is None, f"fast path accepted a body the full reader reports: {r.problems}"
    else:
        assert fast == full, f"{path}={variant!r}: fast {fast} vs full {full}"
