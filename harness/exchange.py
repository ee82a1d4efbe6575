"""The validation report in the two interchange formats CI tools read: SARIF 2.1.0 (code-scanning
dashboards) and CTRF (test-report dashboards).

SARIF (OASIS SARIF 2.1.0): one run; `tool.driver` names the harness and carries the whole rule
catalogue (`rules[]`: id, shortDescription = the rule's title, fullDescription = the passage it
cites and the sentence it enforces, help, the default level); one `result` per finding with
`ruleId`, `level` (error / warning / note for "info"), `message.text`, the input as the
physical location (`artifactLocation.uri`, and a `region`: the line where the value at the
finding's JSON path starts in a JSON file, a JSON Lines body's line, else line 1) and the JSON
path in the body as a logical location (`fullyQualifiedName`, e.g.
`$.sendQuote.signature`), and `partialFingerprints["symmioFinding/v1"]`: a hash of rule ID,
input and JSON path with the triple's occurrence count (never line numbers or times), so a
dashboard tracks a finding across runs.

CTRF (https://ctrf.io, spec 0.0.0): `results.tool`, `results.summary` (tests, passed, failed,
skipped, pending, other, start, stop), one test per body: `name` "<input> [#<n>]", `status`
passed / failed (an input that cannot be used is failed, `rawStatus` "unusable"), `duration`
(whole milliseconds: a body takes well under one, so 0), the rule IDs of its findings in `tags`
and `extra.rules`, its findings in `extra.findings` and the violations in `message`.

Both are checked in tests against their published JSON Schemas (tests/data/README.md).
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections import Counter
from pathlib import Path, PurePath
from typing import Any
from urllib.parse import quote

from . import __version__, inputs
from .validator.catalogue import RULES, Rule
from .validator.results import Finding, Report, Result

TOOL_NAME = "symmio-harness"
#: Where the tool is described (the package's index page).
INFORMATION_URI = "https://pypi.org/project/symmio-harness/"
SARIF_VERSION = "2.1.0"
SARIF_SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
CTRF_SPEC_VERSION = "0.0.0"
FINGERPRINT_KEY = "symmioFinding/v1"
SARIF_LEVEL = {"error": "error", "warning": "warning", "info": "note"}

_JSONL_NAME = re.compile(r"(?P<file>.+):(?P<line>[1-9][0-9]*)\Z")
_HAR_NAME = re.compile(r"(?P<file>.+)#entries\[(?P<entry>[0-9]+)\] POST (?P<endpoint>\S+)\Z")
_SEGMENT = re.compile(r"\[(?P<index>[0-9]+)\]|(?P<key>[^.\[\]]+)")
_WHITESPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


def _where(name: str) -> tuple[str, int | None, dict[str, Any]]:
    """A result's input name -> (the file, the line of a JSON Lines body, extra facts)."""
    har = _HAR_NAME.match(name)
    if har:
        facts = {"harEntry": int(har["entry"]), "endpoint": har["endpoint"]}
        return har["file"], None, facts
    line = _JSONL_NAME.match(name)
    if line:
        return line["file"], int(line["line"]), {}
    return name, None, {}


def _uri(file: str) -> str:
    """A file name as a URI reference: file:// for an absolute path, else relative."""
    path = PurePath(file)
    if path.is_absolute():
        return path.as_uri()
    return quote(path.as_posix(), safe="/")


def json_path(path: str) -> str:
    """A finding's path (`sendQuote.signature`, `[0].signedOperation`, "" for the body) as a
    JSONPath (`$.sendQuote.signature`, `$[0].signedOperation`, `$`)."""
    if not path:
        return "$"
    return "$" + path if path.startswith("[") else "$." + path


