"""Wire JSON <-> typed values, strictly (spec §5-§8; decisions in contracts-and-services.md).

Canonical (what `to_wire` writes and the docs define):
- SignedOperation numerics (`maxUses`, `nonce`, `deadline`, flex `offset`/`length`) as decimal
  strings; addresses in EIP-55 form; byte strings 0x-hex with every digit; signatures 65 bytes.
- instant_open: `{"addMargin": op, "sendQuote": op}`; instant_close: a bare JSON list of one or
  more wrapped ops; TP/SL: `{"typedData": {...}, "signature", "signer"}` with the salt as a
  decimal string and the other integers as JSON numbers.

Reading collects every defect as a `Problem` with its JSON path and a stable code; it never
raises on any JSON value. Observed non-canonical variants (SDK-style JSON numbers, the
`{"operations": [...]}` close envelope) are read and reported: both are what the solver publishes
(real-world.md §4), so their rules are information, not warnings. The strict entry points
(`*_from_wire`) raise `WireError` on any problem at all, warnings and information included.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Generic, TypeVar

from . import protocol
from .eip712 import (
    LEGACY_SIGNED_OPERATION,
    MODELS,
    TYPES,
    attribute,
    eip712_types,
    referenced_types,
)
from .errors import NotCanonical, Problem, WireError
from .model import (
    ConditionalOrder,
    Domain,
    InstantClose,
    InstantOpen,
    Leg,
    LegacySignedOperation,
    SendQuoteLeg,
    SignedOperation,
    TpslRequest,
    WrappedOperation,
    unchecked,
)
from .primitives import _is_checksummed, eip55, to_hex

#: instant_open: (required keys, optional keys), the solver's own {addMargin?, sendQuote}
INSTANT_OPEN_KEYS: tuple[tuple[str, ...], tuple[str, ...]] = (("sendQuote",), ("addMargin",))
T = TypeVar("T")

# The rule IDs the reader reports (catalogue: harness.validator.catalogue; severity from there).
JSON_TYPE = "json.type"
JSON_MISSING = "json.missing-key"
JSON_UNKNOWN = "json.unknown-key"
UINT_JSON_NUMBER = "uint.json-number"
UINT_FORMAT = "uint.decimal-string"
UINT_RANGE = "uint.range"
INT_FORMAT = "int.format"
INT_STRING = "int.string"
ADDRESS_FORMAT = "address.format"
ADDRESS_CHECKSUM = "address.eip55"
BOOL_TYPE = "bool.type"
HEX_FORMAT = "hex.format"
HEX_LENGTH = "hex.length"
SIG_LENGTH = "sig.length"
DECIMAL_FORMAT = "decimal.format"
LEGACY_5_FIELD = "op.legacy-5-field"
CLOSE_ENVELOPE = "close.envelope"
CLOSE_EMPTY = "close.empty"
TPSL_PRIMARY_TYPE = "tpsl.primary-type"
TPSL_TYPES = "tpsl.types"
TPSL_TYPES_NO_DOMAIN = "tpsl.types-no-domain"
TPSL_SALT_TYPE = "tpsl.salt-string"
CLOSE_OP_COUNT = "close.op-count"

#: The solver takes 1 to 100 wrapped operations per instant_close request (docs/protocol.md §2).
MAX_CLOSE_OPERATIONS = protocol.MAX_CLOSE_OPERATIONS

_DECIMAL_UINT = re.compile(r"(?:0|[1-9][0-9]*)\Z")
_DECIMAL_TEXT = re.compile(r"(0|[1-9][0-9]*)(\.[0-9]+)?\Z")
_HEX = re.compile(r"0x[0-9a-fA-F]*\Z")


def _keys(type_name: str, types: dict[str, Any] = TYPES) -> tuple[str, ...]:
    """The wire keys of a struct: its pinned EIP-712 member names, in order."""
    return tuple(name for name, _ in types[type_name])


SIGNED_OPERATION_KEYS = _keys("SignedOperation")
LEGACY_SIGNED_OPERATION_KEYS = frozenset(
    _keys("SignedOperation", {"SignedOperation": LEGACY_SIGNED_OPERATION})
)


@dataclass
class Parsed(Generic[T]):
    """What reading produced: the typed value (None when it could not be built) and the problems."""

    value: T | None
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]


@lru_cache(maxsize=4096)
def join_path(path: str, key: str | int) -> str:
    """`a.b`, `a[0]`: the JSON paths every Problem carries (cached: the same few paths recur
    in every body)."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return f"the JSON number {value}"
    if isinstance(value, float):
        return f"the JSON number {value!r}"
    if isinstance(value, str):
        shown = value if len(value) <= 48 else value[:45] + "..."
        return f"the string {shown!r}"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


