"""Validator behaviour: exit codes, report formats, inputs, context gating, the clock, limits and
robustness (hypothesis over arbitrary JSON and over mutated valid payloads)."""

from __future__ import annotations

import copy
import io
import json
import time
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness import inputs
from harness.report import render_junit, validate_command
from harness.validator.catalogue import BY_ID
from harness.validator.engine import Options, Validator, validate_body, validate_paths
from tests.strategies import json_leaves

from .corpus import FIXTURES
from .corpus import generate as g

FULL = str(FIXTURES / "contexts/full.json")


def write(tmp_path, name, value) -> str:
    path = tmp_path / name
    path.write_bytes(value if isinstance(value, bytes) else g.dumps(value))
    return str(path)


def run(paths, **kw) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    kw.setdefault("now", g.NOW)
    code = validate_command(paths, out=out, err=err, **kw)
    return code, out.getvalue(), err.getvalue()


# --- exit codes ---------------------------------------------------------------------------------


def test_exit_0_when_every_input_conforms_warnings_allowed(tmp_path):
    valid = write(tmp_path, "open.json", g.open_json())
    warned = write(
        tmp_path,
        "numbers.json",
        g.edit(g.close_json(), "0.signedOperation.replayAttackHeader.nonce", 0),
    )
    code, out, err = run([valid, warned], context_file=FULL)
    assert (code, err) == (0, ""), out
    assert "uint.json-number" in out


def test_exit_1_on_any_violation(tmp_path):
    valid = write(tmp_path, "open.json", g.open_json())
    bad = write(tmp_path, "bad.json", g.edit(g.close_json(), "0.signedOperation.maxUses", "01"))
    assert run([valid, bad], context_file=FULL)[0] == 1


def test_exit_2_with_a_one_line_reason_for_an_unusable_input(tmp_path):
    bad = write(tmp_path, "x.json", b"{not json")
    code, out, err = run([bad, write(tmp_path, "ok.json", g.close_json())], context_file=FULL)
    assert code == 2
    reasons = [line for line in out.splitlines() if "input.not-json" in line]
    assert len(reasons) == 1 and reasons[0].startswith(f"{bad}: cannot be used: not JSON"), out
    assert err == "", f"the text report says it; stderr repeated it: {err!r}"
    assert "Traceback" not in out


@pytest.mark.parametrize(
    "context",
    [b"{", b'{"chain_id": 1}', b"[]", b'{"chain_id": "x", "instant_layer": 1}'],
    ids=["not-json", "missing-keys", "not-object", "bad-values"],
)
def test_exit_2_for_a_bad_context_one_line_no_traceback(tmp_path, context):
    body = write(tmp_path, "ok.json", g.close_json())
    code, out, err = run([body], context_file=write(tmp_path, "ctx.json", context))
    assert code == 2 and out == ""
    assert err.startswith("symmio-harness validate: context ") and err.count("\n") == 1
    assert "Traceback" not in err


def test_exit_2_for_a_missing_context_file(tmp_path):
    code, _, err = run([write(tmp_path, "ok.json", g.close_json())], context_file="/nope.json")
    assert code == 2
    assert err == "symmio-harness validate: context file /nope.json: not found\n", err


def test_unusable_beats_violation_for_the_exit_code(tmp_path):
    bad = write(tmp_path, "bad.json", g.edit(g.close_json(), "0.signedOperation.maxUses", "01"))
    assert run([bad, str(tmp_path / "missing.json")])[0] == 2


# --- report formats -----------------------------------------------------------------------------


def test_json_report_has_exactly_the_documented_shape(tmp_path):
    good = write(tmp_path, "good.json", g.close_json())
    warn = write(tmp_path, "warn.json", {"operations": g.close_json()})
    bad = write(tmp_path, "bad.json", g.with_signature(g.close_json(), b"\x00" * 65))
    code, out, _ = run([good, warn, bad], fmt="json", context_file=FULL)
    report = json.loads(out)
    assert set(report) == {"results", "summary"}
    for result in report["results"]:
        assert set(result) == {"file", "kind", "verdict", "violations", "warnings", "information"}
        assert result["verdict"] in ("pass", "fail")
        for item in result["violations"]:
            assert set(item) == {"rule", "severity", "path", "message"}
            assert item["severity"] == "error"
        for item in result["warnings"]:
            assert item["severity"] == "warning"
    verdicts = [(r["file"].rsplit("/", 1)[1], r["verdict"]) for r in report["results"]]
    assert verdicts == [("good.json", "pass"), ("warn.json", "pass"), ("bad.json", "fail")]
    assert report["results"][1]["warnings"] == [], "the published close form is no warning"
    assert report["results"][1]["information"][0]["rule"] == "close.envelope"
    summary = report["summary"]
    assert (summary["passed"], summary["failed"], summary["exit_code"]) == (2, 1, code)


