"""The installed entry points, run as a user runs them: `symmio-harness validate|rules` and
`pytest --symmio-payloads` (child processes), and the `--jobs` worker pool."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from harness.validator.engine import Options, validate_paths

from .corpus import FIXTURES
from .corpus import generate as g

pytestmark = pytest.mark.subprocess
FULL = str(FIXTURES / "contexts/full.json")


def cli(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "from harness.cli import main; main()", *args],
        input=stdin,
        capture_output=True,
        timeout=60,
    )


def test_validate_exit_codes_and_one_line_errors(tmp_path):
    now = ["--now", str(g.NOW), "--context", FULL]
    valid = [  # the others need their own context (coh-domain, v086: test_v086.py)
        str(p)
        for p in sorted((FIXTURES / "valid").glob("*"))
        if "coh-domain" not in p.name and not p.name.startswith("v086-")
    ]
    ok = cli("validate", *now, *valid, str(FIXTURES / "warning"))
    assert ok.returncode == 0, ok.stdout.decode() + ok.stderr.decode()
    bad = cli("validate", *now, str(FIXTURES / "invalid/sig.low-s.json"))
    assert bad.returncode == 1 and b"sig.low-s" in bad.stdout
    missing = cli("validate", *now, str(tmp_path / "nope.json"))
    assert missing.returncode == 2 and missing.stdout.count(b"cannot be used") == 1
    assert missing.stderr == b"", "the text report names the unusable input; stderr repeated it"
    (tmp_path / "ctx.json").write_text("{")
    bad_ctx = cli("validate", "--context", str(tmp_path / "ctx.json"), str(FIXTURES / "valid"))
    assert bad_ctx.returncode == 2 and bad_ctx.stderr.count(b"\n") == 1
    for proc in (ok, bad, missing, bad_ctx):
        assert b"Traceback" not in proc.stderr + proc.stdout


def test_validate_stdin_json_format():
    body = (FIXTURES / "valid/tpsl.json").read_bytes()
    proc = cli("validate", "--format", "json", "--context", FULL, "-", stdin=body)
    report = json.loads(proc.stdout)
    assert proc.returncode == 0
    assert report["results"][0]["file"] == "<stdin>" and report["results"][0]["kind"] == "tpsl"


def test_validate_junit_format():
    proc = cli("validate", "--format", "junit", "--now", str(g.NOW), str(FIXTURES / "invalid"))
    root = ET.fromstring(proc.stdout)
    assert proc.returncode == 2  # the corpus's invalid/ holds input.* cases too
    assert len(root.findall("./testsuite/testcase")) == len(list((FIXTURES / "invalid").iterdir()))


def test_rules_command_prints_the_catalogue_as_markdown():
    proc = cli("rules", "--format", "markdown")
    readme = (FIXTURES.parent / "README.md").read_text(encoding="utf-8")
    assert proc.returncode == 0 and proc.stdout.decode() in readme


def test_jobs_give_the_same_results_as_one_process(tmp_path):
    ops = [g.close_op(i + 1, f"jobs {i}") for i in range(24)]
    for i, op in enumerate(ops):
        (tmp_path / f"{i:02}.json").write_bytes(g.dumps(g.close_json(op)))
    (tmp_path / "zz-bad.json").write_bytes(b"{")
    options = Options(context=g.FULL, now=g.NOW)
    one = validate_paths([str(tmp_path)], options).to_json()
    two = validate_paths([str(tmp_path)], options, jobs=2).to_json()
    assert one == two and one["summary"]["unusable"] == 1


def test_forked_workers_inherit_the_sources_and_give_the_same_verdicts(tmp_path):
    """In a single-threaded process (the CLI's case) `--jobs 2` forks workers that read the
    sources they inherited; the verdicts equal one process's, failures and unusable inputs
    included. (Under xdist the test process has threads, so it runs in a child.)"""
    for i in range(30):
        body = g.close_json(g.close_op(i + 1, f"inherit {i}"))
        if i % 7 == 3:  # a defect the verdict must carry back
            body[0]["signedOperation"]["maxUses"] = "2"
        (tmp_path / f"{i:02}.json").write_bytes(g.dumps(body))
    (tmp_path / "zz-bad.json").write_bytes(b"{")
    (tmp_path / "context.json").write_text(json.dumps(g.FULL.to_json()))
    script = textwrap.dedent(
        f"""
        import json
        from harness.context import load_context
        from harness.validator import engine
        from harness.validator.engine import Options, validate_paths

        assert engine._can_fork_inherit(), "expected a platform that forks, one thread"
        pickled = engine.iter_results
        def no_pickled_pool(sources, options, *, jobs=1, chunk_size=500):
            assert jobs <= 1, "jobs=2 went through the pickled-chunk pool"
            return pickled(sources, options, jobs=jobs, chunk_size=chunk_size)
        engine.iter_results = no_pickled_pool
        ctx = load_context({str(tmp_path / "context.json")!r})
        options = Options(context=ctx, now={g.NOW})
        paths = [{str(tmp_path)!r}]
        one = validate_paths(paths, options, context_file={str(tmp_path / "context.json")!r})
        two = validate_paths(
            paths, options, jobs=2, context_file={str(tmp_path / "context.json")!r}
        )
        print(json.dumps([one.to_json(), two.to_json()]))
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, timeout=120, cwd=FIXTURES.parent
    )
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    one, two = json.loads(proc.stdout)
    assert one == two, "verdicts differ between one process and inherited workers"
    assert one["summary"]["unusable"] == 1 and one["summary"]["failed"] >= 4, one["summary"]