class Reader:
    """Reads JSON values into Python values, recording every defect instead of raising."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, path: str, rule: str, message: str) -> None:
        self.problems.append(Problem(path, rule, message))

    def object(
        self, value: Any, path: str, required: tuple[str, ...], optional: tuple[str, ...] = ()
    ) -> dict[str, Any] | None:
        if not isinstance(value, dict):
            self.add(path, JSON_TYPE, f"expected an object, got {_json_kind(value)}")
            return None
        missing = [k for k in required if k not in value]
        for key in missing:
            self.add(join_path(path, key), JSON_MISSING, "required key is missing")
        for key in value:
            if key not in required and key not in optional:
                self.add(join_path(path, str(key)), JSON_UNKNOWN, "unknown key")
        return value if not missing else None

    def array(self, value: Any, path: str) -> list[Any] | None:
        if not isinstance(value, list):
            self.add(path, JSON_TYPE, f"expected an array, got {_json_kind(value)}")
            return None
        return value

    def string(self, value: Any, path: str) -> str | None:
        if not isinstance(value, str):
            self.add(path, JSON_TYPE, f"expected a string, got {_json_kind(value)}")
            return None
        return value

    def uint_string(
        self, value: Any, path: str, bits: int = 256, format_rule: str = UINT_FORMAT
    ) -> int | None:
        """A uint canonically sent as a decimal string; a JSON integer is read with a warning."""
        if isinstance(value, str):
            if not _DECIMAL_UINT.match(value):
                self.add(
                    path,
                    format_rule,
                    f'expected a decimal string like "1", got {_json_kind(value)}',
                )
                return None
            number = int(value)
        elif isinstance(value, int) and not isinstance(value, bool):
            self.add(
                path,
                UINT_JSON_NUMBER,
                f"{_json_kind(value)}: a JSON integer, as the solver's schema publishes it "
                f'(conforming; the builder guide writes "{value}")',
            )
            number = value
        else:
            self.add(path, format_rule, f"expected a decimal string, got {_json_kind(value)}")
            return None
        return self._range(number, path, 0, (1 << bits) - 1, f"uint{bits}")

    def json_int(self, value: Any, path: str, lo: int, hi: int, type_name: str) -> int | None:
        """An integer canonically sent as a JSON number; a decimal string is read with a warning."""
        if isinstance(value, int) and not isinstance(value, bool):
            return self._range(value, path, lo, hi, type_name)
        if isinstance(value, str) and re.fullmatch(r"-?(0|[1-9][0-9]*)", value):
            self.add(path, INT_STRING, f"expected a JSON number, got {_json_kind(value)}")
            return self._range(int(value), path, lo, hi, type_name)
        self.add(path, INT_FORMAT, f"expected an integer ({type_name}), got {_json_kind(value)}")
        return None

    def _range(self, number: int, path: str, lo: int, hi: int, type_name: str) -> int | None:
        if not lo <= number <= hi:
            self.add(path, UINT_RANGE, f"{number} is out of range for {type_name}")
            return None
        return number

    def address(self, value: Any, path: str) -> str | None:
        if not isinstance(value, str) or not re.fullmatch(r"0x[0-9a-fA-F]{40}", value):
            self.add(
                path,
                ADDRESS_FORMAT,
                f"expected a 0x-prefixed 20-byte address, got {_json_kind(value)}",
            )
            return None
        good = eip55(value)
        if good != value:
            self.add(path, ADDRESS_CHECKSUM, f"address is not EIP-55 checksummed: expected {good}")
            return None
        return good

    def boolean(self, value: Any, path: str) -> bool | None:
        if not isinstance(value, bool):
            self.add(path, BOOL_TYPE, f"expected true or false, got {_json_kind(value)}")
            return None
        return value

    def hex_bytes(
        self, value: Any, path: str, length: int | None = None, length_rule: str = HEX_LENGTH
    ) -> bytes | None:
        if not isinstance(value, str) or not _HEX.match(value):
            self.add(path, HEX_FORMAT, f"expected 0x-prefixed hex, got {_json_kind(value)}")
            return None
        digits = value[2:]
        if len(digits) % 2:
            self.add(
                path, HEX_FORMAT, f"odd number of hex digits ({len(digits)}): a digit is missing"
            )
            return None
        data = bytes.fromhex(digits)
        if length is not None and len(data) != length:
            self.add(
                path,
                length_rule,
                f"expected exactly {length} bytes ({2 * length} hex digits), got {len(data)} bytes",
            )
            return None
        return data

    def decimal_text(self, value: Any, path: str) -> str | None:
        """A non-negative decimal amount in a string, plain positional notation."""
        if not isinstance(value, str):
            self.add(path, JSON_TYPE, f"expected a decimal string, got {_json_kind(value)}")
            return None
        if not _DECIMAL_TEXT.match(value):
            self.add(
                path,
                DECIMAL_FORMAT,
                f'expected a plain decimal string like "1.25", got {_json_kind(value)}',
            )
            return None
        return value


# --------------------------------------------------------------------------------------------
# SignedOperation


@dataclass(frozen=True)
class Convention:
    """How a family of structs travels as JSON: integers as decimal strings (SignedOperations)
    or JSON numbers (TP/SL typed data), with named exceptions. The reader, the writer and the
    JSON Schemas all follow it; nothing else says how a member is written."""

    numbers_as_strings: bool
    string_members: frozenset[str] = frozenset()  # integers sent as strings anyway (salt)
    decimal_members: frozenset[str] = frozenset()  # `string` members holding a decimal amount


#: SignedOperation and its members: every integer a decimal string.
OPERATION = Convention(numbers_as_strings=True)
#: The ConditionalOrder typed data: integers as JSON numbers except the 256-bit salt (which
#: loses precision as one); the legs' amounts are decimal strings, conditionalPriceType is free.
TYPED_DATA = Convention(
    numbers_as_strings=False,
    string_members=frozenset({"salt"}),
    decimal_members=frozenset({"quantity", "price", "conditionalPrice"}),
)
_LEGACY_TYPES = {**TYPES, "SignedOperation": LEGACY_SIGNED_OPERATION}


def _read_struct(
    r: Reader,
    type_name: str,
    value: Any,
    path: str,
    convention: Convention,
    types: dict[str, Any] = TYPES,
    model: Callable[..., Any] | None = None,
) -> Any:
    """A pinned struct read member by member as `types` lists them (every problem reported,
    each under its JSON path); its model value, or None when any member failed."""
    obj = r.object(value, path, _keys(type_name, types))
    if obj is None:
        return None
    values = [
        _read_member(r, member_type, member, obj[member], join_path(path, member), convention)
        for member, member_type in types[type_name]
    ]
    if any(v is None for v in values):
        return None
    return (model or MODELS[type_name])(*values)


def _read_member(
    r: Reader, member_type: str, member: str, value: Any, path: str, convention: Convention
) -> Any:
    if member_type.endswith("[]"):
        items = r.array(value, path)
        if items is None:
            return None
        out = [
            _read_member(r, member_type[:-2], member, item, join_path(path, i), convention)
            for i, item in enumerate(items)
        ]
        return None if any(v is None for v in out) else tuple(out)
    if member_type in TYPES:
        return _read_struct(r, member_type, value, path, convention)
    if member_type == "address":
        return r.address(value, path)
    if member_type == "bool":
        return r.boolean(value, path)
    if member_type == "bytes":
        return r.hex_bytes(value, path)
    if member_type == "string":
        if member in convention.decimal_members:
            return r.decimal_text(value, path)
        return r.string(value, path)
    if member_type.startswith("bytes"):
        return r.hex_bytes(value, path, int(member_type[5:]))
    signed = member_type.startswith("int")
    bits = int(member_type[3:] if signed else member_type[4:])
    if convention.numbers_as_strings:
        return r.uint_string(value, path, bits)
    if member in convention.string_members:
        if isinstance(value, str):
            return r.uint_string(value, path, bits, INT_FORMAT)
        r.add(
            path,
            TPSL_SALT_TYPE,
            f"expected the {member} as a decimal string (a {bits}-bit number loses precision "
            f"as a JSON number), got {_json_kind(value)}",
        )
        return None
    lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
    return r.json_int(value, path, lo, hi, member_type)


def _read_signed_operation(
    r: Reader, value: Any, path: str
) -> SignedOperation | LegacySignedOperation | None:
    """The pinned 7-field op; a body in the legacy 5-field shape is reported (op.legacy-5-field)
    and still read, as a LegacySignedOperation, so every other rule can judge it."""
    if isinstance(value, dict) and set(value) == LEGACY_SIGNED_OPERATION_KEYS:
        r.add(
            path,
            LEGACY_5_FIELD,
            "legacy 5-field SignedOperation (no flexFields, no maxUses): the "
            f"v{protocol.VERSION} InstantLayer verifies the 7-field type, so this signature can "
            "never verify",
        )
        return _read_struct(
            r, "SignedOperation", value, path, OPERATION, _LEGACY_TYPES, LegacySignedOperation
        )
    return _read_struct(r, "SignedOperation", value, path, OPERATION)


# --------------------------------------------------------------------------------------------
# Bodies


def _check_types(r: Reader, value: Any, path: str, primary: str) -> None:
    expected = eip712_types(primary)
    if not isinstance(value, dict):
        r.add(path, JSON_TYPE, f"expected an object, got {_json_kind(value)}")
        return
    if "EIP712Domain" not in value:
        r.add(
            join_path(path, "EIP712Domain"),
            TPSL_TYPES_NO_DOMAIN,
            "EIP712Domain is not listed in types (the docs list it)",
        )
        expected = {k: v for k, v in expected.items() if k != "EIP712Domain"}
    for name, members in expected.items():
        if name not in value:
            r.add(join_path(path, name), TPSL_TYPES, "type is missing")
        elif value[name] != members:
            want = ",".join(f"{m['type']} {m['name']}" for m in members)
            r.add(
                join_path(path, name),
                TPSL_TYPES,
                f"members differ from the pinned type: expected ({want})",
            )
    for name in value:
        if name not in expected:
            r.add(
                join_path(path, str(name)),
                TPSL_TYPES,
                "type is not part of the pinned ConditionalOrder types",
            )


def read_domain(r: Reader, value: Any, path: str) -> Domain | None:
    return _read_struct(r, "EIP712Domain", value, path, TYPED_DATA)


def _read_conditional_order(r: Reader, value: Any, path: str) -> ConditionalOrder | None:
    return _read_struct(r, "ConditionalOrder", value, path, TYPED_DATA)


def _strict(parsed: Parsed[T]) -> T:
    if parsed.problems or parsed.value is None:
        raise WireError(parsed.problems)
    return parsed.value


def instant_open_from_wire(body: Any) -> InstantOpen:
    """Strict: the canonical documented form only; WireError lists every problem."""
    return _strict(parse_instant_open(body))


def instant_close_from_wire(body: Any) -> InstantClose:
    return _strict(parse_instant_close(body))


def tpsl_from_wire(body: Any) -> TpslRequest:
    return _strict(parse_tpsl(body))


def wrapped_operation_from_wire(value: Any) -> WrappedOperation:
    return _strict(parse_wrapped_operation(value))


def detect_kind(body: Any) -> str | None:
    """'instant_open', 'instant_close' or 'tpsl' from the body's shape; None if none fits."""
    if isinstance(body, list):
        return "instant_close"
    if isinstance(body, dict):
        if "addMargin" in body or "sendQuote" in body:
            return "instant_open"
        if set(body) == {"operations"}:
            return "instant_close"
        if "typedData" in body:
            return "tpsl"
        if "signedOperation" in body:
            return "instant_close"  # a single wrapped op: reported as a non-list close
    return None


