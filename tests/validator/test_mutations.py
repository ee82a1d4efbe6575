"""Mutation self-test (issue 3 §5): for every rule, one mutation of a valid body trips exactly
that rule, and the unmutated control passes with no finding at all.

The table lives in fixtures/generate.py (`MUTATIONS`), the same one that writes the corpus.
"""

from __future__ import annotations

import pytest

from harness import inputs
from harness.validator.catalogue import BY_ID, RULES
from harness.validator.engine import Options, Validator, validate_paths
from harness.validator.results import Result

from .corpus import generate as g

VALID = {case.id: case for case in g.VALID}


def run_case(case, tmp_path) -> list[Result]:
    context = g.CONTEXTS[case.context] if case.context else None
    options = Options(context=context, now=g.NOW)
    value = case.make()
    if isinstance(value, g.Missing):
        return validate_paths([str(tmp_path / "missing.json")], options).results
    data = value.data if isinstance(value, g.Raw) else g.dumps(value)
    validator = Validator(options)
    return [validator.validate_source(s) for s in inputs.sources_from_bytes(data, case.id)]


def test_every_rule_has_a_mutation_case():
    covered = {rule for case in g.MUTATIONS for rule in case.rules}
    missing = [rule.id for rule in RULES if rule.id not in covered]
    assert not missing, f"rules without a mutation case (a defect): {missing}"


def test_every_mutation_case_names_one_catalogue_rule_and_a_valid_control():
    for case in g.MUTATIONS:
        assert len(case.rules) == 1, case.id
        assert case.rules[0] in BY_ID, f"{case.id}: unknown rule {case.rules[0]}"
        assert case.base in VALID, f"{case.id}: control {case.base!r} is not a valid case"


@pytest.mark.parametrize("case", g.MUTATIONS, ids=lambda c: c.id)
def test_mutation_trips_exactly_its_rule(case, tmp_path):
    results = run_case(case, tmp_path)
    assert results, "no result"
    for result in results:
        fired = sorted(result.rule_ids)
        assert fired == list(case.rules), (
            f"{case.id} ({case.describe}): expected exactly {list(case.rules)}, got {fired}: "
            + "; ".join(f"{f.rule} {f.path}: {f.message}" for f in result.findings)
        )


@pytest.mark.parametrize("case", g.MUTATIONS, ids=lambda c: c.id)
def test_unmutated_control_passes(case, tmp_path):
    control = g.Case(f"control of {case.id}", VALID[case.base].make, context=case.context, bodies=0)
    for result in run_case(control, tmp_path):
        assert not result.findings, (
            f"control {case.base} under context {case.context}: "
            + "; ".join(f"{f.rule} {f.path}: {f.message}" for f in result.findings)
        )


@pytest.mark.parametrize("case", g.VALID, ids=lambda c: c.id)
def test_valid_case_passes_without_any_finding(case, tmp_path):
    results = run_case(case, tmp_path)
    assert len(results) == case.bodies
    for result in results:
        assert result.verdict == "pass" and not result.findings, [
            f"{f.rule} {f.path}: {f.message}" for f in result.findings
        ]
