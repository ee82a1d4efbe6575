"""Compatibility names: the validator lives in `harness.validator` (this module re-exports it)."""

from __future__ import annotations

from .validator.engine import (
    Options,
    Validator,
    iter_results,
    resolve_now,
    validate_body,
    validate_paths,
    validate_sources,
)
from .validator.results import Finding, Report, Result

__all__ = [
    "Finding",
    "Options",
    "Report",
    "Result",
    "Validator",
    "iter_results",
    "resolve_now",
    "validate_body",
    "validate_paths",
    "validate_sources",
]
