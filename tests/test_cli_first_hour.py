"""Issue 20, the first hour: what a new user sees of the command line without opening the source.

`--version`, `-h` on every command, `python -m harness`, help texts with real metavars that
wrap whole sentences, one-line errors without Python reprs said once, a progress counter only on
a terminal, `live check` without a config file, and a docstring on every packaged fixture.

The help-wrapping criterion (`test_help_keeps_every_paragraph_whole_one_sentence_per_line`):
(1) every paragraph of a command's docstring and every option's help string, with its line
breaks undone, appears whole in the rendered help at 80 columns (nothing cut, nothing
reordered); (2) no rendered line holds the end of one sentence and the start of the next, so a
sentence always begins on a line of its own.
"""

from __future__ import annotations

import io
import json
import os
import pty
import re
import subprocess
import sys
from decimal import Decimal
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from harness import progress
from harness.cli import app, version_line
from harness.live.readonly import locked_params_text
from harness.pricing import LockedParamsPct
from harness.protocol import VERSION
from harness.report import validate_command
from tests.validator.corpus import FIXTURES
from tests.validator.corpus import generate as g

#: a context, so that only what a test is about reaches stderr (without one, validate says in a
#: line that the context rules were not checked)
FULL = str(FIXTURES / "contexts/full.json")

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[1]
#: Type labels typer or click print where a metavar is missing: none may reach a user.
TYPE_LABELS = ("<bool>", "<list[", "<str>", "<int>", "<float>", "<path>", "TEXT", "INTEGER")


def _commands() -> list[tuple[str, ...]]:
    """Every command path of the app: () for the root, ("validate",), ("live", "check"), ..."""
    paths: list[tuple[str, ...]] = []

    def walk(command: Any, path: tuple[str, ...]) -> None:
        paths.append(path)
        if hasattr(command, "commands"):  # a group (typer ships its own click)
            for name, sub in command.commands.items():
                walk(sub, (*path, name))

    walk(typer.main.get_command(app), ())
    return paths


def _command(path: tuple[str, ...]) -> Any:
    command: Any = typer.main.get_command(app)
    for name in path:
        command = command.commands[name]
    return command


COMMANDS = _commands()
IDS = [" ".join(path) or "(root)" for path in COMMANDS]


def _help(path: tuple[str, ...], flag: str = "--help") -> str:
    result = CliRunner().invoke(app, [*path, flag], terminal_width=80, env={"COLUMNS": "80"})
    assert result.exit_code == 0, f"{' '.join(path)} {flag}: exit {result.exit_code}"
    return result.stdout