# --------------------------------------------------------------------------------------------
# Reading part by part (for the validator): every part that can be read is returned, so that one
# bad operation (or a bad signature) does not hide the rules that apply to the rest of the body.


@dataclass
class OperationParts:
    """One wrapped operation as far as it could be read; `path` is its JSON path."""

    path: str
    signed_operation: SignedOperation | LegacySignedOperation | None = None
    signature: bytes | None = None


@dataclass
class InstantOpenParts:
    add_margin: OperationParts | None
    send_quote: OperationParts | None


@dataclass
class TpslParts:
    domain: Domain | None
    order: ConditionalOrder | None
    signer: str | None
    signature: bytes | None


_WRAPPED_KEYSET = frozenset(("signedOperation", "signature"))
_UINT256_DIGITS = 78


def _fast_uint(value: Any, bits: int = 256) -> int:
    if value.__class__ is not str or len(value) > _UINT256_DIGITS or not _DECIMAL_UINT.match(value):
        raise NotCanonical
    number = int(value)
    if number >> bits:
        raise NotCanonical
    return number


def _fast_address(value: Any) -> str:
    if value.__class__ is not str or not _is_checksummed(value):
        raise NotCanonical
    return value


def _fast_hex(value: Any, length: int | None = None) -> bytes:
    if value.__class__ is not str or value[:2] != "0x":
        raise NotCanonical
    try:
        data = bytes.fromhex(value[2:])
    except ValueError:
        raise NotCanonical from None
    # fromhex skips whitespace: the length proves there was none (and the digit count even)
    if 2 * len(data) != len(value) - 2 or (length is not None and len(data) != length):
        raise NotCanonical
    return data


