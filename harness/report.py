"""Renderers for validation reports (text, json, junit, jsonl, and sarif and ctrf from
`harness.exchange`) and for the rule catalogue (text, json, markdown), and the two commands'
logic (`validate_command`, `rules_command`) that cli.py calls.

Which context a run uses: `--context FILE`, else the `context.json` of a record folder named on
the command line (`demo --record DIR` writes one), else none, and the run says so in one line at
the top (on stderr): signatures and the context rules were not checked. `--strict` makes a run
in which any rule could not be checked exit 2.

The JSON report is a stable interface:
`{"results": [{"file", "kind", "verdict": "pass"|"fail", "violations": [{"rule", "severity",
"path", "message"}], "warnings": [...], "information": [...]}], "summary": {...}}`;
`information` lists the conforming forms the validator names (severity "info"), e.g. a published
form the builder guide writes otherwise.
"""

from __future__ import annotations

import json
import time
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, TextIO

from . import deployments, inputs
from .context import deployment_context, describe_error, load_context
from .errors import ContextError
from .exchange import render_ctrf, render_sarif
from .progress import Progress
from .protocol import BODY_KINDS, BY_VERSION
from .validator.catalogue import RULES, Rule
from .validator.engine import BATCH, Options, iter_results, resolve_now, validate_paths
from .validator.results import Report, Result, Tally

REPORT_FORMATS = ("text", "json", "junit", "jsonl", "sarif", "ctrf")
#: Formats written while the results stream by (constant memory, whatever the input's size).
STREAMED_FORMATS = ("text", "jsonl")
RULE_FORMATS = ("text", "json", "markdown")

# --------------------------------------------------------------------------------------------
# Reports


#: JUnit property names by severity
_PROPERTY = {"error": "violation", "warning": "warning", "info": "information"}


def _finding_line(severity: str, rule: str, path: str, message: str) -> str:
    return f"  {severity:<7}  {rule:<24}  {path or '(body)'}: {message}"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _result_text(result: Result) -> list[str]:
    kind = result.kind or "?"
    if not result.usable:
        finding = result.findings[0]
        return [f"{result.file}: cannot be used: {_one_line(finding.message)} ({finding.rule})"]
    lines = [f"{result.file}  [{kind}]  {result.verdict.upper()}"]
    for f in [*result.violations, *result.warnings, *result.information]:
        lines.append(_finding_line(f.severity, f.rule, f.path, _one_line(f.message)))
    return lines


def render_text(report: Report) -> str:
    lines: list[str] = []
    for result in report.results:
        lines.extend(_result_text(result))
    lines.extend(_summary_text(report.summary()))
    return "\n".join(lines) + "\n"


def _summary_text(s: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    plural = "" if s["inputs"] == 1 else "s"
    lines.append(
        f"{s['inputs']} input{plural}: {s['passed']} passed, {s['failed']} failed, "
        f"{s['unusable']} unusable; {s['violations']} violation(s), {s['warnings']} warning(s)"
    )
    not_run = s["rules_not_run"]
    if not_run:
        by_need: dict[str, list[str]] = {}
        for item in not_run:
            by_need.setdefault(item["needs"], []).append(item["rule"])
        for need, ids in by_need.items():
            lines.append(f"not checked without {need}: {', '.join(ids)}")
    return lines


def render_jsonl(report: Report) -> str:
    """One verdict per line (the JSON report's result objects), for log pipelines."""
    return "".join(json.dumps(r.to_json()) + "\n" for r in report.results)


def render_json(report: Report) -> str:
    return json.dumps(report.to_json(), indent=2) + "\n"


def render_junit(report: Report) -> str:
    """JUnit XML: one testcase per input; each rule that fired is a property (name "violation"
    or "warning", value the rule ID); violations are a <failure>, unusable inputs an <error>."""
    summary = report.summary()
    suite = ET.Element(
        "testsuite",
        name="symmio-harness validate",
        tests=str(summary["inputs"]),
        failures=str(summary["failed"]),
        errors=str(summary["unusable"]),
        skipped="0",
    )
    for result in report.results:
        case = ET.SubElement(
            suite, "testcase", classname=f"symmio.{result.kind or 'unknown'}", name=result.file
        )
        props = ET.SubElement(case, "properties")
        for f in result.findings:
            ET.SubElement(
                props,
                "property",
                name=_PROPERTY[f.severity],
                value=f.rule,
            )
        details = "\n".join(f"{f.rule} {f.path or '(body)'}: {f.message}" for f in result.findings)
        if not result.usable:
            first = result.findings[0]
            err = ET.SubElement(case, "error", message=_one_line(first.message), type=first.rule)
            err.text = details
        elif result.violations:
            rules = sorted({f.rule for f in result.violations})
            fail = ET.SubElement(
                case,
                "failure",
                message=f"{len(result.violations)} violation(s): {', '.join(rules)}",
                type=rules[0],
            )
            fail.text = details
        elif result.warnings:
            ET.SubElement(case, "system-out").text = details
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, "unicode") + "\n"


