"""The validator, where the rule is the unit.

- `catalogue`: the rules as data (ID, severity, what it checks, the docs passage it enforces);
- `checks`: one registered check per rule ID, judging a body's facts;
- `facts`: what the engine learns about a body once (read, decoded, recovered);
- `engine`: `Validator`, `Options`, `validate_body`, `validate_sources`, `validate_paths`,
  `iter_results`, `resolve_now`;
- `results`: `Finding`, `Result` (with the typed body and decoded calls), `Report`.

The catalogue is data and loads alone (the wire reader names rules through it); everything else
is loaded on first use.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "Validator": "engine",
    "Options": "engine",
    "validate_body": "engine",
    "validate_sources": "engine",
    "validate_paths": "engine",
    "iter_results": "engine",
    "resolve_now": "engine",
    "Finding": "results",
    "Result": "results",
    "Report": "results",
    "Tally": "results",
    "REGISTRY": "checks",
    "RULES": "catalogue",
    "BY_ID": "catalogue",
    "Rule": "catalogue",
}


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'harness.validator' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{module}", __name__), name)


__all__ = sorted(_EXPORTS)