def _fast_bool(value: Any) -> bool:
    if value.__class__ is not bool:
        raise NotCanonical
    return value


def _fast_list(value: Any) -> list[Any]:
    if value.__class__ is not list:
        raise NotCanonical
    return value


def _fast_member(member_type: str, value: str) -> str:
    """Source reading one member in its canonical OPERATION form, or raising NotCanonical."""
    if member_type.endswith("[]"):
        item = _fast_member(member_type[:-2], "item")
        return f"tuple([{item} for item in _fast_list({value})])"
    if member_type in TYPES:
        return f"_fast_{member_type}({value})"
    if member_type in ("address", "bool", "bytes"):
        return f"_fast_{'hex' if member_type == 'bytes' else member_type}({value})"
    if member_type.startswith("bytes"):
        return f"_fast_hex({value}, {int(member_type[5:])})"
    if member_type.startswith("uint"):
        return f"_fast_uint({value}, {int(member_type[4:])})"
    raise TypeError(f"no canonical operation form for member type {member_type}")


def _compile_fast_readers(roots: tuple[str, ...], cached: frozenset[str]) -> dict[str, Any]:
    """One reader per struct reachable from `roots`, generated from TYPES: the exact key set,
    then each member in its canonical OPERATION form (raising NotCanonical, KeyError,
    AttributeError or TypeError at the first difference), the model built without re-checking
    what was just proved. Types in `cached` (accounts) recur and share one value each."""
    names = sorted({*roots, *(t for root in roots for t in referenced_types(root))})
    namespace: dict[str, Any] = {
        "_NC": NotCanonical,
        "_fast_address": _fast_address,
        "_fast_bool": _fast_bool,
        "_fast_hex": _fast_hex,
        "_fast_list": _fast_list,
        "_fast_uint": _fast_uint,
    }
    lines = []
    for name in names:
        make = unchecked(MODELS[name])
        namespace[f"_make_{name}"] = lru_cache(maxsize=1 << 12)(make) if name in cached else make
        namespace[f"_KEYS_{name}"] = frozenset(_keys(name))
        members = ", ".join(_fast_member(t, f"value[{m!r}]") for m, t in TYPES[name])
        lines += [
            f"def _fast_{name}(value):",
            f"    if value.keys() != _KEYS_{name}:",
            "        raise _NC",
            f"    return _make_{name}({members})",
        ]
    exec(compile("\n".join(lines), "<wire fast readers>", "exec"), namespace)  # our own source
    return {name: namespace[f"_fast_{name}"] for name in names}


