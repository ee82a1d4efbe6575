"""JSON Schemas (draft 2020-12) of the three HTTP bodies and the context file, generated.

Generated from the pinned types, never written by hand: the members and Solidity types of every
struct come from `eip712.TYPES`, the TP/SL `types` object from `eip712.eip712_types`, the body
keys and value formats from `wire` (its canonical form: SignedOperation numerics as decimal
strings, the TP/SL salt as a decimal string and its other integers as JSON numbers), the close
list bound from `wire.MAX_CLOSE_OPERATIONS`, and the context keys from `context`.

A schema describes the canonical *shape*: keys, JSON types, formats, lengths. The non-canonical
variants the validator reads with a warning (SDK-style JSON numbers, the `{"operations": [...]}`
close envelope, a TP/SL `types` without `EIP712Domain`) do not match it. What a schema cannot
say is the validator's: EIP-55 checksums, numeric ranges of decimal strings, signatures,
calldata, enum values, the context's cross-checks.

    python -m harness.schemas --write    # regenerate schemas/*.schema.json
    python -m harness.schemas --check    # exit 1 if the committed files differ
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import MISSING, fields
from pathlib import Path
from typing import Any

from . import context as context_module
from . import wire
from .deployments import Notifications, PriceFeed, SolverKind
from .eip712 import TYPES, eip712_types
from .pricing import WEI_DECIMALS
from .primitives import INT256_MAX, INT256_MIN
from .protocol import BY_VERSION

DRAFT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_DIR = Path(__file__).resolve().parents[1] / "schemas"
UINT256_MAX = (1 << 256) - 1


def _ecma(pattern: re.Pattern[str]) -> str:
    """A Python full-match regex of `wire` (ending in \\Z) as an anchored ECMA-262 pattern."""
    body = pattern.pattern.removesuffix(r"\Z")
    return f"^{body}$"


DECIMAL_UINT = _ecma(wire._DECIMAL_UINT)
DECIMAL_TEXT = _ecma(wire._DECIMAL_TEXT)
ADDRESS = "^0x[0-9a-fA-F]{40}$"  # the shape `Reader.address` requires before EIP-55
HEX_BYTES = "^0x(?:[0-9a-fA-F]{2})*$"  # `Reader.hex_bytes`: 0x, an even number of digits
SIGNATURE_BYTES = 65


def _hex_exact(length: int) -> str:
    return f"^0x[0-9a-fA-F]{{{2 * length}}}$"


def _address() -> dict[str, Any]:
    return {
        "type": "string",
        "pattern": ADDRESS,
        "description": "0x + 40 hex digits, EIP-55 checksummed (the checksum is the validator's)",
    }


def _decimal_uint(bits: int = 256) -> dict[str, Any]:
    return {
        "type": "string",
        "pattern": DECIMAL_UINT,
        "description": f"uint{bits} as a decimal string (no sign, no leading zeros, no 0x)",
    }


def _json_int(solidity: str) -> dict[str, Any]:
    if solidity.startswith("int"):
        bits = int(solidity[3:] or 256)
        lo, hi = (
            (INT256_MIN, INT256_MAX) if bits == 256 else (-(1 << (bits - 1)), (1 << (bits - 1)) - 1)
        )
    else:
        bits = int(solidity[4:] or 256)
        lo, hi = 0, (1 << bits) - 1
    return {
        "type": "integer",
        "minimum": lo,
        "maximum": hi,
        "description": f"{solidity}, a JSON number",
    }


def _member(convention: wire.Convention, name: str, solidity: str) -> dict[str, Any]:
    """The wire schema of one struct member, by its family's wire convention (`wire`)."""
    if solidity.endswith("[]"):
        return {"type": "array", "items": _member(convention, name, solidity[:-2])}
    if solidity in TYPES:
        return {"$ref": f"#/$defs/{solidity}"}
    if solidity == "address":
        return _address()
    if solidity == "bool":
        return {"type": "boolean"}
    if solidity == "bytes":
        return {"type": "string", "pattern": HEX_BYTES, "description": "0x-hex bytes, every digit"}
    if solidity.startswith("bytes"):
        size = int(solidity[5:])
        return {
            "type": "string",
            "pattern": _hex_exact(size),
            "description": f"{solidity}: 0x + {2 * size} hex digits",
        }
    if solidity.startswith(("uint", "int")):
        if convention.numbers_as_strings or name in convention.string_members:
            return _decimal_uint(int(solidity[4:] or 256))
        return _json_int(solidity)
    if solidity == "string":
        if name in convention.decimal_members:
            return {
                "type": "string",
                "pattern": DECIMAL_TEXT,
                "description": 'a non-negative decimal in positional notation, e.g. "1.25"',
            }
        return {"type": "string"}
    raise ValueError(f"no wire schema for {name} of type {solidity}")


