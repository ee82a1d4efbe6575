"""symmio-harness: a conformance harness for Symmio v0.8.5 Instant Trading.

The public API is what this module exports; everything else may move.
"""

from __future__ import annotations

from . import calldata, eip712, wire
from .context import Context, Symbol, load_context
from .errors import (
    CalldataError,
    ContextError,
    HarnessError,
    InputError,
    Problem,
    SignatureError,
    WireError,
)
from .keys import LocalKey, generate_session_key
from .model import (
    Account,
    ConditionalOrder,
    DelegationInfo,
    Domain,
    FlexField,
    InstantClose,
    InstantOpen,
    ReplayAttackHeader,
    SignedOperation,
    TpslRequest,
    WrappedOperation,
)
from .protocol import VERSION

__version__ = "0.1.0"

# Loaded on first use: `chain` pulls in web3 (~0.6 s), `flow` the builders: the CLI's validate
# needs neither, and starts in well under 0.4 s.
_LAZY_SUBMODULES = ("chain", "flow", "pricing", "validator", "protocol")
# The public name `harness.validate` is the validator package itself (Validator, Options,
# validate_body, validate_sources, validate_paths, iter_results, resolve_now, Finding, Result,
# Report): no module of its own re-exports it.
_ALIASES = {"validate": "validator"}


def __getattr__(name: str) -> object:
    name = _ALIASES.get(name, name)
    if name in _LAZY_SUBMODULES:
        import importlib

        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'harness' has no attribute {name!r}")


PROTOCOL_VERSION = VERSION  # one place says what the protocol is: harness.protocol

__all__ = [
    "PROTOCOL_VERSION",
    "Account",
    "CalldataError",
    "ConditionalOrder",
    "Context",
    "ContextError",
    "DelegationInfo",
    "Domain",
    "FlexField",
    "HarnessError",
    "InputError",
    "InstantClose",
    "InstantOpen",
    "LocalKey",
    "Problem",
    "ReplayAttackHeader",
    "SignatureError",
    "SignedOperation",
    "Symbol",
    "TpslRequest",
    "WireError",
    "WrappedOperation",
    "__version__",
    "calldata",
    "chain",
    "eip712",
    "flow",
    "generate_session_key",
    "load_context",
    "pricing",
    "validate",
    "validator",
    "wire",
]
