"""One strict, bounded JSON reader: size, depth, value count, duplicate keys, numbers.

Its limits hold whatever Python's recursion limit is. py_ecc (imported through web3 and py-evm)
raises `sys.setrecursionlimit` to 100,000; `json.loads` of 100,000 nested `[` then overflows the
C stack (SIGSEGV) before any RecursionError. So the nesting depth is measured first by scanning
the text without recursion (strings skipped), and `json` only ever sees text at most `max_depth`
deep. Then the text is parsed with NaN/Infinity and non-finite numbers (`1e999`) refused and the
duplicate keys of every object listed (refused unless the caller asks to keep them).

`read(data, ...)` never raises for a bad input: `Read.problem` is `(rule ID, message)`, with the
rule IDs the validator reports (`input.limits`, `input.not-json`, `json.duplicate-key`).
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from typing import Any

MAX_BYTES = 2 * 1024 * 1024
MAX_DEPTH = 64
MAX_VALUES = 200_000

LIMITS = "input.limits"
NOT_JSON = "input.not-json"
DUPLICATE_KEY = "json.duplicate-key"

# A complete JSON string (unrolled, so no per-character alternation) or one structural bracket.
_STRUCTURE = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)
_OPEN = frozenset("[{")


@dataclass(slots=True)
class Read:
    """The value read, or the problem `(rule ID, message)`; the keys seen twice in an object."""

    value: Any = None
    problem: tuple[str, str] | None = None
    duplicate_keys: list[str] = field(default_factory=list)
    opens: int = 0  # "[" and "{" in the text, strings included (a bound on the nesting depth)


class _Refused(ValueError):
    def __init__(self, rule: str, message: str) -> None:
        self.rule = rule
        super().__init__(message)


def size_text(n: int) -> str:
    return f"{n:,} bytes" if n < 1024 * 1024 else f"{n / (1024 * 1024):.1f} MiB"


def nesting_depth_exceeds(text: str, max_depth: int, opens: int | None = None) -> bool:
    """True as soon as the brackets outside strings nest deeper than `max_depth` (an
    unterminated string leaves its brackets counted: the text is refused either way). `opens`:
    the text's count of "[" and "{", when the caller has it."""
    if opens is None:
        opens = text.count("[") + text.count("{")
    if opens <= max_depth:
        return False  # not enough brackets to nest that deep (two C-speed counts, no scan)
    depth = 0
    for match in _STRUCTURE.finditer(text):
        token = match.group()
        if token in _OPEN:
            depth += 1
            if depth > max_depth:
                return True
        elif token in "]}":
            depth -= 1
    return False


def count_exceeds(value: Any, max_values: int) -> bool:
    """True when `value` holds more than `max_values` values (iterative, stops early)."""
    stack, count = [value], 0
    while stack:
        node = stack.pop()
        children = node.values() if isinstance(node, dict) else node
        count += len(children)
        if count > max_values:
            return True
        stack.extend(c for c in children if isinstance(c, dict | list))
    return False


def _constant(name: str) -> Any:
    raise _Refused(NOT_JSON, f"not JSON: {name} is not a JSON value (RFC 8259 has none)")


def _float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise _Refused(LIMITS, f"the JSON number {text[:40]} is out of range")
    return value


class _Decoder(threading.local):
    """One `json.JSONDecoder` per thread, built once (`json.loads` with hooks builds a decoder
    and its scanner on every call); `duplicates` collects the current read's repeated keys."""

    def __init__(self) -> None:
        self.duplicates: list[str] = []
        self.decode = json.JSONDecoder(
            object_pairs_hook=self._pairs, parse_constant=_constant, parse_float=_float
        ).decode

    def _pairs(self, items: list[tuple[str, Any]]) -> dict[str, Any]:
        obj = dict(items)
        if len(obj) != len(items):
            duplicates = self.duplicates
            seen: set[str] = set()
            for key, _ in items:
                if key in seen and key not in duplicates:
                    duplicates.append(key)
                seen.add(key)
        return obj


_DECODER = _Decoder()


def read(
    data: bytes | bytearray | str,
    *,
    max_bytes: int = MAX_BYTES,
    max_depth: int = MAX_DEPTH,
    max_values: int | None = MAX_VALUES,
    allow_duplicate_keys: bool = False,
) -> Read:
    """Strict JSON text -> value: UTF-8 without a byte-order mark, at most `max_bytes` bytes,
    `max_depth` levels and `max_values` values (None: no count), no NaN/Infinity, no number out
    of range, no key twice in one object (listed and kept, the last value winning, when
    `allow_duplicate_keys`)."""
    if len(data) > max_bytes:
        return Read(
            problem=(
                LIMITS,
                f"the body is {size_text(len(data))}; the limit is {size_text(max_bytes)}",
            )
        )
    if isinstance(data, bytes | bytearray):
        try:
            text = bytes(data).decode("utf-8")
        except UnicodeDecodeError as exc:
            return Read(problem=(NOT_JSON, f"not UTF-8 text (byte {exc.start})"))
    elif isinstance(data, str):
        text = data
    else:
        return Read(problem=(NOT_JSON, f"expected JSON text, got {type(data).__name__}"))
    if text.startswith("\ufeff"):
        return Read(problem=(NOT_JSON, "JSON text must not start with a byte-order mark"))
    opens = text.count("[") + text.count("{")
    if nesting_depth_exceeds(text, max_depth, opens):
        return Read(problem=(LIMITS, f"JSON nested deeper than {max_depth} levels"))
    out = Read(opens=opens)
    decoder = _DECODER
    duplicates = decoder.duplicates = out.duplicate_keys
    try:
        value = decoder.decode(text)
    except json.JSONDecodeError as exc:
        return Read(
            problem=(NOT_JSON, f"not JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})")
        )
    except _Refused as exc:
        return Read(problem=(exc.rule, str(exc)))
    except RecursionError:  # cannot happen below max_depth; kept as a second fence
        return Read(problem=(LIMITS, f"JSON nested deeper than {max_depth} levels"))
    except ValueError:  # an integer over Python's digit limit
        return Read(problem=(LIMITS, "a JSON number has too many digits to read"))
    if duplicates and not allow_duplicate_keys:
        return Read(
            problem=(
                DUPLICATE_KEY,
                f'key "{duplicates[0]}" appears more than once in one object; send it once',
            ),
            duplicate_keys=duplicates,
        )
    if (
        max_values is not None
        and isinstance(value, dict | list)
        and count_exceeds(value, max_values)
    ):
        return Read(problem=(LIMITS, f"more than {max_values:,} JSON values in one body"))
    out.value = value
    return out


__all__ = ["MAX_BYTES", "MAX_DEPTH", "MAX_VALUES", "Read", "count_exceeds", "read", "size_text"]
