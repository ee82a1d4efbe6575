"""What the validator reads: PATH arguments -> `Source`s (one HTTP body each), with limits.

A PATH is a JSON file holding one body, a JSON Lines file (one body per line, read line by line
in constant memory), a directory of them (`*.json`, `*.jsonl`, `*.har`, recursively, hidden
entries and the record's `context.json` skipped), `-` for stdin, or a HAR capture, from which
the POSTs to `.../instant_trade/instant_open`, `.../instant_trade/instant_close` and the TP/SL
`.../api/v5/` endpoint are extracted (the URL gives the kind).

JSON Lines are recognised by suffix (`*.jsonl`) or, on stdin and in any other file, by shape
(`--input auto`, `auto_sources`): a text whose first non-blank line is a complete JSON value and
which has another non-blank line after it is JSON Lines; anything else (one value, compact or
pretty-printed over many lines, or a HAR capture) is one document. `--input json` / `jsonl`
say which instead.

Limits (issue 3 §8): a body is at most `MAX_BODY_BYTES`, a capture `MAX_CAPTURE_BYTES`; JSON is
nested at most `MAX_DEPTH` deep and holds at most `MAX_VALUES` values. Anything over a limit is
refused before the work it would cost, with a message that names the limit. Nothing here raises
for a bad input: the problem travels in the Source as `(rule ID, message)`.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import json
import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlsplit

from . import jsonread, protocol

MAX_BODY_BYTES = protocol.MAX_BODY_BYTES
MAX_CAPTURE_BYTES = 256 * 1024 * 1024
MAX_DEPTH = 64
MAX_VALUES = 200_000
SUFFIXES = (".json", ".har", ".jsonl")
#: What `--input` may say: auto (by suffix and shape), json (one body) or jsonl (one per line).
INPUT_FORMATS = ("auto", "json", "jsonl")
#: The file `demo --record` writes beside the bodies; recognised in a directory, never judged.
CONTEXT_FILE_NAME = "context.json"

_HAR_START = re.compile(rb'\s*\{\s*"log"\s*:')
_KIND_BY_PATH = (
    (re.compile(r".*/instant_trade/instant_open/?\Z"), "instant_open"),
    (re.compile(r".*/instant_trade/instant_close/?\Z"), "instant_close"),
    (re.compile(r".*/api/v5/?\Z"), "tpsl"),
)


@dataclass(frozen=True, slots=True)
class Source:
    """One body to validate: its name for reports, its bytes, and the kind its URL gave.

    `problem` is set (and `data` None) when the input could not be used: (rule ID, message).
    """

    name: str
    data: bytes | str | None = None
    kind: str | None = None
    problem: tuple[str, str] | None = None


@dataclass(slots=True)
class Loaded:
    value: Any = None
    problem: tuple[str, str] | None = None
    duplicate_keys: list[str] = field(default_factory=list)
    #: the text alone proves `check_limits` passes (what `obviously_within_limits` says)
    within_limits: bool = False


def _size_text(n: int) -> str:
    return f"{n:,} bytes" if n < 1024 * 1024 else f"{n / (1024 * 1024):.1f} MiB"


def load_json(data: bytes | str, limit: int = MAX_BODY_BYTES) -> Loaded:
    """Strict JSON text -> value: UTF-8, no byte-order mark, no NaN/Infinity, within `limit`
    and `MAX_DEPTH` (measured without recursion: `harness.jsonread`); keys that appear twice in
    an object are listed (the last value is kept, as json does)."""
    got = jsonread.read(
        data, max_bytes=limit, max_depth=MAX_DEPTH, max_values=None, allow_duplicate_keys=True
    )
    within = got.problem is None and got.opens <= MAX_DEPTH and len(data) <= MAX_VALUES
    return Loaded(got.value, got.problem, got.duplicate_keys, within)


def obviously_within_limits(data: bytes | str) -> bool:
    """True when the text alone proves `check_limits` would pass: no more brackets than
    `MAX_DEPTH` (so no deeper nesting) and no more characters than `MAX_VALUES` (every value
    takes at least one). Two C-speed counts instead of a walk over the parsed value."""
    if isinstance(data, str):
        opens = data.count("[") + data.count("{")
    else:
        opens = data.count(b"[") + data.count(b"{")
    return opens <= MAX_DEPTH and len(data) <= MAX_VALUES


def check_limits(
    value: Any, max_depth: int = MAX_DEPTH, max_values: int = MAX_VALUES
) -> str | None:
    """None when `value` is within the nesting and size limits, else why not. Iterative, so a
    value nested 10,000 deep is measured without recursion, and stops at the first excess."""
    if not isinstance(value, dict | list):
        return None
    stack: list[tuple[Any, int]] = [(value, 1)]
    count = 0
    while stack:
        node, depth = stack.pop()
        if depth > max_depth:
            return f"JSON nested deeper than {max_depth} levels"
        children = node.values() if isinstance(node, dict) else node
        count += len(children)
        if count > max_values:
            return f"more than {max_values:,} JSON values in one body"
        for child in children:
            if isinstance(child, dict | list):
                stack.append((child, depth + 1))
    return None


# --------------------------------------------------------------------------------------------
# HAR captures


def kind_for_url(url: str) -> str | None:
    """instant_open / instant_close / tpsl from a request URL, or None for any other endpoint."""
    try:
        path = urlsplit(url).path
    except ValueError:
        return None
    for pattern, kind in _KIND_BY_PATH:
        if pattern.match(path):
            return kind
    return None


def is_har(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and isinstance(value.get("log"), dict)
        and isinstance(value["log"].get("entries"), list)
    )


def har_sources(capture: dict[str, Any], name: str) -> list[Source]:
    """The bodies of the capture's POSTs to the three endpoints, in capture order."""
    out: list[Source] = []
    for i, entry in enumerate(capture["log"]["entries"]):
        request = entry.get("request") if isinstance(entry, dict) else None
        if not isinstance(request, dict) or request.get("method") != "POST":
            continue
        url = request.get("url")
        kind = kind_for_url(url) if isinstance(url, str) else None
        if kind is None:
            continue
        label = f"{name}#entries[{i}] POST {urlsplit(url).path}"
        post = request.get("postData")
        text = post.get("text") if isinstance(post, dict) else None
        if not isinstance(text, str):
            out.append(
                Source(label, kind=kind, problem=("input.unreadable", "no request body captured"))
            )
            continue
        if post.get("encoding") == "base64":
            try:
                out.append(Source(label, base64.b64decode(text, validate=True), kind))
            except (binascii.Error, ValueError):
                out.append(
                    Source(label, kind=kind, problem=("input.not-json", "postData is not base64"))
                )
            continue
        out.append(Source(label, text, kind))
    if not out:
        return [
            Source(
                name,
                problem=(
                    "input.empty",
                    "the capture has no POST to instant_trade/instant_open, "
                    "instant_trade/instant_close or api/v5/",
                ),
            )
        ]
    return out