def test_junit_has_one_testcase_per_input_with_rule_ids_as_properties(tmp_path):
    files = [
        write(tmp_path, "a.json", g.close_json()),
        write(tmp_path, "b.json", g.edit(g.close_json(), "0.signedOperation.maxUses", 1)),
        write(
            tmp_path,
            "c.json",
            g.with_signature(g.close_json(), g.to_high_s(g.close_op().signature)),
        ),
        str(tmp_path / "missing.json"),
    ]
    report = validate_paths(files, Options(now=g.NOW))
    root = ET.fromstring(render_junit(report))
    cases = root.findall("./testsuite/testcase")
    assert len(cases) == 4
    props = [[(p.get("name"), p.get("value")) for p in c.iter("property")] for c in cases]
    assert props == [
        [],
        [("information", "uint.json-number")],
        [("violation", "sig.low-s")],
        [("violation", "input.unreadable")],
    ]
    assert cases[2].find("failure") is not None and cases[3].find("error") is not None


def test_text_report_one_line_per_finding_with_path_and_expectation(tmp_path):
    bad = write(tmp_path, "bad.json", g.edit(g.close_json(), "0.signedOperation.maxUses", 1))
    _, out, _ = run([bad])
    line = next(x for x in out.splitlines() if "uint.json-number" in x)
    assert "[0].signedOperation.maxUses" in line and "as the solver's schema publishes it" in line
    assert "not checked without a context file:" in out


# --- inputs -------------------------------------------------------------------------------------


def test_directory_is_walked_recursively_sorted_hidden_skipped(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / ".hidden").mkdir()
    write(tmp_path, "b/2.json", g.close_json())
    write(tmp_path, "1.json", g.open_json())
    write(tmp_path, ".hidden/x.json", b"junk")
    write(tmp_path, "notes.txt", b"junk")
    report = validate_paths([str(tmp_path)], Options(now=g.NOW))
    names = [r.file.rsplit(str(tmp_path), 1)[1] for r in report.results]
    assert names == ["/1.json", "/b/2.json"] and report.exit_code == 0


def test_empty_directory_cannot_be_used(tmp_path):
    report = validate_paths([str(tmp_path)], Options(now=g.NOW))
    assert report.results[0].rule_ids == {"input.empty"} and report.exit_code == 2


def test_stdin_dash(tmp_path):
    stdin = io.BytesIO(json.dumps(g.tpsl_json()).encode())
    report = validate_paths(["-"], Options(now=g.NOW), stdin=stdin)
    assert [(r.file, r.kind, r.verdict) for r in report.results] == [("<stdin>", "tpsl", "pass")]


def test_har_posts_are_extracted_and_the_url_gives_the_kind(tmp_path):
    capture = g.har(
        ("POST", f"{g.SOLVER}/instant_open", g.open_json()),
        ("GET", f"{g.SOLVER}/instant_close", None),
        ("POST", "https://x.example/api/instant_trade/instant_close/", g.close_json()),
        ("POST", g.TPSL_URL, g.tpsl_json()),
        ("DELETE", g.TPSL_URL, {"x": 1}),
    )
    report = validate_paths([write(tmp_path, "c.har", capture.data)], Options(now=g.NOW))
    assert [r.kind for r in report.results] == ["instant_open", "instant_close", "tpsl"]
    assert [r.file.split("#")[1] for r in report.results] == [
        "entries[0] POST /api/instant_trade/instant_open",
        "entries[2] POST /api/instant_trade/instant_close/",
        "entries[3] POST /api/v5/",
    ]
    assert report.exit_code == 0