def _value_offset(text: str, path: str) -> int:
    """Where in the JSON `text` the value at `path` starts (the deepest part of the path that
    exists, the body's start for ""); values passed over are skipped with the C scanner."""
    at = _WHITESPACE.match(text, 0).end()  # type: ignore[union-attr]
    for segment in _SEGMENT.finditer(path):
        found = _child_offset(text, at, segment["key"], segment["index"])
        if found is None:
            break
        at = found
    return at


def _child_offset(text: str, at: int, key: str | None, index: str | None) -> int | None:
    opener, closer = ("[", "]") if index is not None else ("{", "}")
    if not text.startswith(opener, at):
        return None
    wanted = int(index) if index is not None else None
    position = 0
    at += 1
    try:
        while True:
            at = _WHITESPACE.match(text, at).end()  # type: ignore[union-attr]
            if text.startswith(closer, at):
                return None
            if index is None:
                name, at = json.decoder.scanstring(text, at + 1)  # type: ignore[attr-defined]
                at = _WHITESPACE.match(text, at).end() + 1  # type: ignore[union-attr]  # the ':'
                at = _WHITESPACE.match(text, at).end()  # type: ignore[union-attr]
                if name == key:
                    return at
            elif position == wanted:
                return at
            _, at = _DECODER.raw_decode(text, at)
            at = _WHITESPACE.match(text, at).end() + 1  # type: ignore[union-attr]  # ',' or end
            position += 1
    except (ValueError, IndexError):
        return None


def line_of(text: str, path: str) -> int:
    """The 1-based line of the value at the JSON path `path` in `text`."""
    return text.count("\n", 0, _value_offset(text, path)) + 1


class _Texts:
    """The text of each input file a finding points into, read once (files within the body
    limit only; anything else, stdin, a HAR entry, gets line 1)."""

    def __init__(self) -> None:
        self._texts: dict[str, str | None] = {}

    def get(self, file: str) -> str | None:
        if file not in self._texts:
            self._texts[file] = self._read(file)
        return self._texts[file]

    @staticmethod
    def _read(file: str) -> str | None:
        try:
            path = Path(file)
            if not path.is_file() or path.stat().st_size > inputs.MAX_BODY_BYTES:
                return None
            return path.read_text(encoding="utf-8")
        except (OSError, ValueError):
            return None


# --------------------------------------------------------------------------------------------
# SARIF 2.1.0


def _sarif_rule(rule: Rule) -> dict[str, Any]:
    cited = f"{rule.spec}: {rule.sentence}"
    needs = ", ".join("a context file" if k == "context" else k for k in rule.requires)
    help_text = f"{rule.title}. {cited}" + (f" (checked with {needs})" if needs else "")
    return {
        "id": rule.id,
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": cited},
        "help": {"text": help_text},
        "defaultConfiguration": {"level": SARIF_LEVEL[rule.severity]},
        "properties": {"kinds": list(rule.kinds), "requires": list(rule.requires)},
    }


def _fingerprint(rule: str, uri: str, path: str, occurrence: int) -> str:
    digest = hashlib.sha256("\0".join((rule, uri, path)).encode()).hexdigest()
    return f"{digest[:32]}:{occurrence}"


def _sarif_result(
    result: Result,
    f: Finding,
    index: dict[str, int],
    seen: Counter[tuple[str, str, str]],
    texts: _Texts,
) -> dict[str, Any]:
    file, line, facts = _where(result.file)
    uri = _uri(file)
    if line is None:
        text = texts.get(result.file) if not facts and file == result.file else None
        line = line_of(text, f.path) if text is not None else 1
    physical: dict[str, Any] = {"artifactLocation": {"uri": uri}, "region": {"startLine": line}}
    key = (f.rule, uri, f.path)
    seen[key] += 1
    out: dict[str, Any] = {
        "ruleId": f.rule,
        "ruleIndex": index[f.rule],
        "level": SARIF_LEVEL[f.severity],
        "message": {"text": f.message},
        "locations": [
            {
                "physicalLocation": physical,
                "logicalLocations": [
                    {"name": f.path or "(body)", "fullyQualifiedName": json_path(f.path)}
                ],
            }
        ],
        "partialFingerprints": {FINGERPRINT_KEY: _fingerprint(*key, seen[key])},
        "properties": {"input": result.file, "kind": result.kind, **facts},
    }
    return out