# --------------------------------------------------------------------------------------------
# Paths


def sources_from_bytes(data: bytes, name: str) -> list[Source]:
    """A body, or every body of a HAR capture (recognised by its shape)."""
    if _HAR_START.match(data[:4096]):
        loaded = load_json(data, MAX_CAPTURE_BYTES)
        if loaded.problem is None and is_har(loaded.value):
            return har_sources(loaded.value, name)
    if len(data) > MAX_BODY_BYTES:
        return [
            Source(
                name,
                problem=(
                    "input.limits",
                    f"the body is {_size_text(len(data))}; the limit is "
                    f"{_size_text(MAX_BODY_BYTES)}",
                ),
            )
        ]
    return [Source(name, data)]


def _line_sources(lines: Iterator[bytes], name: str) -> Iterator[Source]:
    """One Source per non-blank line of a JSON Lines stream (`name:LINE`), lazily."""
    for number, line in enumerate(lines, 1):
        label = f"{name}:{number}"
        if len(line.rstrip(b"\r\n")) > MAX_BODY_BYTES:
            yield Source(
                label,
                problem=(
                    "input.limits",
                    f"the line is longer than the body limit of {_size_text(MAX_BODY_BYTES)}",
                ),
            )
            while line and not line.endswith(b"\n"):  # skip the rest of the overlong line
                line = next(lines, b"")
            continue
        if line.strip():
            yield Source(label, line)


def _bounded_lines(stream: BinaryIO) -> Iterator[bytes]:
    while True:
        line = stream.readline(MAX_BODY_BYTES + 1)
        if not line:
            return
        yield line


def _read_jsonl(path: Path, name: str) -> Iterator[Source]:
    try:
        with path.open("rb") as stream:
            yield from _line_sources(_bounded_lines(stream), name)
    except OSError as exc:
        yield Source(name, problem=("input.unreadable", f"cannot read: {exc.strerror or exc}"))


def record_context_file(raw: str) -> Path | None:
    """The `context.json` of the record folder `raw` names, or None (not a folder, or no file
    there that reads as a context)."""
    try:
        candidate = Path(raw) / CONTEXT_FILE_NAME
        return candidate if Path(raw).is_dir() and _is_record_context(candidate) else None
    except OSError:
        return None


def _is_record_context(path: Path) -> bool:
    """The context file a `demo --record` folder holds (by name, and it reads as a context)."""
    if path.name != CONTEXT_FILE_NAME:
        return False
    try:
        from .context import load_context

        load_context(path)
    except Exception:
        return False
    return True


def _read_file(path: Path, name: str) -> list[Source]:
    try:
        size = path.stat().st_size
        if size > MAX_CAPTURE_BYTES:
            return [
                Source(
                    name,
                    problem=(
                        "input.limits",
                        f"the file is {_size_text(size)}; the limit is "
                        f"{_size_text(MAX_CAPTURE_BYTES)}",
                    ),
                )
            ]
        data = path.read_bytes()
    except OSError as exc:
        return [Source(name, problem=("input.unreadable", f"cannot read: {exc.strerror or exc}"))]
    return sources_from_bytes(data, name)