def _struct(name: str, convention: wire.Convention) -> dict[str, Any]:
    members = TYPES[name]
    return {
        "type": "object",
        "properties": {n: _member(convention, n, t) for n, t in members},
        "required": [n for n, _ in members],
        "additionalProperties": False,
    }


def _defs(convention: wire.Convention, *roots: str) -> dict[str, Any]:
    """`$defs` for `roots` and every struct they reach, in a stable order."""
    out: dict[str, Any] = {}
    stack = list(roots)
    while stack:
        name = stack.pop(0)
        if name in out:
            continue
        out[name] = _struct(name, convention)
        for _, t in TYPES[name]:
            base = t.removesuffix("[]")
            if base in TYPES and base not in out:
                stack.append(base)
    return dict(sorted(out.items()))


def _wrapped_operation() -> dict[str, Any]:
    return {
        "type": "object",
        "description": "a SignedOperation (7-field v0.8.5 type) and its 65-byte r||s||v signature",
        "properties": {
            "signedOperation": {"$ref": "#/$defs/SignedOperation"},
            "signature": {
                "type": "string",
                "pattern": _hex_exact(SIGNATURE_BYTES),
                "description": "65 bytes r||s||v, low s, v 27 or 28 (checked by the validator)",
            },
        },
        "required": ["signedOperation", "signature"],
        "additionalProperties": False,
    }


def _header(kind: str, title: str, description: str) -> dict[str, Any]:
    return {
        "$schema": DRAFT,
        "$id": f"urn:symmio-harness:v0.8.5:{kind}",
        "title": title,
        "description": description + " Generated by `python -m harness.schemas --write`.",
    }


def _operation_defs() -> dict[str, Any]:
    """`$defs` of a body of wrapped operations: the SignedOperation structs, WrappedOperation."""
    return {**_defs(wire.OPERATION, "SignedOperation"), "WrappedOperation": _wrapped_operation()}


def instant_open_schema() -> dict[str, Any]:
    defs = _operation_defs()
    return {
        **_header(
            "instant_open",
            "POST {solver}/api/instant_trade/instant_open",
            "addMarginToNextVA (optional: without it the VA must already hold the margin) then "
            "sendQuoteWithAffiliateAndData, both signed by the session key for the sub-account.",
        ),
        "type": "object",
        "properties": {
            "addMargin": {"$ref": "#/$defs/WrappedOperation"},
            "sendQuote": {"$ref": "#/$defs/WrappedOperation"},
        },
        "required": list(wire.INSTANT_OPEN_KEYS[0]),
        "additionalProperties": False,
        "$defs": dict(sorted(defs.items())),
    }


def instant_close_schema() -> dict[str, Any]:
    defs = _operation_defs()
    return {
        **_header(
            "instant_close",
            "POST {solver}/api/instant_trade/instant_close",
            "A bare JSON list of wrapped operations, each signed for the virtual account (the "
            'SDK\'s {"operations": [...]} envelope is a warning in the validator and does not '
            "match this canonical schema).",
        ),
        "type": "array",
        "minItems": 1,
        "maxItems": wire.MAX_CLOSE_OPERATIONS,
        "items": {"$ref": "#/$defs/WrappedOperation"},
        "$defs": dict(sorted(defs.items())),
    }