_FAST_SIGNED_OPERATION = _compile_fast_readers(("SignedOperation",), frozenset(("Account",)))[
    "SignedOperation"
]


def _fast_operation_parts(value: Any, path: str) -> OperationParts | None:
    """A wrapped operation in the canonical documented form, read with no bookkeeping; None
    when anything at all differs (the full reader then reports it). Same values either way."""
    try:
        if value.keys() != _WRAPPED_KEYSET:
            return None
        signed = _FAST_SIGNED_OPERATION(value["signedOperation"])
        return OperationParts(path, signed, _fast_hex(value["signature"], 65))
    except (NotCanonical, AttributeError, KeyError, TypeError):
        return None


def _read_operation_parts(r: Reader, value: Any, path: str) -> OperationParts:
    fast = _fast_operation_parts(value, path)
    if fast is not None:
        return fast
    parts = OperationParts(path)
    r.object(value, path, ("signedOperation", "signature"))
    if not isinstance(value, dict):
        return parts
    if "signedOperation" in value:
        path_op = join_path(path, "signedOperation")
        parts.signed_operation = _read_signed_operation(r, value["signedOperation"], path_op)
    if "signature" in value:
        parts.signature = r.hex_bytes(
            value["signature"], join_path(path, "signature"), 65, SIG_LENGTH
        )
    return parts