RENDERERS = {
    "text": render_text,
    "json": render_json,
    "junit": render_junit,
    "jsonl": render_jsonl,
    "sarif": render_sarif,
    "ctrf": render_ctrf,
}


def render(
    report: Report, fmt: str, started_ms: int | None = None, stopped_ms: int | None = None
) -> str:
    """`report` in `fmt`; CTRF also records when the run started and stopped (ms)."""
    if fmt == "ctrf":
        return render_ctrf(report, started_ms, stopped_ms)
    return RENDERERS[fmt](report)


#: The one line a run without any context starts with (on stderr).
NO_CONTEXT_LINE = (
    "no context file: signatures and the rules that need a context were not checked "
    "(give --context FILE, or validate a `demo --record` folder, which has its own)"
)


def record_context(paths: Sequence[str]) -> tuple[str | None, str | None]:
    """The context file of the record folders among `paths` (a directory holding a
    `context.json` that reads as a context): (its path, None), (None, None) when there is none,
    or (None, why) when several folders hold different ones."""
    found = {str(c): c for raw in paths if raw != "-" and (c := inputs.record_context_file(raw))}
    if len({c.resolve() for c in found.values()}) > 1:
        names = ", ".join(sorted(found))
        return None, f"the record folders have different contexts ({names}); pass --context FILE"
    return next(iter(found), None), None


def validate_command(
    paths: Sequence[str],
    *,
    kind: str = "auto",
    context_file: str | None = None,
    now: int | None = None,
    contracts_version: str | None = None,
    fmt: str = "text",
    jobs: int = 1,
    out: TextIO,
    err: TextIO,
    stdin: Any = None,
    input_format: str = "auto",
    strict: bool = False,
    deployment: str | None = None,
) -> int:
    """`symmio-harness validate`: 0 all conform, 1 a violation, 2 an input or the context could
    not be used (a one-line reason, never a traceback: an unusable input's in the text report,
    or on `err` beside a machine-readable one; the context's on `err`), or, with `strict`, a rule
    could not be checked (no context, or a context key it needs missing). Without
    `context_file`, a record folder among `paths` gives its own. Text and JSON Lines reports are
    written as the results stream by, in constant memory; the text report shows a progress
    counter when `err` is a terminal (`harness.progress`)."""
    prog = "symmio-harness validate"
    if now is not None and now < 0:
        err.write(f"{prog}: --now must be a unix time (seconds, >= 0), got {now}\n")
        return 2
    if jobs < 1:
        err.write(f"{prog}: --jobs must be at least 1, got {jobs}\n")
        return 2
    if contracts_version is not None and contracts_version not in BY_VERSION:
        known = ", ".join(BY_VERSION)
        err.write(f"{prog}: --contracts-version must be one of {known}, got {contracts_version}\n")
        return 2
    context = None
    profile = None
    if deployment is not None:
        try:
            profile = deployments.profile(deployment)
        except ValueError as exc:
            err.write(f"{prog}: --deployment: {exc}\n")
            return 2
        if profile.chain_id is None:
            err.write(f"{prog}: --deployment {deployment}: a local profile has no addresses\n")
            return 2
    if context_file is None and profile is None:
        context_file, problem = record_context(paths)
        if problem is not None:
            err.write(f"{prog}: {problem}\n")
            return 2
    if context_file is not None:
        try:
            context = load_context(context_file)
        except ContextError as exc:
            err.write(f"{prog}: context file {context_file}: {_one_line(describe_error(exc))}\n")
            return 2
    if profile is not None:
        # the deployment's registry context, or the given one judged as that deployment
        if context is None:
            context = deployment_context(profile)
        elif context.contracts_version not in (None, profile.generation.version):
            err.write(
                f"{prog}: the context says contracts_version {context.contracts_version}, "
                f"--deployment {profile.name} is v{profile.generation.version}\n"
            )
            return 2
        elif context.contracts_version is None:
            context = replace(context, contracts_version=profile.generation.version)
    if context is None:
        err.write(f"{prog}: {NO_CONTEXT_LINE}\n")
        err.flush()
    options = Options(kind, context, now, contracts_version)
    if fmt in STREAMED_FORMATS:
        tally = _stream(paths, options, fmt, jobs, context_file, stdin, input_format, out, err)
        not_run = tally.rules_not_run(context, contracts_version) if strict else []
        return _strict_code(tally.exit_code, not_run, err)
    started = int(time.time() * 1000)
    report = validate_paths(
        paths,
        options,
        jobs=jobs,
        context_file=context_file,
        stdin=stdin,
        input_format=input_format,
    )
    out.write(render(report, fmt, started, int(time.time() * 1000)))
    for result in report.results:
        _unusable_line(result, err)
    return _strict_code(report.exit_code, report.rules_not_run() if strict else [], err)