def test_har_url_kind_overrides_the_shape(tmp_path):
    capture = g.har(("POST", f"{g.SOLVER}/instant_close", g.open_json()))
    report = validate_paths([write(tmp_path, "c.har", capture.data)], Options(now=g.NOW))
    assert report.results[0].kind == "instant_close" and "json.type" in report.results[0].rule_ids


def test_har_base64_body_and_missing_body(tmp_path):
    import base64

    capture = json.loads(g.har(("POST", f"{g.SOLVER}/instant_close", g.close_json())).data)
    post = capture["log"]["entries"][0]["request"]["postData"]
    post["text"], post["encoding"] = base64.b64encode(post["text"].encode()).decode(), "base64"
    capture["log"]["entries"].append(copy.deepcopy(capture["log"]["entries"][0]))
    del capture["log"]["entries"][1]["request"]["postData"]
    report = validate_paths([write(tmp_path, "c.har", capture)], Options(now=g.NOW))
    assert report.results[0].verdict == "pass"
    assert report.results[1].rule_ids == {"input.unreadable"}


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        (b"\xff\xfe{}", "input.not-json"),
        ("\ufeff[]".encode(), "input.not-json"),
        (b'[{"a": NaN}]', "input.not-json"),
        (b"[" + b"1" * 5000 + b"]", "input.limits"),
        (b"", "input.not-json"),
    ],
    ids=["not-utf8", "bom", "nan", "huge-int", "empty"],
)
def test_input_level_problems(text, rule):
    result = Validator(Options(now=g.NOW)).validate_bytes(text)
    assert result.rule_ids == {rule} and not result.usable


def test_explicit_kind_is_used_instead_of_the_shape():
    result = validate_body(g.close_json(), kind="instant_open", now=g.NOW)
    assert result.kind == "instant_open" and result.rule_ids == {"json.type"}


# --- context gating and the clock ---------------------------------------------------------------


def test_context_gated_rules_do_not_run_without_their_key():
    wrong_signer = g.with_signature(g.close_json(), g.resign(g.close_op(), g.OTHER).signature)
    assert validate_body(wrong_signer, now=g.NOW).rule_ids == set()
    assert validate_body(wrong_signer, context=g.MINIMAL, now=g.NOW).rule_ids == {"sig.signer"}


def test_rules_not_run_are_listed_per_missing_key():
    report = validate_paths([], Options(context=g.MINIMAL, now=g.NOW))
    not_run = {item["rule"]: item["needs"] for item in report.rules_not_run()}
    assert not_run["open.hedger"] == "the context key hedger"
    assert "sig.signer" not in not_run
    assert all(BY_ID[r].requires for r in not_run)


def test_deadlines_are_judged_at_now():
    body = g.close_json()
    assert validate_body(body, now=g.FAR - 1).rule_ids == set()
    assert validate_body(body, now=g.FAR).rule_ids == {"deadline.expired", "deadline.call-expired"}


def test_without_now_the_wall_clock_judges():
    body = g.close_json()
    assert Validator(Options()).now == pytest.approx(time.time(), abs=5)
    assert validate_body(body).rule_ids == set()  # FAR is in 2100


# --- one bad operation does not hide the other ------------------------------------------------


def test_open_rules_run_on_each_operation_independently():
    body = g.edit(g.open_json(), "addMargin.signature", "0x" + "11" * 64)
    body = g.edit(body, "sendQuote.signedOperation.maxUses", 1)
    result = validate_body(body, context=g.FULL, now=g.NOW)
    assert result.rule_ids == {"sig.length", "uint.json-number"}


def test_close_rules_run_on_each_operation_independently():
    ops = g.close_json(g.close_op(42, "a"), g.close_op(43, "b"))
    ops = g.edit(ops, "0.signedOperation.target", "0x12")
    ops = g.edit(ops, "1.signature", "0x" + g.to_high_s(g.close_op(43, "b").signature).hex())
    result = validate_body(ops, context=g.FULL, now=g.NOW)
    assert result.rule_ids == {"address.format", "sig.low-s"}


def test_sdk_placeholder_upnl_sig_is_accepted():
    from harness import calldata as cd

    placeholder = (bytes(32), 0, 0, 0, b"", (0, cd.ZERO_ADDRESS, cd.ZERO_ADDRESS))
    send = g.recall(g.open_body().send_quote, g.SEND, upnlSig=placeholder)
    assert validate_body(g.open_json(send=send), context=g.FULL, now=g.NOW).rule_ids == set()


