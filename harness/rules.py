"""Compatibility names: the rule catalogue lives in `harness.validator.catalogue`."""

from __future__ import annotations

from .errors import Problem
from .protocol import INSTANT_CLOSE, INSTANT_OPEN, TPSL
from .validator.catalogue import BY_ID, KINDS, OPS, RULES, Rule, rules_for, severity_of


def rule_for_problem(problem: Problem) -> str:
    """The rule a wire problem breaks: the reader names it itself."""
    return problem.rule


__all__ = [
    "BY_ID",
    "INSTANT_CLOSE",
    "INSTANT_OPEN",
    "KINDS",
    "OPS",
    "RULES",
    "TPSL",
    "Rule",
    "rule_for_problem",
    "rules_for",
    "severity_of",
]