def _pytest(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist", *args],
        cwd=tmp_path,
        capture_output=True,
        timeout=120,
        env=env,
    )


def test_pytest_plugin_turns_payloads_into_tests(tmp_path):
    payloads = tmp_path / "payloads"
    payloads.mkdir()
    (payloads / "open.json").write_bytes((FIXTURES / "valid/instant_open.json").read_bytes())
    (payloads / "sdk.json").write_bytes((FIXTURES / "warning/maxuses.one.json").read_bytes())
    (payloads / "high-s.json").write_bytes((FIXTURES / "invalid/sig.low-s.json").read_bytes())
    (tmp_path / "empty").mkdir()
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    proc = _pytest(
        tmp_path,
        "--symmio-payloads",
        "payloads",
        "--symmio-payloads",
        "empty",
        "--symmio-context",
        FULL,
        "--symmio-now",
        str(g.NOW),
        "-rs",
        "--junitxml=out.xml",
    )
    out = proc.stdout.decode()
    assert proc.returncode == 1, out
    assert "1 failed, 2 passed, 1 skipped" in out
    assert "sig.low-s" in out and "[0].signature" in out
    assert "nothing to validate: no .json, .jsonl or .har files in the directory" in out
    assert "SymmioPayloadWarning" in out and "maxuses.one" in out
    props = {
        (p.get("name"), p.get("value"))
        for p in ET.parse(tmp_path / "out.xml").getroot().iter("property")
    }
    assert props == {("violation", "sig.low-s"), ("warning", "maxuses.one")}


def test_pytest_plugin_bad_context_is_a_usage_error(tmp_path):
    (tmp_path / "p").mkdir()
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    proc = _pytest(tmp_path, "--symmio-payloads", "p", "--symmio-context", "missing.json")
    assert proc.returncode == 4 and b"--symmio-context missing.json" in proc.stderr


def test_pytest_plugin_is_inert_without_its_option(tmp_path):
    (tmp_path / "test_x.py").write_text(
        "def test_x(symmio_validator):\n    assert symmio_validator\n"
    )
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    proc = _pytest(tmp_path, "-q")
    assert proc.returncode == 0 and b"1 passed" in proc.stdout