def parse_instant_open_parts(body: Any) -> Parsed[InstantOpenParts]:
    """Like `parse_instant_open`, but each operation is read even when the other is bad."""
    r = Reader()
    r.object(body, "", *INSTANT_OPEN_KEYS)  # {addMargin?, sendQuote}
    if not isinstance(body, dict):
        return Parsed(None, r.problems)
    add_margin, send_quote = (
        _read_operation_parts(r, body[key], key) if key in body else None
        for key in ("addMargin", "sendQuote")
    )
    return Parsed(InstantOpenParts(add_margin, send_quote), r.problems)


def parse_instant_close_parts(
    body: Any, max_operations: int = MAX_CLOSE_OPERATIONS
) -> Parsed[list[OperationParts]]:
    """Like `parse_instant_close`, per operation. A list longer than `max_operations` is
    reported (CLOSE_OP_COUNT) and its operations are not read, which bounds the work."""
    r = Reader()
    items: Any = body
    base = ""
    if isinstance(body, dict) and set(body) == {"operations"}:
        r.add(
            "",
            CLOSE_ENVELOPE,
            'close body wrapped as {"operations": [...]} (SDK-style); the documented body is a '
            "bare JSON list of wrapped operations",
        )
        items, base = body["operations"], "operations"
    ops_json = r.array(items, base)
    if ops_json is None:
        return Parsed(None, r.problems)
    if not ops_json:
        r.add(base, CLOSE_EMPTY, "the close list is empty: send one or more wrapped operations")
        return Parsed(None, r.problems)
    if len(ops_json) > max_operations:
        r.add(
            base,
            CLOSE_OP_COUNT,
            f"{len(ops_json)} operations in one close request; the solver takes 1 to "
            f"{max_operations} (the operations were not checked one by one)",
        )
        return Parsed(None, r.problems)
    ops = [_read_operation_parts(r, item, join_path(base, i)) for i, item in enumerate(ops_json)]
    return Parsed(ops, r.problems)