def _cli(*args: str, **kw) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "80"}
    return subprocess.run(
        [sys.executable, "-m", "harness", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        **kw,
    )


# --- version and help ---------------------------------------------------------------------------


def test_version_prints_the_package_and_protocol_versions_on_one_line() -> None:
    result = CliRunner().invoke(app, ["--version"])
    expected = f"symmio-harness {version('symmio-harness')} (Symmio v{VERSION} Instant Trading)"
    assert result.exit_code == 0
    assert result.stdout == expected + "\n", f"--version printed {result.stdout!r}"
    assert version_line() == expected


def test_the_command_tree_is_the_one_the_readme_documents() -> None:
    assert set(IDS) >= {"(root)", "demo", "serve", "validate", "rules", "live", "live check"}


@pytest.mark.parametrize("path", COMMANDS, ids=IDS)
def test_dash_h_is_help_on_every_command(path: tuple[str, ...]) -> None:
    short, long = _help(path, "-h"), _help(path, "--help")
    assert short == long, f"{' '.join(path)}: -h and --help differ"
    assert short.startswith("Usage: "), short[:200]


@pytest.mark.subprocess
def test_python_dash_m_harness_is_the_command() -> None:
    done = _cli("--help")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Usage: symmio-harness [OPTIONS] COMMAND"), done.stdout[:200]
    assert "validate" in done.stdout and done.stderr == ""
    assert _cli("--version").stdout.strip() == version_line()


@pytest.mark.parametrize("path", COMMANDS, ids=IDS)
def test_help_shows_metavars_never_type_labels(path: tuple[str, ...]) -> None:
    text = _help(path)
    shown = [label for label in TYPE_LABELS if label in text]
    assert shown == [], f"{' '.join(path)} help shows {shown}:\n{text}"


def test_help_names_values_by_what_they_are() -> None:
    validate, serve = _help(("validate",)), _help(("serve",))
    for metavar in ("--context FILE", "--jobs N", "--now UNIX", "--format [text|json"):
        assert metavar in validate, f"validate -h lacks {metavar!r}"
    assert "{PATH}..." in validate.splitlines()[0], validate.splitlines()[0]
    for metavar in ("--host HOST", "--port PORT", "--cors-origin ORIGIN", "--price-tick SECONDS"):
        assert metavar in serve, f"serve -h lacks {metavar!r}"


def _sources(command: Any) -> list[str]:
    paragraphs = [p for p in (command.help or "").split("\n\n") if p.strip()]
    paragraphs += [p.help for p in command.params if getattr(p, "help", None) and not p.hidden]
    return [" ".join(p.split()) for p in paragraphs]


#: a sentence's end followed, on the same line, by the start of the next
SENTENCE_JOIN = re.compile(r"[a-z)][.!?] +[A-Z]")


@pytest.mark.parametrize("path", COMMANDS, ids=IDS)
def test_help_keeps_every_paragraph_whole_one_sentence_per_line(path: tuple[str, ...]) -> None:
    text = _help(path)
    unwrapped = " ".join(text.split())
    for source in _sources(_command(path)):
        assert source in unwrapped, f"{' '.join(path)}: {source!r} is not shown whole:\n{text}"
    joined = [line for line in text.splitlines() if SENTENCE_JOIN.search(line)]
    assert joined == [], f"{' '.join(path)}: a line starts a new sentence mid-line: {joined}"


def test_command_summaries_are_whole_sentences_not_truncated() -> None:
    text = _help(())
    assert "..." not in text.split("Commands:")[1], text


# --- errors ---------------------------------------------------------------------------------------


def test_a_missing_context_file_is_one_line_in_words(tmp_path: Path) -> None:
    missing = tmp_path / "nope.json"
    body = FIXTURES / "valid/instant_close.json"
    result = CliRunner().invoke(app, ["validate", "--context", str(missing), str(body)])
    assert result.exit_code == 2
    assert result.stderr == f"symmio-harness validate: context file {missing}: not found\n"
    assert "Errno" not in result.stderr + result.stdout


def test_a_context_file_that_is_a_directory_says_so(tmp_path: Path) -> None:
    body = FIXTURES / "valid/instant_close.json"
    result = CliRunner().invoke(app, ["validate", "--context", str(tmp_path), str(body)])
    assert result.exit_code == 2
    assert result.stderr == (
        f"symmio-harness validate: context file {tmp_path}: is a directory, not a file\n"
    )


def test_an_unusable_input_is_reported_once_in_the_text_report(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    result = CliRunner().invoke(app, ["validate", "--now", str(g.NOW), str(bad)])
    assert result.exit_code == 2
    said = (result.stdout + result.stderr).count(str(bad))
    assert said == 1, f"the unusable input is named {said} times:\n{result.stdout}{result.stderr}"


def test_an_unwritable_record_directory_is_one_line_in_words(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = CliRunner().invoke(app, ["demo", "--record", str(blocker / "sub")])
    assert result.exit_code == 2
    assert result.stderr == (
        f"demo failed: cannot write the record directory {blocker / 'sub'}: not a directory\n"
    )


@pytest.mark.parametrize("fmt", ["json", "jsonl", "junit"])
def test_beside_a_machine_report_an_unusable_input_is_one_stderr_line(
    tmp_path: Path, fmt: str
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    result = CliRunner().invoke(app, ["validate", "--context", FULL, "--format", fmt, str(bad)])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and str(bad) in result.stderr, result.stderr


# --- progress -------------------------------------------------------------------------------------


def _bodies(tmp_path: Path, n: int) -> str:
    log = tmp_path / "bodies.jsonl"
    line = json.dumps(g.close_json())
    log.write_text((line + "\n") * n)
    return str(log)


def _on_a_terminal(paths: list[str], **kw) -> tuple[int, str, str]:
    """Run validate with stderr on a pseudo-terminal; what reached stdout and the terminal."""
    master, slave = pty.openpty()
    out = io.StringIO()
    with os.fdopen(slave, "w", encoding="utf-8") as err:
        assert err.isatty()
        code = validate_command(paths, out=out, err=err, now=g.NOW, **kw)
    seen = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO once the slave is closed and drained
            break
        if not chunk:
            break
        seen += chunk
    os.close(master)
    return code, out.getvalue(), seen.decode()


@pytest.mark.parametrize("jobs", [1, 2], ids=["one-process", "jobs-2"])
def test_progress_shows_on_a_terminal_for_the_text_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: int
) -> None:
    monkeypatch.setattr(progress, "DELAY", 0.0)
    monkeypatch.setattr(progress, "INTERVAL", 0.0)
    code, out, terminal = _on_a_terminal([_bodies(tmp_path, 40)], fmt="text", jobs=jobs)
    assert code == 0, out
    assert "validate: 40 inputs checked" in terminal, repr(terminal[-300:])
    assert terminal.endswith("\r\x1b[K"), "the counter is not erased at the end"
    assert "inputs checked" not in out, "progress leaked into the report"


@pytest.mark.parametrize("fmt", ["json", "jsonl", "junit"])
def test_no_progress_for_a_machine_readable_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    monkeypatch.setattr(progress, "DELAY", 0.0)
    monkeypatch.setattr(progress, "INTERVAL", 0.0)
    code, _out, terminal = _on_a_terminal([_bodies(tmp_path, 5)], fmt=fmt, context_file=FULL)
    assert code == 0 and terminal == "", repr(terminal)


def test_no_progress_off_a_terminal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(progress, "DELAY", 0.0)
    monkeypatch.setattr(progress, "INTERVAL", 0.0)
    out, err = io.StringIO(), io.StringIO()
    code = validate_command([_bodies(tmp_path, 5)], out=out, err=err, now=g.NOW, context_file=FULL)
    assert code == 0 and err.getvalue() == "", repr(err.getvalue())


@pytest.mark.subprocess
def test_no_progress_when_stderr_is_piped(tmp_path: Path) -> None:
    done = _cli("validate", "--context", FULL, "--now", str(g.NOW), _bodies(tmp_path, 50))
    assert done.returncode == 0, done.stdout[-500:]
    assert done.stderr == "", repr(done.stderr)


# --- live check -----------------------------------------------------------------------------------


def test_live_check_with_a_profile_and_no_config_file_says_where_it_looked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for key in [k for k in os.environ if k.startswith("SYMMIO_")]:
        monkeypatch.delenv(key)
    result = CliRunner().invoke(app, ["live", "check", "--profile", "testnet"])
    assert result.exit_code == 2
    looked = tmp_path.resolve() / "symmio-harness.toml"
    assert result.stderr == (
        f"live check: no config file found for profile 'testnet': looked for {looked} "
        "(name the file with the config option or SYMMIO_CONFIG)\n"
    )


def test_locked_params_read_as_percentages_not_a_repr() -> None:
    params = LockedParamsPct(Decimal("2"), Decimal("1.50"), Decimal("5E+0"), Decimal("0.000"), 1)
    assert locked_params_text(params) == "cva 2 %, lf 1.5 %, partyAmm 5 %, partyBmm 0 %, leverage 1"


# --- fixtures -------------------------------------------------------------------------------------


@pytest.mark.subprocess
def test_every_packaged_fixture_has_a_docstring(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess("--fixtures", "-v", "-p", "no:cacheprovider")
    lines = result.stdout.lines
    ours: dict[str, str] = {}
    section = ""
    for i, line in enumerate(lines):
        if line.startswith("-") and "fixtures defined from" in line:
            section = line
        elif "fixtures defined from harness." in section and " -- " in line:
            name = line.split()[0]
            ours[name] = lines[i + 1].strip() if i + 1 < len(lines) else ""
    expected = {"symmio_chain", "symmio_user", "mock_solver", "symmio_validator", "live_profile"}
    assert expected <= set(ours), f"fixtures found: {sorted(ours)}"
    undocumented = [n for n, doc in ours.items() if not doc or doc == "no docstring available"]
    assert undocumented == [], f"fixtures without a docstring: {undocumented}"
