"""JSON Lines in and out (constant memory, the same exit codes), and record folders validated
with their own context at their own clock."""

from __future__ import annotations

import io
import itertools
import json
from dataclasses import replace

from harness import inputs
from harness.context import dump_context
from harness.report import validate_command
from harness.validator.engine import Options, iter_results

from .corpus import generate as g


def _run(paths, **kw) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = validate_command(paths, out=out, err=err, **kw)
    return code, out.getvalue(), err.getvalue()


def _line(value) -> bytes:
    return json.dumps(value).encode() + b"\n"


def test_a_jsonl_file_is_one_body_per_line_and_jsonl_output_one_verdict_per_line(tmp_path):
    log = tmp_path / "requests.jsonl"
    bad = g.close_json(g.resign(g.close_op(), header={"salt": bytes(32)}))
    log.write_bytes(_line(g.open_json()) + b"\n" + _line(bad) + _line(g.tpsl_json()))
    context = tmp_path / "context.json"
    dump_context(g.FULL, context)
    code, out, err = _run([str(log)], context_file=str(context), now=g.NOW, fmt="jsonl")
    assert code == 1, (out, err)
    lines = [json.loads(line) for line in out.splitlines()]
    assert [(r["file"], r["kind"], r["verdict"]) for r in lines] == [
        (f"{log}:1", "instant_open", "pass"),
        (f"{log}:3", "instant_close", "fail"),
        (f"{log}:4", "tpsl", "pass"),
    ]
    assert [v["rule"] for v in lines[1]["violations"]] == ["salt.zero"]


def test_stdin_as_json_lines(tmp_path):
    stream = io.BytesIO(_line(g.close_json()) + _line(g.close_json()))
    code, out, _ = _run(["-"], now=g.NOW, fmt="text", stdin=stream, input_format="jsonl")
    assert code == 0, out
    assert "<stdin>:1  [instant_close]  PASS" in out and "<stdin>:2" in out
    assert "2 inputs: 2 passed" in out


def test_an_unreadable_line_is_exit_code_2_and_says_so(tmp_path):
    log = tmp_path / "log.jsonl"
    log.write_bytes(_line(g.close_json()) + b"{not json\n")
    code, _, err = _run([str(log)], now=g.NOW, fmt="jsonl")
    assert code == 2
    assert f"{log}:2" in err and "input.not-json" in err


def test_an_overlong_line_is_refused_and_the_next_line_still_read(tmp_path, monkeypatch):
    line = _line(g.close_json())
    monkeypatch.setattr(inputs, "MAX_BODY_BYTES", len(line) - 1)  # the newline does not count
    log = tmp_path / "log.jsonl"
    log.write_bytes(line + b"[" + b" " * (2 * len(line)) + b"]\n" + line)
    sources = list(inputs.iter_sources([str(log)]))
    assert [s.name for s in sources] == [f"{log}:1", f"{log}:2", f"{log}:3"]
    assert [s.problem[0] if s.problem else None for s in sources] == [None, "input.limits", None]


def test_results_stream_lazily_in_constant_memory():
    endless = (inputs.Source(f"line {i}", json.dumps(g.close_json())) for i in itertools.count())
    first = list(itertools.islice(iter_results(endless, Options(now=g.NOW)), 3))
    assert [r.file for r in first] == ["line 0", "line 1", "line 2"]
    assert all(r.verdict == "pass" for r in first)


def test_a_record_folder_validates_with_its_own_context_at_its_recorded_clock(tmp_path):
    # a deadline after the recorded clock, long before the wall clock of any CI run
    deadline = g.NOW + 3600
    op = g.resign(g.close_op(), header={"deadline": deadline})
    op = g.recall(op, g.CLOSE, deadline=deadline)
    folder = tmp_path / "record"
    folder.mkdir()
    dump_context(replace(g.FULL, recorded_at=g.NOW), folder / "context.json")
    (folder / "01-instant_close.json").write_bytes(g.dumps(g.close_json(op)))
    context = str(folder / "context.json")
    code, out, err = _run([str(folder)], context_file=context, fmt="json")
    assert code == 0, (out, err)
    report = json.loads(out)
    assert [r["file"] for r in report["results"]] == [str(folder / "01-instant_close.json")]
    assert report["summary"]["now"] == g.NOW
    # --now still says otherwise
    code, out, _ = _run([str(folder)], context_file=context, now=deadline + 1, fmt="json")
    assert code == 1
    rules = {v["rule"] for v in json.loads(out)["results"][0]["violations"]}
    assert rules == {"deadline.expired", "deadline.call-expired"}


def test_the_context_file_named_on_the_command_line_is_not_judged_as_a_body(tmp_path):
    context = tmp_path / "ctx.json"
    dump_context(g.FULL, context)
    body = tmp_path / "close.json"
    body.write_bytes(g.dumps(g.close_json()))
    code, out, err = _run([str(context), str(body)], context_file=str(context), now=g.NOW)
    assert code == 0, (out, err)
    assert "1 input: 1 passed" in out


def test_a_demo_record_validates_with_its_own_context_long_after_it_was_made(tmp_path):
    """As a new user would: `demo --record DIR`, then `validate --context DIR/context.json DIR/`,
    judged at the recorded clock (deadlines are an hour after recording)."""
    from typer.testing import CliRunner

    from harness.cli import app
    from harness.context import load_context

    demo = CliRunner().invoke(app, ["demo", "--record", str(tmp_path)])
    assert demo.exit_code == 0, demo.output
    context = load_context(tmp_path / "context.json")
    assert context.recorded_at is not None
    code, out, err = _run([str(tmp_path)], context_file=str(tmp_path / "context.json"), fmt="text")
    assert code == 0, (out, err)
    assert "3 inputs: 3 passed" in out
    code, _, _ = _run(
        [str(tmp_path)],
        context_file=str(tmp_path / "context.json"),
        now=context.recorded_at + 2 * 3600,
    )
    assert code == 1, "two hours later the recorded bodies have expired"