def parse_grant_operation_parts(body: Any) -> Parsed[list[OperationParts]]:
    """A v0.8.6 grant operation body (real-world.md §2.5), per operation: one wrapped operation
    `{signedOperation, signature}`, or a list of them read as a close list is."""
    if isinstance(body, list):
        return parse_instant_close_parts(body)
    r = Reader()
    return Parsed([_read_operation_parts(r, body, "")], r.problems)


def _complete(parts: OperationParts | None) -> WrappedOperation | None:
    if (
        parts is None
        or not isinstance(parts.signed_operation, SignedOperation)
        or parts.signature is None
    ):
        return None
    return WrappedOperation(parts.signed_operation, parts.signature)


def parse_wrapped_operation(value: Any, path: str = "") -> Parsed[WrappedOperation]:
    r = Reader()
    return Parsed(_complete(_read_operation_parts(r, value, path)), r.problems)


def parse_instant_open(body: Any) -> Parsed[InstantOpen]:
    """The whole instant_open body; `value` is None unless sendQuote and, when present,
    addMargin read (the documented shape is {addMargin?, sendQuote})."""
    parsed = parse_instant_open_parts(body)
    parts = parsed.value
    add_margin = _complete(parts.add_margin) if parts else None
    send_quote = _complete(parts.send_quote) if parts else None
    if send_quote is None or (parts.add_margin is not None and add_margin is None):  # type: ignore[union-attr]
        return Parsed(None, parsed.problems)
    return Parsed(InstantOpen(add_margin, send_quote), parsed.problems)


def parse_instant_close(body: Any) -> Parsed[InstantClose]:
    """The whole instant_close body; `value` is None unless every operation reads."""
    parsed = parse_instant_close_parts(body)
    ops = [_complete(p) for p in parsed.value or ()]
    if not ops or any(op is None for op in ops):
        return Parsed(None, parsed.problems)
    return Parsed(InstantClose(tuple(ops)), parsed.problems)  # type: ignore[arg-type]


def parse_tpsl(body: Any) -> Parsed[TpslRequest]:
    """The whole TP/SL body; `value` is None when any part is missing or has an error."""
    parsed = parse_tpsl_parts(body)
    parts = parsed.value
    if (
        parsed.errors
        or parts is None
        or None in (parts.domain, parts.order, parts.signer, parts.signature)
    ):
        return Parsed(None, parsed.problems)
    return Parsed(
        TpslRequest(parts.domain, parts.order, parts.signer, parts.signature),  # type: ignore[arg-type]
        parsed.problems,
    )