def sarif_log(report: Report) -> dict[str, Any]:
    index = {rule.id: i for i, rule in enumerate(RULES)}
    seen: Counter[tuple[str, str, str]] = Counter()
    texts = _Texts()
    results = [
        _sarif_result(result, f, index, seen, texts)
        for result in report.results
        for f in result.findings
    ]
    summary = report.summary()
    return {
        "$schema": SARIF_SCHEMA_URI,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": TOOL_NAME,
                        "version": __version__,
                        "informationUri": INFORMATION_URI,
                        "rules": [_sarif_rule(rule) for rule in RULES],
                    }
                },
                "invocations": [
                    {
                        "executionSuccessful": summary["unusable"] == 0,
                        "exitCode": summary["exit_code"],
                    }
                ],
                "results": results,
                "properties": {
                    "inputs": summary["inputs"],
                    "now": summary["now"],
                    "context": summary["context"],
                    "rulesNotRun": summary["rules_not_run"],
                },
            }
        ],
    }


def render_sarif(report: Report) -> str:
    return json.dumps(sarif_log(report), indent=2) + "\n"


# --------------------------------------------------------------------------------------------
# CTRF


def _ctrf_test(number: int, result: Result) -> dict[str, Any]:
    file, line, facts = _where(result.file)
    rules = sorted(result.rule_ids)
    status = "failed" if (result.violations or not result.usable) else "passed"
    raw = "unusable" if not result.usable else result.verdict
    test: dict[str, Any] = {
        "name": f"{result.file} [#{number}]",
        "status": status,
        "duration": 0,
        "rawStatus": raw,
        "suite": [f"{TOOL_NAME} validate", result.kind or "unknown"],
        "filePath": file,
        "tags": rules,
        "type": "conformance",
        "extra": {
            "kind": result.kind,
            "rules": rules,
            "findings": [f.to_json() for f in result.findings],
            **facts,
        },
    }
    if line is not None:
        test["line"] = line
    failing = result.violations if result.usable else result.findings[:1]
    if failing:
        test["message"] = "; ".join(
            f"{f.rule} at {json_path(f.path)}: {' '.join(f.message.split())}" for f in failing
        )
    return test


def ctrf_report(
    report: Report, started_ms: int | None = None, stopped_ms: int | None = None
) -> dict[str, Any]:
    stopped = stopped_ms if stopped_ms is not None else int(time.time() * 1000)
    started = started_ms if started_ms is not None else stopped
    tests = [_ctrf_test(i, result) for i, result in enumerate(report.results, 1)]
    statuses = Counter(t["status"] for t in tests)
    summary = report.summary()
    return {
        "reportFormat": "CTRF",
        "specVersion": CTRF_SPEC_VERSION,
        "generatedBy": f"{TOOL_NAME} {__version__}",
        "results": {
            "tool": {"name": TOOL_NAME, "version": __version__},
            "summary": {
                "tests": len(tests),
                "passed": statuses["passed"],
                "failed": statuses["failed"],
                "skipped": 0,
                "pending": 0,
                "other": 0,
                "start": started,
                "stop": stopped,
                "duration": stopped - started,
                "extra": {
                    "violations": summary["violations"],
                    "warnings": summary["warnings"],
                    "unusable": summary["unusable"],
                    "rulesNotRun": summary["rules_not_run"],
                    "context": summary["context"],
                    "now": summary["now"],
                },
            },
            "tests": tests,
        },
    }


def render_ctrf(
    report: Report, started_ms: int | None = None, stopped_ms: int | None = None
) -> str:
    return json.dumps(ctrf_report(report, started_ms, stopped_ms), indent=2) + "\n"
