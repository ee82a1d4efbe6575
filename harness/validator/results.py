"""Verdicts: one `Result` per input (its findings, and the typed body and decoded calls the
engine built), and the `Report` of a run."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

from ..context import Context
from ..protocol import BODY_KINDS
from .catalogue import BY_ID, RULES
from .checks import judged_generation, missing_requirements


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str
    severity: str
    path: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "path": self.path,
            "message": self.message,
        }


def finding(rule: str, path: str, message: str) -> Finding:
    """A finding with the catalogue's severity (the only place a severity comes from)."""
    return Finding(rule, BY_ID[rule].severity, path, message)


@dataclass(slots=True)
class Result:
    """The verdict on one input (one body). `value` is the typed body (InstantOpen,
    InstantClose, TpslRequest) when it read completely, `calls` the decoded calldata arguments by
    operation path: callers use them instead of reading or decoding the body again."""

    file: str
    kind: str | None
    findings: list[Finding] = field(default_factory=list)
    value: Any = None
    calls: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def violations(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warning"]

    @property
    def information(self) -> list[Finding]:
        """Conforming forms the validator names (severity "info"): never a warning."""
        return [f for f in self.findings if f.severity == "info"]

    @property
    def verdict(self) -> str:
        return "fail" if self.violations else "pass"

    @property
    def usable(self) -> bool:
        """False when the input could not be validated at all (exit code 2)."""
        return not any(BY_ID[f.rule].unusable_input for f in self.findings)

    @property
    def rule_ids(self) -> set[str]:
        return {f.rule for f in self.findings}

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "kind": self.kind,
            "verdict": self.verdict,
            "violations": [f.to_json() for f in self.violations],
            "warnings": [f.to_json() for f in self.warnings],
            "information": [f.to_json() for f in self.information],
        }


def rules_not_run(
    context: Context | None,
    contracts_version: str | None = None,
    kinds: Collection[str] | None = None,
) -> list[dict[str, str]]:
    """The rules of the generation judged that could not run for want of a context key (a rule
    of a later generation is not one of them). `kinds`: the body kinds the run judged; a rule
    that judges none of them, or needs the key for none of them, is not one of them either (a
    run of closes never misses the COH limits). None: every kind (no body read yet)."""
    generation = judged_generation(context, contracts_version)
    judged = BODY_KINDS if kinds is None else kinds
    out = []
    for rule in RULES:
        if not rule.applies_to(generation):
            continue
        missing = next(
            (
                found
                for kind in judged
                if kind in rule.kinds and (found := missing_requirements(rule, context, kind))
            ),
            [],
        )
        if missing:
            need = "a context file" if context is None else f"the context key {missing[0]}"
            out.append({"rule": rule.id, "needs": need})
    return out


@dataclass
class Report:
    """Every result of one run, in input order, with the options that produced them."""

    results: list[Result]
    options: Any
    now: int
    context_file: str | None = None

    @property
    def exit_code(self) -> int:
        return exit_code(self.results)

    def rules_not_run(self) -> list[dict[str, str]]:
        """The rules that could not run on this report's bodies (`rules_not_run`)."""
        return Tally.of(self.results).rules_not_run(
            self.options.context, self.options.contracts_version
        )

    def summary(self) -> dict[str, Any]:
        return summary(
            self.results,
            self.options.context,
            self.now,
            self.context_file,
            self.options.contracts_version,
        )

    def to_json(self) -> dict[str, Any]:
        return {"results": [r.to_json() for r in self.results], "summary": self.summary()}


def exit_code(results: list[Result]) -> int:
    if any(not r.usable for r in results) or not results:
        return 2
    return 1 if any(r.violations for r in results) else 0


class Tally:
    """Counts of a run, kept while results stream by (constant memory)."""

    def __init__(self) -> None:
        self.inputs = self.passed = self.failed = self.unusable = 0
        self.violations = self.warnings = 0
        self.rules: Counter[str] = Counter()
        #: the body kinds judged so far
        self.kinds: set[str] = set()

    @classmethod
    def of(cls, results: Iterable[Result]) -> Tally:
        tally = cls()
        for result in results:
            tally.add(result)
        return tally

    def add(self, result: Result) -> None:
        self.inputs += 1
        if result.kind is not None:
            self.kinds.add(result.kind)
        if not result.usable:
            self.unusable += 1
        elif result.violations:
            self.failed += 1
        else:
            self.passed += 1
        self.violations += len(result.violations)
        self.warnings += len(result.warnings)
        self.rules.update(f.rule for f in result.findings)

    def rules_not_run(
        self, context: Context | None, contracts_version: str | None = None
    ) -> list[dict[str, str]]:
        """`rules_not_run` for the body kinds tallied (every kind when no body was read)."""
        return rules_not_run(context, contracts_version, self.kinds or None)

    @property
    def exit_code(self) -> int:
        if self.unusable or not self.inputs:
            return 2
        return 1 if self.failed else 0

    def summary(
        self,
        context: Context | None,
        now: int,
        context_file: str | None,
        contracts_version: str | None = None,
    ) -> dict[str, Any]:
        return {
            "inputs": self.inputs,
            "passed": self.passed,
            "failed": self.failed,
            "unusable": self.unusable,
            "violations": self.violations,
            "warnings": self.warnings,
            "rules": dict(sorted(self.rules.items())),
            "rules_not_run": self.rules_not_run(context, contracts_version),
            "context": context_file,
            "now": now,
            "exit_code": self.exit_code,
        }


def summary(
    results: list[Result],
    context: Context | None,
    now: int,
    context_file: str | None,
    contracts_version: str | None = None,
) -> dict[str, Any]:
    return Tally.of(results).summary(context, now, context_file, contracts_version)
