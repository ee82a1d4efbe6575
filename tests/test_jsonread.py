"""harness.jsonread: the strict, bounded JSON reader every service body goes through."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness import jsonread
from harness.inputs import load_json


def test_deep_nesting_is_refused_by_scanning_not_recursion() -> None:
    got = jsonread.read(b"[" * 100_000 + b"]" * 100_000, max_depth=64)
    assert got.problem == ("input.limits", "JSON nested deeper than 64 levels")


def test_depth_at_the_limit_is_read_and_one_more_is_refused() -> None:
    assert jsonread.read("[" * 64 + "]" * 64).problem is None
    assert jsonread.read("[" * 65 + "]" * 65).problem[0] == "input.limits"


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    text = '{"a": "' + "[" * 1000 + '\\"[[["}'
    got = jsonread.read(text)
    assert got.problem is None and got.value == {"a": "[" * 1000 + '"[[['}


def test_deep_body_after_importing_the_chain_is_a_clean_error_not_a_crash() -> None:
    """py_ecc raises the recursion limit to 100,000: json.loads would segfault. Run in a child
    so a crash fails this test instead of killing pytest."""
    code = textwrap.dedent(
        """
        import sys
        import harness.chain  # noqa: F401  (raises the recursion limit through py_ecc)
        from harness.validator.engine import Validator
        from harness.services.errors import ServiceRefusal
        from harness.services.plumbing import read_json_bytes
        assert sys.getrecursionlimit() >= 100_000, sys.getrecursionlimit()
        deep = b"[" * 100_000 + b"]" * 100_000
        result = Validator().validate_bytes(deep)
        print(result.findings[0].rule, result.findings[0].message)
        try:
            read_json_bytes(b'{"a":' + deep + b"}")
        except ServiceRefusal as refusal:
            print(refusal.error.code, refusal.detail)
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"exit {proc.returncode}: {proc.stderr[-2000:]}"
    lines = proc.stdout.splitlines()
    assert lines[0] == "input.limits JSON nested deeper than 64 levels", proc.stdout
    assert lines[1] == "3001 JSON nested deeper than 64 levels", proc.stdout


def test_duplicate_keys_are_refused_unless_asked_for() -> None:
    text = '{"signer": "not-an-address", "signer": "0xabc"}'
    refused = jsonread.read(text)
    assert refused.problem == (
        "json.duplicate-key",
        'key "signer" appears more than once in one object; send it once',
    )
    kept = jsonread.read(text, allow_duplicate_keys=True)
    assert kept.problem is None and kept.duplicate_keys == ["signer"]
    assert kept.value == {"signer": "0xabc"}


@pytest.mark.parametrize("text", ["NaN", "[Infinity]", '{"a": -Infinity}'])
def test_nan_and_infinity_are_not_json(text: str) -> None:
    got = jsonread.read(text)
    assert got.problem is not None and got.problem[0] == "input.not-json", got


@pytest.mark.parametrize("text", ["1e999", "[-1e400]"])
def test_numbers_out_of_range_are_refused(text: str) -> None:
    got = jsonread.read(text)
    assert got.problem is not None and got.problem[0] == "input.limits", got
    assert "out of range" in got.problem[1]


def test_a_number_with_too_many_digits_is_refused() -> None:
    got = jsonread.read("1" * 5000)
    assert got.problem == ("input.limits", "a JSON number has too many digits to read")


def test_size_and_value_count_limits() -> None:
    assert jsonread.read(b" " * 11, max_bytes=10).problem == (
        "input.limits",
        "the body is 11 bytes; the limit is 10 bytes",
    )
    many = "[" + ",".join(["1"] * 101) + "]"
    assert jsonread.read(many, max_values=100).problem == (
        "input.limits",
        "more than 100 JSON values in one body",
    )
    assert jsonread.read(many, max_values=None).problem is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\xff{}", "not UTF-8 text (byte 0)"),
        ("\ufeff{}", "JSON text must not start with a byte-order mark"),
        ("{", "not JSON: Expecting property name enclosed in double quotes (line 1, column 2)"),
    ],
)
def test_unreadable_text_names_the_problem(data: bytes | str, message: str) -> None:
    assert jsonread.read(data).problem == ("input.not-json", message)


def test_load_json_delegates_and_keeps_its_contract() -> None:
    loaded = load_json('{"a": 1, "a": 2}')
    assert loaded.value == {"a": 2} and loaded.duplicate_keys == ["a"] and loaded.problem is None
    assert load_json("[" * 70 + "]" * 70).problem == (
        "input.limits",
        "JSON nested deeper than 64 levels",
    )


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4)
    ),
    max_leaves=20,
)


@given(_json)
def test_any_json_within_the_limits_reads_back_equal(value: object) -> None:
    import json

    got = jsonread.read(json.dumps(value))
    assert got.problem is None and got.value == value