def parse_tpsl_parts(body: Any) -> Parsed[TpslParts]:
    """Like `parse_tpsl`, but the domain, the order, the signer and the signature are each
    returned when they read, whatever happened to the others."""
    r = Reader()
    r.object(body, "", ("typedData", "signature", "signer"))
    if not isinstance(body, dict):
        return Parsed(None, r.problems)
    parts = TpslParts(None, None, None, None)
    if "signer" in body:
        parts.signer = r.address(body["signer"], "signer")
    if "signature" in body:
        parts.signature = r.hex_bytes(body["signature"], "signature", 65, SIG_LENGTH)
    if "typedData" not in body:
        return Parsed(parts, r.problems)
    typed = body["typedData"]
    r.object(typed, "typedData", ("types", "primaryType", "domain", "message"))
    if not isinstance(typed, dict):
        return Parsed(parts, r.problems)
    if "primaryType" in typed and typed["primaryType"] != "ConditionalOrder":
        r.add(
            "typedData.primaryType",
            TPSL_PRIMARY_TYPE,
            f'expected "ConditionalOrder", got {_json_kind(typed["primaryType"])}',
        )
    if "types" in typed:
        _check_types(r, typed["types"], "typedData.types", "ConditionalOrder")
    if "domain" in typed:
        parts.domain = read_domain(r, typed["domain"], "typedData.domain")
    if "message" in typed:
        parts.order = _read_conditional_order(r, typed["message"], "typedData.message")
    return Parsed(parts, r.problems)


# --------------------------------------------------------------------------------------------
# Writing


def struct_to_wire(value: object, type_name: str, convention: Convention) -> dict[str, Any]:
    """A pinned struct as wire JSON, derived from `eip712.TYPES` (each member read from the
    model attribute of its name): byte strings as 0x-hex, integers as `convention` says."""
    out: dict[str, Any] = {}
    for member, member_type in TYPES[type_name]:
        item = getattr(value, attribute(member))
        array = member_type.endswith("[]")
        base = member_type[:-2] if array else member_type
        if base in TYPES:
            if array:
                out[member] = [struct_to_wire(x, base, convention) for x in item]
            else:
                out[member] = struct_to_wire(item, base, convention)
        elif base.startswith("bytes"):
            out[member] = [to_hex(x) for x in item] if array else to_hex(item)
        elif base.startswith(("uint", "int")):
            as_string = convention.numbers_as_strings or member in convention.string_members
            out[member] = str(int(item)) if as_string else int(item)
        else:
            out[member] = list(item) if array else item
    return out


def signed_operation_to_wire(op: SignedOperation) -> dict[str, Any]:
    return struct_to_wire(op, "SignedOperation", OPERATION)


def wrapped_operation_to_wire(op: WrappedOperation) -> dict[str, Any]:
    return {
        "signedOperation": signed_operation_to_wire(op.signed_operation),
        "signature": to_hex(op.signature),
    }


def instant_open_to_wire(body: InstantOpen) -> dict[str, Any]:
    out = {"sendQuote": wrapped_operation_to_wire(body.send_quote)}
    if body.add_margin is not None:
        out = {"addMargin": wrapped_operation_to_wire(body.add_margin), **out}
    return out


def instant_close_to_wire(body: InstantClose) -> list[dict[str, Any]]:
    return [wrapped_operation_to_wire(op) for op in body.operations]


def domain_to_wire(domain: Domain) -> dict[str, Any]:
    return domain.as_dict()


def leg_to_wire(leg: Leg) -> dict[str, Any]:
    """A TP/SL leg as wire JSON (TakeProfit/StopLoss, or SendQuote with its leverage)."""
    type_name = "SendQuote" if isinstance(leg, SendQuoteLeg) else "TakeProfit"
    return struct_to_wire(leg, type_name, TYPED_DATA)


def conditional_order_to_wire(order: ConditionalOrder) -> dict[str, Any]:
    return struct_to_wire(order, "ConditionalOrder", TYPED_DATA)


def tpsl_to_wire(request: TpslRequest) -> dict[str, Any]:
    return {
        "typedData": {
            "types": eip712_types("ConditionalOrder"),
            "primaryType": "ConditionalOrder",
            "domain": domain_to_wire(request.domain),
            "message": conditional_order_to_wire(request.order),
        },
        "signature": to_hex(request.signature),
        "signer": request.signer,
    }
