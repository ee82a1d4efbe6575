"""The committed, language-neutral corpus (fixtures/): up to date with its generator, and every
case judged as its manifest says, read from disk the way another implementation would."""

from __future__ import annotations

import json

import pytest

from harness.context import load_context
from harness.validator.catalogue import RULES
from harness.validator.engine import Options, validate_paths

from .corpus import FIXTURES
from .corpus import generate as g

MANIFEST = json.loads((FIXTURES / "manifest.json").read_text())


def test_corpus_is_up_to_date_with_its_generator():
    stale = g.stale()
    assert not stale, f"run `python fixtures/generate.py`; stale: {stale}"


def test_manifest_lists_the_catalogue_and_pins_the_clock():
    assert MANIFEST["rules"] == [rule.id for rule in RULES]
    assert MANIFEST["now"] == g.NOW
    assert MANIFEST["format_version"] == g.FORMAT_VERSION


@pytest.mark.parametrize("case", MANIFEST["cases"], ids=lambda c: c["id"])
def test_manifest_case_from_disk(case):
    context = load_context(FIXTURES / case["context"]) if case["context"] else None
    report = validate_paths(
        [str(FIXTURES / case["file"])], Options(case["kind"], context, MANIFEST["now"])
    )
    expect = case["expect"]
    assert len(report.results) == case["bodies"]
    for result in report.results:
        got = result.to_json()
        assert got["verdict"] == expect["verdict"], got
        assert sorted({v["rule"] for v in got["violations"]}) == sorted(expect["violations"])
        assert sorted({w["rule"] for w in got["warnings"]}) == sorted(expect["warnings"])
        assert sorted({i["rule"] for i in got["information"]}) == sorted(expect["information"])
    assert report.exit_code == expect["exit_code"]