# --- limits (issue 3 §8) ----------------------------------------------------------------------


def test_nesting_10000_deep_is_rejected_quickly_as_text_and_as_a_value():
    deep: list = []
    node = deep
    for _ in range(10_000):
        node.append([])
        node = node[0]
    start = time.perf_counter()
    assert validate_body(deep).rule_ids == {"input.limits"}
    as_text = Validator().validate_bytes(b"[" * 10_000 + b"]" * 10_000)
    assert as_text.rule_ids == {"input.limits"}
    assert time.perf_counter() - start < 2


def test_a_10_mb_body_is_rejected_before_parsing(tmp_path):
    body = json.dumps(g.close_json(*[g.close_op()] * 11_200)).encode()
    assert len(body) > 10_000_000
    start = time.perf_counter()
    report = validate_paths([write(tmp_path, "big.json", body)], Options(now=g.NOW))
    assert report.results[0].rule_ids == {"input.limits"}
    assert "limit is 2.0 MiB" in report.results[0].findings[0].message
    assert time.perf_counter() - start < 2


def test_10000_ops_are_refused_without_reading_each():
    start = time.perf_counter()
    result = validate_body([{}] * 10_000)
    assert result.rule_ids == {"close.op-count"}
    assert "10000 operations" in result.findings[0].message
    assert time.perf_counter() - start < 1


def test_too_many_values_in_one_body():
    result = validate_body({"typedData": [0] * (inputs.MAX_VALUES + 1)})
    assert result.rule_ids == {"input.limits"}


# --- robustness: hypothesis -------------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**300), max_value=2**300)
    | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(
            st.sampled_from(
                [
                    "addMargin",
                    "sendQuote",
                    "signedOperation",
                    "signature",
                    "typedData",
                    "operations",
                    "signer",
                    "types",
                    "domain",
                    "message",
                    "maxUses",
                    "x",
                ]
            )
            | st.text(max_size=8),
            children,
            max_size=5,
        )
    ),
    max_leaves=30,
)


def _well_formed(result) -> None:
    assert result.verdict in ("pass", "fail")
    for finding in result.findings:
        assert finding.rule in BY_ID, finding
        assert "internal validator error" not in finding.message, finding.message
    json.dumps(result.to_json())


VALIDATOR = Validator(Options(context=g.FULL, now=g.NOW))


@given(json_values, st.sampled_from(["auto", "instant_open", "instant_close", "tpsl"]))
def test_arbitrary_json_never_raises(value, kind):
    _well_formed(Validator(Options(kind=kind, context=g.FULL, now=g.NOW)).validate_body(value))


@given(st.binary(max_size=200))
def test_arbitrary_bytes_never_raise(data):
    _well_formed(VALIDATOR.validate_bytes(data))


VALID_BODIES = [g.open_json(), g.close_json(), g.tpsl_json()]


@st.composite
def mutated_payloads(draw):
    body = copy.deepcopy(draw(st.sampled_from(VALID_BODIES)))
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p, _ in json_leaves(body) if p]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = body
        for key in path[:-1]:
            parent = parent[key]
        action = draw(st.sampled_from(["replace", "delete", "hexflip"]))
        if action == "delete":
            del parent[path[-1]]
        elif (
            action == "hexflip" and isinstance(parent[path[-1]], str) and len(parent[path[-1]]) > 3
        ):
            text = parent[path[-1]]
            i = draw(st.integers(2, len(text) - 1))
            parent[path[-1]] = text[:i] + draw(st.sampled_from("0f9aF")) + text[i + 1 :]
        else:
            parent[path[-1]] = draw(json_values)
    return body


@given(mutated_payloads())
def test_mutated_valid_payloads_never_raise(body):
    _well_formed(VALIDATOR.validate_body(body))
    _well_formed(VALIDATOR.validate_bytes(json.dumps(body)))


@given(mutated_payloads())
def test_a_mutated_payload_that_still_passes_reads_as_the_original_kind(body):
    result = VALIDATOR.validate_body(body)
    if result.verdict == "pass":
        assert result.kind in ("instant_open", "instant_close", "tpsl")
