"""The real contracts' public surface, as data (`surface.json`), and what follows from it.

`surface.json` was written down by reading the real contracts (never copied: they are
BUSL-1.1). For the InstantLayer it is complete: every function, event and error, with its
selector. For the AccountLayer, the core and the collateral token it is the set of functions a
driver of the flow calls. From it:

- `abi(contract)`: the ABI a driver uses, i.e. our compiled artifact's ABI cut down to the
  surface, so calling anything else raises before it reaches a chain;
- `differences(contract, abi)`: how a compiled ABI differs from the surface (missing, extra, or
  other return types), which a test runs on our mocks;
- `selectors(contract)`: the 4-byte selectors of the surface's functions;
- `names(generation)`: which surface (and so which artifact) each contract of a protocol
  generation is. A v0.8.6 entry `inherits` its v0.8.5 one and lists what v0.8.6 adds.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from .. import artifacts
from ..primitives import keccak
from ..protocol import V0_8_6, Protocol

_PATH = Path(__file__).with_name("surface.json")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

#: Compiled artifact holding each surface contract's ABI (the token is our MockERC20).
ARTIFACT_OF = {
    "InstantLayer": "InstantLayer",
    "AccountLayer": "AccountLayer",
    "SymmioCore": "SymmioCore",
    "ERC20": "MockERC20",
    "InstantLayerV086": "InstantLayerV086",
    "AccountLayerV086": "AccountLayerV086",
    "SymmioCoreV086": "SymmioCoreV086",
    "GaslessLayer": "GaslessLayer",
}


@dataclass(frozen=True)
class Names:
    """The surface name of each contract of one protocol generation (None: it has none)."""

    instant_layer: str
    account_layer: str
    symmio_core: str
    gasless_layer: str | None


def names(generation: type[Protocol]) -> Names:
    """The surfaces a generation's contracts implement (real-world.md §2: v0.8.6 changes the
    InstantLayer, the AccountLayer and the core, and adds the GaslessLayer)."""
    if generation.at_least(V0_8_6):
        return Names("InstantLayerV086", "AccountLayerV086", "SymmioCoreV086", "GaslessLayer")
    return Names("InstantLayer", "AccountLayer", "SymmioCore", None)


@dataclass(frozen=True)
class Function:
    signature: str  # canonical: struct names expanded
    selector: bytes
    returns: str  # canonical output tuple, e.g. "(bytes32)"
    view: bool


@dataclass(frozen=True)
class Event:
    signature: str
    topic0: bytes
    indexed: tuple[int, ...]


@dataclass(frozen=True)
class Surface:
    contract: str
    complete: bool
    functions: dict[str, Function]
    events: dict[str, Event]
    errors: dict[str, bytes]  # canonical signature -> selector


@cache
def _raw() -> dict[str, Any]:
    return json.loads(_PATH.read_text(encoding="utf-8"))


def expand(text: str) -> str:
    """Struct names replaced by canonical tuples, recursively: `Account` -> `(address,bool)`."""
    structs = _raw()["structs"]

    def one(match: re.Match[str]) -> str:
        name = match.group(0)
        return expand(structs[name]) if name in structs else name

    head, paren, rest = text.partition("(")
    return head + paren + _NAME.sub(one, rest) if paren else _NAME.sub(one, text)


def selector_of(signature: str) -> bytes:
    return keccak(signature.encode())[:4]


@cache
def surface(contract: str) -> Surface:
    raw = _entry(contract)
    functions = {}
    for sig, spec in raw.get("functions", {}).items():
        full = expand(sig)
        selector = bytes.fromhex(spec["selector"][2:])
        functions[full] = Function(full, selector, expand(spec["returns"]), spec.get("view", False))
    events = {
        expand(sig): Event(expand(sig), bytes.fromhex(spec["topic0"][2:]), tuple(spec["indexed"]))
        for sig, spec in raw.get("events", {}).items()
    }
    errors = {expand(sig): bytes.fromhex(sel[2:]) for sig, sel in raw.get("errors", {}).items()}
    return Surface(contract, raw["complete"], functions, events, errors)


def _entry(contract: str) -> dict[str, Any]:
    """The contract's raw entry, with what it `inherits` merged under its own lists."""
    try:
        raw = _raw()["contracts"][contract]
    except KeyError:
        known = ", ".join(_raw()["contracts"])
        raise KeyError(f"no surface for {contract!r} (known: {known})") from None
    parent = raw.get("inherits")
    if parent is None:
        return raw
    base = _entry(parent)
    merged = {k: {**base.get(k, {}), **raw.get(k, {})} for k in ("functions", "events", "errors")}
    return {"complete": raw["complete"], **merged}


def contracts() -> tuple[str, ...]:
    return tuple(_raw()["contracts"])


def selectors(contract: str) -> frozenset[bytes]:
    return frozenset(f.selector for f in surface(contract).functions.values())


def _outputs(entry: dict[str, Any]) -> str:
    return "(" + ",".join(artifacts.canonical_type(o) for o in entry["outputs"]) + ")"


def _view(entry: dict[str, Any]) -> bool:
    return entry["stateMutability"] in ("view", "pure")


@cache
def abi(contract: str) -> list[dict[str, Any]]:
    """The compiled ABI of `contract`'s artifact restricted to the surface (functions, events and
    errors it lists; for an incomplete surface all events and errors are kept for decoding)."""
    s = surface(contract)
    compiled = artifacts.abi(ARTIFACT_OF[contract])
    kept = []
    for entry in compiled:
        kind = entry.get("type")
        if kind == "function":
            if artifacts.signature(entry) in s.functions:
                kept.append(entry)
        elif kind in ("event", "error"):
            listed = s.events if kind == "event" else s.errors
            if not s.complete or artifacts.signature(entry) in listed:
                kept.append(entry)
    return kept


def differences(contract: str, compiled: list[dict[str, Any]]) -> list[str]:
    """Every way `compiled` (an ABI) differs from the surface; [] when it implements it exactly.

    A complete surface must match in both directions; for an incomplete one only the listed
    functions are required (and must have the listed return types)."""
    s = surface(contract)
    found: list[str] = []
    funcs = {artifacts.signature(e): e for e in compiled if e.get("type") == "function"}
    for sig, fn in s.functions.items():
        entry = funcs.get(sig)
        if entry is None:
            found.append(f"missing function {sig}")
            continue
        if _outputs(entry) != fn.returns:
            found.append(f"function {sig} returns {_outputs(entry)}, the real one {fn.returns}")
        if _view(entry) != fn.view:
            real = "view" if fn.view else "state-changing"
            found.append(f"function {sig} is {entry['stateMutability']}, the real one {real}")
    errors = {artifacts.signature(e) for e in compiled if e.get("type") == "error"}
    found += [f"missing error {sig}" for sig in sorted(set(s.errors) - errors)]
    if not s.complete:
        return found
    found += [f"extra function {sig}" for sig in sorted(set(funcs) - set(s.functions))]
    events = {artifacts.signature(e): e for e in compiled if e.get("type") == "event"}
    for sig, ev in s.events.items():
        entry = events.get(sig)
        if entry is None:
            found.append(f"missing event {sig}")
            continue
        indexed = tuple(i for i, p in enumerate(entry["inputs"]) if p["indexed"])
        if indexed != ev.indexed:
            found.append(f"event {sig} indexes {list(indexed)}, the real one {list(ev.indexed)}")
    found += [f"extra event {sig}" for sig in sorted(set(events) - set(s.events))]
    found += [f"extra error {sig}" for sig in sorted(errors - set(s.errors))]
    return found