def _directory_files(root: Path) -> list[Path]:
    files = []
    for path in root.rglob("*"):
        relative = path.relative_to(root).parts
        if any(part.startswith(".") for part in relative):
            continue
        if path.suffix.lower() in SUFFIXES and path.is_file():
            files.append(path)
    return sorted(files)


def _same_file(path: Path, other: Path | None) -> bool:
    try:
        return other is not None and path.resolve() == other
    except OSError:
        return False


def iter_sources(
    paths: Sequence[str],
    stdin: BinaryIO | None = None,
    *,
    exclude: str | None = None,
    input_format: str = "auto",
) -> Iterator[Source]:
    """Every body named by `paths`, in order (a directory's files sorted by path). `exclude`
    (the context file) is skipped wherever it appears; so is a record folder's context.json."""
    skip = Path(exclude).resolve() if exclude is not None else None
    for raw in paths:
        if raw == "-":
            stream = stdin if stdin is not None else sys.stdin.buffer
            if input_format == "jsonl":
                yield from _line_sources(_bounded_lines(stream), "<stdin>")
                continue
            if input_format == "auto":
                try:
                    yield from auto_sources(stream, "<stdin>")
                except (OSError, ValueError) as exc:
                    yield Source(
                        "<stdin>", problem=("input.unreadable", f"cannot read stdin: {exc}")
                    )
                continue
            try:
                data = stream.read(MAX_CAPTURE_BYTES + 1)
            except (OSError, ValueError) as exc:
                yield Source("<stdin>", problem=("input.unreadable", f"cannot read stdin: {exc}"))
                continue
            yield from sources_from_bytes(data, "<stdin>")
            continue
        path = Path(raw)
        try:
            is_dir = path.is_dir()
            exists = is_dir or path.exists()
        except OSError as exc:
            yield Source(raw, problem=("input.unreadable", f"cannot read: {exc}"))
            continue
        if not exists:
            yield Source(raw, problem=("input.unreadable", "no such file or directory"))
        elif is_dir:
            try:
                files = _directory_files(path)
            except OSError as exc:
                yield Source(raw, problem=("input.unreadable", f"cannot list: {exc}"))
                continue
            files = [f for f in files if not _same_file(f, skip) and not _is_record_context(f)]
            if not files:
                yield Source(
                    raw, problem=("input.empty", "no .json, .jsonl or .har files in the directory")
                )
            for file in files:
                yield from _read_path(file, str(file), input_format)
        elif _same_file(path, skip) and len(paths) > 1:
            continue
        else:
            yield from _read_path(path, raw, input_format)


def _read_path(path: Path, name: str, input_format: str) -> Iterator[Source]:
    if input_format == "jsonl" or (input_format == "auto" and path.suffix.lower() == ".jsonl"):
        yield from _read_jsonl(path, name)
    elif input_format == "auto":
        yield from _read_auto(path, name)
    else:
        yield from _read_file(path, name)


def _read_auto(path: Path, name: str) -> Iterator[Source]:
    """A file read by shape (`auto_sources`), within the capture limit."""
    try:
        size = path.stat().st_size
        if size > MAX_CAPTURE_BYTES:
            yield from _read_file(path, name)  # refused there, with the limit named
            return
        with path.open("rb") as stream:
            yield from auto_sources(stream, name)
    except OSError as exc:
        yield Source(name, problem=("input.unreadable", f"cannot read: {exc.strerror or exc}"))


def _is_complete_value(line: bytes) -> bool:
    """The line alone is one whole JSON value (a pretty-printed body's first line never is)."""
    if not line.endswith(b"\n") and len(line) > MAX_BODY_BYTES:
        return False  # a partial read of an overlong line: a document (e.g. a one-line HAR)
    try:
        json.loads(line)
    except (ValueError, RecursionError):
        return False
    return True


def auto_sources(stream: BinaryIO, name: str) -> Iterator[Source]:
    """The bodies of `stream`, told apart by shape: JSON Lines (`name:LINE`, streamed lazily,
    each verdict as soon as its line is read) when the first non-blank line is a complete JSON
    value and another non-blank line follows it; otherwise one document, a body or a HAR
    capture (`sources_from_bytes`)."""
    lines = _bounded_lines(stream)
    head: list[bytes] = []
    first_two: list[bytes] = []  # the first two non-blank lines (one value needs no parse)
    for line in lines:
        head.append(line)
        if line.strip():
            first_two.append(line)
            if len(first_two) == 2:
                break
    if len(first_two) == 2 and _is_complete_value(first_two[0]):
        yield from _line_sources(itertools.chain(head, lines), name)
        return
    read = sum(len(line) for line in head)
    rest = stream.read(max(0, MAX_CAPTURE_BYTES + 1 - read))
    yield from sources_from_bytes(b"".join(head) + rest, name)
