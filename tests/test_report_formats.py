"""`validate` for a new user: JSON Lines found by shape, a record folder's own context, one line
when there is no context (and `--strict`), and the SARIF and CTRF reports, each checked against
the format's published JSON Schema (tests/data/README.md says where each schema comes from)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections import Counter
from dataclasses import replace
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from harness import inputs
from harness.cli import app
from harness.context import dump_context
from harness.exchange import FINGERPRINT_KEY, json_path, line_of
from harness.report import NO_CONTEXT_LINE, validate_command
from harness.validator.catalogue import RULES

from .validator.corpus import FIXTURES
from .validator.corpus import generate as g

DATA = Path(__file__).parent / "data"
FULL = str(FIXTURES / "contexts/full.json")


def _schema_errors(document: dict, schema_file: str) -> list[str]:
    schema = json.loads((DATA / schema_file).read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    validator = cls(schema, format_checker=cls.FORMAT_CHECKER)
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator.iter_errors(document)
    ]


def run(paths, **kw) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    kw.setdefault("now", g.NOW)
    code = validate_command(paths, out=out, err=err, **kw)
    return code, out.getvalue(), err.getvalue()


def _line(value) -> bytes:
    return json.dumps(value).encode() + b"\n"


@pytest.fixture
def mixed(tmp_path) -> list[str]:
    """Inputs with every severity, an unusable input, a JSON Lines log and a HAR capture."""
    (tmp_path / "ok.json").write_bytes(g.dumps(g.open_json()))
    (tmp_path / "bad.json").write_bytes(
        g.dumps(g.edit(g.close_json(), "0.signedOperation.maxUses", "01"))
    )
    (tmp_path / "info.json").write_bytes(
        g.dumps(g.edit(g.close_json(), "0.signedOperation.maxUses", 1))
    )
    (tmp_path / "broken.json").write_bytes(b"{not json")
    bad = g.edit(g.close_json(), "0.signedOperation.maxUses", "01")
    (tmp_path / "log.jsonl").write_bytes(_line(g.close_json()) + _line(bad) + _line(bad))
    (tmp_path / "c.har").write_bytes(g.har(("POST", g.TPSL_URL, g.tpsl_json())).data)
    names = ("ok.json", "bad.json", "info.json", "broken.json", "log.jsonl", "c.har")
    return [str(tmp_path / n) for n in names]


# --- SARIF ----------------------------------------------------------------------------------------


def _sarif_ok(paths) -> dict:
    code, out, err = run(paths, fmt="sarif", context_file=FULL)
    assert code == 0, (out, err)
    return json.loads(out)


def _sarif(paths, **kw) -> dict:
    code, out, _ = run(paths, fmt="sarif", context_file=FULL, **kw)
    assert code == 2, "the fixture holds an unusable input"
    return json.loads(out)


def test_sarif_report_is_valid_against_the_sarif_2_1_0_schema(mixed):
    log = _sarif(mixed)
    assert _schema_errors(log, "sarif-2.1.0-rtm.5.json") == []
    assert log["version"] == "2.1.0" and len(log["runs"]) == 1


def test_sarif_driver_names_the_tool_and_carries_the_whole_rule_catalogue(mixed):
    driver = _sarif(mixed)["runs"][0]["tool"]["driver"]
    assert driver["name"] == "symmio-harness" and driver["version"]
    assert driver["informationUri"].startswith("https://")
    assert [r["id"] for r in driver["rules"]] == [r.id for r in RULES]
    for rule, entry in zip(RULES, driver["rules"], strict=True):
        assert entry["shortDescription"]["text"] == rule.title, rule.id
        assert rule.sentence in entry["fullDescription"]["text"], rule.id
        assert rule.sentence in entry["help"]["text"], rule.id


def test_sarif_has_one_result_per_finding_with_level_location_and_json_path(mixed):
    _, out, _ = run(mixed, fmt="json", context_file=FULL)
    report = json.loads(out)
    findings = [
        (r["file"], f["rule"], f["severity"], f["path"])
        for r in report["results"]
        for f in r["violations"] + r["warnings"] + r["information"]
    ]
    run_ = _sarif(mixed)["runs"][0]
    results = run_["results"]
    assert len(results) == len(findings), "one SARIF result per finding"
    levels = {(r["ruleId"], r["level"]) for r in results}
    assert ("uint.decimal-string", "error") in levels, levels
    assert ("uint.json-number", "note") in levels, f"an info finding is a note: {levels}"
    assert ("input.not-json", "error") in levels, levels
    assert Counter((r["ruleId"], r["message"]["text"]) for r in results) == Counter(
        (f["rule"], f["message"])
        for r in report["results"]
        for f in r["violations"] + r["warnings"] + r["information"]
    ), "each finding once, with its rule and message"
    rules = run_["tool"]["driver"]["rules"]
    for result in results:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        (location,) = result["locations"]
        assert location["physicalLocation"]["artifactLocation"]["uri"].startswith("file://")
        (logical,) = location["logicalLocations"]
        assert logical["fullyQualifiedName"].startswith("$")
    jsonl = [
        r
        for r in results
        if r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith("log.jsonl")
    ]
    assert sorted(r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in jsonl) == [
        2,
        3,
    ], "a JSON Lines body's line is its region"
    info = next(r for r in results if r["level"] == "note")
    assert info["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == (
        "$[0].signedOperation.maxUses"
    )


def test_sarif_fingerprints_are_stable_across_runs_and_unique_within_one(mixed):
    first = _sarif(mixed)["runs"][0]["results"]
    later = _sarif(mixed, now=g.NOW + 60)["runs"][0]["results"]
    prints = [r["partialFingerprints"][FINGERPRINT_KEY] for r in first]
    assert prints == [r["partialFingerprints"][FINGERPRINT_KEY] for r in later]
    assert len(set(prints)) == len(prints), Counter(prints).most_common(3)


def test_sarif_region_is_the_line_where_the_json_path_starts(tmp_path):
    body = g.edit(g.close_json(), "0.signedOperation.maxUses", 1)
    text = json.dumps(body, indent=2)
    (tmp_path / "b.json").write_text(text)
    (result,) = _sarif_ok([str(tmp_path / "b.json")])["runs"][0]["results"]
    lines = text.splitlines()
    line = result["locations"][0]["physicalLocation"]["region"]["startLine"]
    assert lines[line - 1].strip() == '"maxUses": 1,' or lines[line - 1].strip() == '"maxUses": 1'


def test_line_of_follows_keys_and_indexes_and_stops_at_the_deepest_part_found():
    text = '{\n "a": [\n  {"x": 1},\n  {\n   "b\\"c": {"y": [1, 2]}\n  }\n ]\n}'
    assert line_of(text, "") == 1
    assert line_of(text, "a") == 2
    assert line_of(text, "a[1]") == 4
    assert line_of(text, 'a[1].b"c.y[1]') == 5
    assert line_of(text, "a[1].missing") == 4, "the deepest part of the path that exists"
    assert line_of(text, "a[7]") == 2


def test_json_path_of_a_finding():
    assert json_path("") == "$"
    assert json_path("sendQuote.signature") == "$.sendQuote.signature"
    assert json_path("[0].signedOperation") == "$[0].signedOperation"


# --- CTRF -----------------------------------------------------------------------------------------


def _ctrf(paths) -> dict:
    _, out, _ = run(paths, fmt="ctrf", context_file=FULL)
    return json.loads(out)


def test_ctrf_report_is_valid_against_the_ctrf_schema(mixed):
    report = _ctrf(mixed)
    assert _schema_errors(report, "ctrf-schema-0.0.json") == []
    assert report["results"]["tool"]["name"] == "symmio-harness"


def test_ctrf_has_one_test_per_body_with_status_and_rule_ids(mixed):
    results = _ctrf(mixed)["results"]
    tests = results["tests"]
    # ok, bad, info, broken, three JSON Lines bodies, one HAR entry
    assert len(tests) == 8
    assert [t["status"] for t in tests] == [
        "passed",
        "failed",
        "passed",
        "failed",
        "passed",
        "failed",
        "failed",
        "passed",
    ]
    assert tests[0]["name"].endswith("ok.json [#1]") and tests[5]["name"].endswith(
        "log.jsonl:2 [#6]"
    )
    assert tests[3]["rawStatus"] == "unusable" and "input.not-json" in tests[3]["message"]
    assert tests[1]["tags"] == tests[1]["extra"]["rules"] == ["uint.decimal-string"]
    assert tests[1]["message"].startswith("uint.decimal-string at $[0].signedOperation.maxUses")
    assert "uint.json-number" in tests[2]["extra"]["rules"], "information is listed too"
    summary = results["summary"]
    assert (summary["tests"], summary["passed"], summary["failed"]) == (8, 4, 4)
    assert summary["start"] <= summary["stop"]


def test_cli_offers_sarif_and_ctrf(tmp_path):
    body = tmp_path / "b.json"
    body.write_bytes(g.dumps(g.close_json()))
    for fmt in ("sarif", "ctrf"):
        result = CliRunner().invoke(
            app, ["validate", "--context", FULL, "--now", str(g.NOW), "--format", fmt, str(body)]
        )
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout), fmt


# --- JSON Lines by shape --------------------------------------------------------------------------


def test_json_lines_on_stdin_are_recognised_by_shape():
    stdin = io.BytesIO(_line(g.close_json()) + b"\n" + _line(g.tpsl_json()))
    code, out, err = run(["-"], context_file=FULL, fmt="jsonl", stdin=stdin)
    assert code == 0, (out, err)
    got = [(r["file"], r["kind"]) for r in map(json.loads, out.splitlines())]
    assert got == [("<stdin>:1", "instant_close"), ("<stdin>:3", "tpsl")]


def test_a_pretty_printed_body_on_stdin_stays_one_body():
    stdin = io.BytesIO(json.dumps(g.close_json(), indent=2).encode() + b"\n")
    code, out, err = run(["-"], context_file=FULL, fmt="jsonl", stdin=stdin)
    assert code == 0, (out, err)
    assert [r["file"] for r in map(json.loads, out.splitlines())] == ["<stdin>"]


def test_one_compact_body_on_one_line_stays_one_body():
    stdin = io.BytesIO(b"\n" + _line(g.close_json()) + b"\n\n")
    code, out, _ = run(["-"], context_file=FULL, fmt="jsonl", stdin=stdin)
    assert code == 0 and [r["file"] for r in map(json.loads, out.splitlines())] == ["<stdin>"]


def test_json_lines_in_a_json_file_are_recognised_by_shape(tmp_path):
    log = tmp_path / "requests.log"
    log.write_bytes(_line(g.open_json()) + _line(g.close_json()))
    sources = list(inputs.iter_sources([str(log)]))
    assert [s.name for s in sources] == [f"{log}:1", f"{log}:2"]


def test_input_json_still_reads_one_document(tmp_path):
    log = tmp_path / "two.json"
    log.write_bytes(_line(g.close_json()) + _line(g.close_json()))
    (source,) = inputs.iter_sources([str(log)], input_format="json")
    assert source.name == str(log)


def test_a_one_line_har_capture_on_stdin_is_still_a_capture():
    capture = json.dumps(json.loads(g.har(("POST", g.TPSL_URL, g.tpsl_json())).data)).encode()
    sources = list(inputs.iter_sources(["-"], stdin=io.BytesIO(capture + b"\n")))
    assert [(s.name.split("#")[0], s.kind) for s in sources] == [("<stdin>", "tpsl")]


# --- context: the record folder's own, or one line saying there is none ------------------------


def test_without_a_context_the_run_says_so_in_one_line_at_the_top(tmp_path):
    body = tmp_path / "b.json"
    body.write_bytes(g.dumps(g.close_json()))
    code, _, err = run([str(body)])
    assert code == 0
    assert err.splitlines() == [f"symmio-harness validate: {NO_CONTEXT_LINE}"]
    assert "signatures" in NO_CONTEXT_LINE


def test_strict_exits_2_when_rules_were_not_checked(tmp_path):
    body = tmp_path / "b.json"
    body.write_bytes(g.dumps(g.close_json()))
    code, _, err = run([str(body)], strict=True)
    assert code == 2, err
    assert "--strict" in err and "sig.signer" in err
    code, _, err = run([str(body)], strict=True, fmt="json")
    assert code == 2, "the same for a report written at the end"


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_strict_counts_only_the_rules_of_the_kinds_judged(tmp_path, fmt):
    """A deployment without a COH (Base) has no COH limits: a run of opens and closes misses no
    rule, a run with a TP/SL body misses the two that need the limits (streamed and whole)."""
    context = tmp_path / "context.json"
    full = replace(g.FULL, gasless_gateway=g.FULL.account_layer, retired_instant_layers=())
    dump_context(replace(full, coh_limits=None), context)
    trades = tmp_path / "trades"
    trades.mkdir()
    (trades / "open.json").write_bytes(g.dumps(g.open_json()))
    (trades / "close.json").write_bytes(g.dumps(g.close_json()))
    code, _, err = run([str(trades)], context_file=str(context), strict=True, fmt=fmt)
    assert code == 0, err
    (trades / "tpsl.json").write_bytes(g.dumps(g.tpsl_json()))
    code, _, err = run([str(trades)], context_file=str(context), strict=True, fmt=fmt)
    assert code == 2 and "tpsl.min-distance" in err and "tpsl.tp-sl-spread" in err, err
    assert "open." not in err and "sig." not in err, err


def test_a_record_folder_without_context_uses_its_own(tmp_path):
    folder = tmp_path / "record"
    folder.mkdir()
    dump_context(g.FULL, folder / "context.json")
    (folder / "01-instant_close.json").write_bytes(g.dumps(g.close_json()))
    code, out, err = run([str(folder)], fmt="json")
    assert code == 0, (out, err)
    assert NO_CONTEXT_LINE not in err
    summary = json.loads(out)["summary"]
    assert summary["context"] == str(folder / "context.json")
    assert {r["rule"] for r in summary["rules_not_run"]} < {r.id for r in RULES}
    assert not any(r["needs"] == "a context file" for r in summary["rules_not_run"])


def test_record_folders_with_different_contexts_need_context(tmp_path):

    for name, chain in (("a", 1), ("b", 2)):
        folder = tmp_path / name
        folder.mkdir()
        dump_context(replace(g.FULL, chain_id=chain), folder / "context.json")
        (folder / "01-instant_close.json").write_bytes(g.dumps(g.close_json()))
    code, _, err = run([str(tmp_path / "a"), str(tmp_path / "b")])
    assert code == 2 and "different contexts" in err and "--context" in err


# --- the project's own suite in CTRF --------------------------------------------------------------


def test_pytest_json_ctrf_writes_the_suites_results_as_ctrf(tmp_path):
    """The `test` extra's pytest-json-ctrf plugin: `pytest --ctrf report.json`."""
    (tmp_path / "test_one.py").write_text("def test_one():\n    assert True\n")
    report = tmp_path / "report.json"
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--ctrf", str(report)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, (
        "pytest --ctrf failed (is pytest-json-ctrf installed? pip install -e '.[test]'):\n"
        + proc.stdout
        + proc.stderr
    )
    document = json.loads(report.read_text())
    assert _schema_errors(document, "ctrf-schema-0.0.json") == []
    tests = document["results"]["tests"]
    assert [(t["name"], t["status"]) for t in tests] == [("test_one.py::test_one", "passed")]