def _strict_code(code: int, not_run: list[dict[str, str]], err: TextIO) -> int:
    """Under --strict, a rule that could not be checked on the bodies judged (`not_run`) makes
    the run exit 2."""
    if not not_run:
        return code
    err.write(
        f"symmio-harness validate: --strict: {len(not_run)} rule(s) not checked "
        f"({', '.join(item['rule'] for item in not_run)})\n"
    )
    return max(code, 2)


def _unusable_line(result: Result, err: TextIO) -> None:
    """Beside a machine-readable report, one line on `err` for a human: an unusable input."""
    if not result.usable:
        first = result.findings[0]
        err.write(
            f"symmio-harness validate: {result.file}: {_one_line(first.message)} ({first.rule})\n"
        )


def _stream(
    paths: Sequence[str],
    options: Options,
    fmt: str,
    jobs: int,
    context_file: str | None,
    stdin: Any,
    input_format: str,
    out: TextIO,
    err: TextIO,
) -> Tally:
    """Validate and write each verdict as it comes; the run's tally."""
    now = resolve_now(options)
    options = replace(options, now=now)
    sources = inputs.iter_sources(
        list(paths), stdin=stdin, exclude=context_file, input_format=input_format
    )
    tally = Tally()
    live = "-" in paths  # a pipe: each verdict as soon as its line is read
    progress = Progress.for_report(err, out, fmt, "validate")
    for result in iter_results(sources, options, jobs=jobs, batch=1 if live else BATCH):
        tally.add(result)
        progress.clear()
        if fmt == "jsonl":
            out.write(json.dumps(result.to_json()) + "\n")
        else:
            out.write("\n".join(_result_text(result)) + "\n")
        if fmt != "text":  # the text report names an unusable input itself: said once
            _unusable_line(result, err)
        progress.update(tally.inputs)
    progress.clear()
    if fmt == "text":
        summary = tally.summary(options.context, now, context_file, options.contracts_version)
        out.write("\n".join(_summary_text(summary)) + "\n")
    return tally


# --------------------------------------------------------------------------------------------
# The catalogue


def _needs(rule: Rule) -> str:
    return ", ".join("context file" if k == "context" else k for k in rule.requires)


def rules_text(rules: Sequence[Rule] = RULES) -> str:
    lines = []
    for rule in rules:
        needs = f"  [needs {_needs(rule)}]" if rule.requires else ""
        lines.append(f"{rule.id:<24} {rule.severity:<7} {rule.title}{needs}")
        lines.append(f"{'':<24} {rule.spec}: {rule.sentence}")
    return "\n".join(lines) + "\n"


def rules_json(rules: Sequence[Rule] = RULES) -> str:
    return json.dumps({"rules": [rule.to_json() for rule in rules]}, indent=2) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def rules_markdown(rules: Sequence[Rule] = RULES) -> str:
    lines = [
        "| ID | Severity | Applies to | Needs | What it checks | Enforces |",
        "|---|---|---|---|---|---|",
    ]
    for rule in rules:
        kinds = "all" if set(rule.kinds) == set(BODY_KINDS) else ", ".join(rule.kinds)
        if rule.since is not None:
            kinds += f" (v{rule.since} and later)"
        lines.append(
            f"| `{rule.id}` | {rule.severity} | {kinds} | {_cell(_needs(rule)) or '-'} | "
            f"{_cell(rule.title)} | {_cell(rule.spec)}: {_cell(rule.sentence)} |"
        )
    return "\n".join(lines) + "\n"


RULE_RENDERERS = {"text": rules_text, "json": rules_json, "markdown": rules_markdown}


def rules_command(fmt: str = "text") -> str:
    """`symmio-harness rules`: the catalogue in text, json or markdown."""
    return RULE_RENDERERS[fmt]()


def result_lines(result: Result) -> list[str]:
    """The text lines of one result (for the pytest plugin's failure report)."""
    return [
        _finding_line(f.severity, f.rule, f.path, _one_line(f.message)) for f in result.findings
    ]