def grant_operation_schema() -> dict[str, Any]:
    defs = _operation_defs()
    return {
        **_header(
            "grant_operation",
            "a v0.8.6 grant operation, relayed by the GaslessLayer",
            "One owner-signed wrapped operation targeting the InstantLayer with callData "
            "grantDelegation or grantDelegations (real-world.md §2.5), or a list of them.",
        ),
        "anyOf": [
            {"$ref": "#/$defs/WrappedOperation"},
            {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/WrappedOperation"}},
        ],
        "$defs": dict(sorted(defs.items())),
    }


def tpsl_schema() -> dict[str, Any]:
    defs = _defs(wire.TYPED_DATA, "ConditionalOrder", "EIP712Domain")
    return {
        **_header(
            "tpsl",
            "POST {tpsl}/api/v5/",
            "A ConditionalOrder as EIP-712 typed data, its signature and the signer (the session "
            "key).",
        ),
        "type": "object",
        "properties": {
            "typedData": {
                "type": "object",
                "properties": {
                    "types": {
                        "const": eip712_types("ConditionalOrder"),
                        "description": "exactly the pinned types, EIP712Domain included",
                    },
                    "primaryType": {"const": "ConditionalOrder"},
                    "domain": {"$ref": "#/$defs/EIP712Domain"},
                    "message": {"$ref": "#/$defs/ConditionalOrder"},
                },
                "required": ["types", "primaryType", "domain", "message"],
                "additionalProperties": False,
            },
            "signature": {"type": "string", "pattern": _hex_exact(SIGNATURE_BYTES)},
            "signer": _address(),
        },
        "required": ["typedData", "signature", "signer"],
        "additionalProperties": False,
        "$defs": defs,
    }


def _dataclass_object(cls: type, overrides: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """An object schema from a context dataclass: members from its fields, JSON types from their
    annotations (`int` -> integer, `str` -> string) unless overridden, required = no default."""
    props: dict[str, Any] = {}
    for f in fields(cls):
        kind = "integer" if str(f.type).startswith("int") else "string"
        props[f.name] = overrides.get(f.name, {"type": kind})
    return {
        "type": "object",
        "properties": props,
        "required": [f.name for f in fields(cls) if f.default is MISSING],
        "additionalProperties": False,
    }


def _bounded(lo: int, hi: int) -> dict[str, Any]:
    return {"type": "integer", "minimum": lo, "maximum": hi}


#: Schemas of the context keys: every key of `context.REQUIRED_KEYS` / `OPTIONAL_KEYS` must be
#: here (a test says which is missing), so a new key cannot ship without its schema.
def _context_key_schemas() -> dict[str, Any]:
    precision = _bounded(0, WEI_DECIMALS)
    symbol = _dataclass_object(
        context_module.Symbol,
        {
            "id": _bounded(0, UINT256_MAX),
            "price_precision": precision,
            "quantity_precision": precision,
            **{
                key: {
                    "type": "string",
                    "pattern": DECIMAL_TEXT,
                    "description": "v0.8.6: the least SolverFeeCaps a quote must allow "
                    "(contract-symbols, a decimal ratio; default 0)",
                }
                for key in context_module.SYMBOL_FEE_CAP_KEYS
            },
        },
    )
    domain = _dataclass_object(
        context_module.ConditionalOrderDomainConfig,
        {"chain_id": _bounded(0, UINT256_MAX), "verifying_contract": _address()},
    )
    return {
        "chain_id": _bounded(1, UINT256_MAX),
        "instant_layer": _address(),
        "account_layer": _address(),
        "symmio_core": _address(),
        "hedger": _address(),
        "affiliate": _address(),
        "sub_account": _address(),
        "virtual_account": _address(),
        "session_key": {**_address(), "description": "the session key's address (never its key)"},
        "symbols": {"type": "array", "items": symbol},
        "conditional_order_domain": domain,
        "retired_instant_layers": {"type": "array", "items": _address()},
        "gasless_gateway": _address(),
        "recorded_at": _bounded(0, (1 << 64) - 1),
        # keys `serve` adds to GET /context
        "rpc_url": {"type": "string", "pattern": "^https?://"},
        "collateral": _address(),
        "tpsl_bot": _address(),
        "test_accounts": {"type": "array", "items": _address()},
        "price_url": {"type": "string", "pattern": "^https?://"},
        "price_ws_url": {"type": "string", "pattern": "^wss?://"},
        # the TP/SL market rules' keys (`serve` gives the first two live)
        "mark_prices": _amounts("symbol id", "mark price"),
        "coh_limits": {
            "type": "object",
            "description": "the limits the COH serves at /api/v5/configs/, by their served names",
            "properties": {
                name: (
                    {"type": "integer", "minimum": 0}
                    if name in ("MaxRequestTimeDeltaSeconds", "MaxActiveOrdersPerUser")
                    else {
                        "anyOf": [
                            {"type": "number", "minimum": 0},
                            {"type": "string", "pattern": DECIMAL_TEXT},
                        ]
                    }
                )
                for name in context_module.COH_LIMIT_NAMES
            },
            "required": list(context_module.COH_LIMIT_NAMES),
            "additionalProperties": False,
        },
        "open_quantities": _amounts("quote id", "open quantity"),
        # v0.8.6 (real-world.md §2)
        "contracts_version": {
            "enum": list(BY_VERSION),
            "description": "the protocol generation the bodies are judged as (absent: 0.8.5)",
        },
        "owner": {**_address(), "description": "the account owner (signs grant operations)"},
        "gasless_layer": _address(),
        "gasless_url": {
            "type": "string",
            "pattern": "^https?://",
            "description": "the gasless relay `serve` runs on v0.8.6 (the SDK's gasless.url)",
        },
        # the deployment profile `serve` runs
        "deployment": _deployment(),
    }


def _deployment() -> dict[str, Any]:
    """`deployment`: the profile's name, kinds (harness.deployments) and service URLs."""

    def closed(props: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "object",
            "properties": props,
            "required": list(props),
            "additionalProperties": False,
        }

    def kinds(enum: Any) -> dict[str, Any]:
        return {"enum": [k.value for k in enum]}

    url = {"type": "string"}
    return {
        "description": "the deployment profile serve runs and where each of its services is",
        **closed(
            {
                "name": {"type": "string"},
                "solver": closed({"kind": kinds(SolverKind), "url": url}),
                "notifications": closed({"protocol": kinds(Notifications), "url": url}),
                "prices": closed({"kind": kinds(PriceFeed)}),
                "coh": {"anyOf": [{"type": "null"}, closed({"url": url})]},
            }
        ),
    }


def _amounts(key: str, value: str) -> dict[str, Any]:
    """`{"<id>": "<decimal>"}`: an object keyed by decimal ids (the > 0 is the reader's)."""
    return {
        "type": "object",
        "description": f"{value} (a decimal string) by {key} (decimal digits)",
        "propertyNames": {"pattern": "^[0-9]+$"},
        "additionalProperties": {"type": "string", "pattern": DECIMAL_TEXT},
    }


def context_schema() -> dict[str, Any]:
    known = _context_key_schemas()
    keys = (*context_module.REQUIRED_KEYS, *context_module.OPTIONAL_KEYS)
    missing = [k for k in keys if k not in known]
    if missing:
        raise ValueError(f"harness/schemas.py has no schema for the context key(s) {missing}")
    return {
        **_header(
            "context",
            "The context file (symmio-harness validate --context, GET /context)",
            "Where the contracts are and what the user set up; each optional key switches on "
            "the validator rules that need it.",
        ),
        "type": "object",
        "properties": {k: known[k] for k in keys},
        "required": list(context_module.REQUIRED_KEYS),
        "additionalProperties": False,
    }


#: kind -> (file name, generator). The kinds are the validator's (`--kind`).
SCHEMAS = {
    "instant_open": ("instant_open.schema.json", instant_open_schema),
    "instant_close": ("instant_close.schema.json", instant_close_schema),
    "tpsl": ("tpsl.schema.json", tpsl_schema),
    "grant_operation": ("grant_operation.schema.json", grant_operation_schema),
    "context": ("context.schema.json", context_schema),
}


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def generate() -> dict[str, str]:
    """file name -> text of every schema."""
    return {name: render(make()) for name, make in SCHEMAS.values()}


def differences(directory: Path = SCHEMA_DIR) -> list[str]:
    """The schema files in `directory` that are missing or differ from a fresh generation."""
    out = []
    for name, text in generate().items():
        path = directory / name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            out.append(name)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m harness.schemas", description=__doc__.split("\n")[0]
    )
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true", help="write schemas/*.schema.json")
    mode.add_argument("--check", action="store_true", help="exit 1 if a committed schema differs")
    parser.add_argument(
        "--dir", type=Path, default=SCHEMA_DIR, help="schema folder (default: schemas/)"
    )
    args = parser.parse_args(argv)
    if args.write:
        args.dir.mkdir(parents=True, exist_ok=True)
        for name, text in generate().items():
            (args.dir / name).write_text(text, encoding="utf-8")
            print(f"wrote {args.dir / name}")
        return 0
    stale = differences(args.dir)
    if stale:
        print(
            f"out of date: {', '.join(stale)} (run python -m harness.schemas --write)",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
