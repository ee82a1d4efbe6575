"""One revert decoder: whatever a node or eth-tester raised becomes `(error name, args)`.

Sources of revert data, all handled by `revert_data`:
- eth-tester `TransactionFailed`: custom-error bytes only as a bytes repr inside the message
  (`execution reverted: b'...'`), an `Error(string)` already decoded to its plain text;
- web3 `ContractLogicError` / `ContractCustomError` / `ContractPanicError` (JSON-RPC nodes, anvil):
  the raw data as 0x-hex in `.data` (sometimes a dict with a `data` key);
- a JSON-RPC error object `{"code": 3, "message": ..., "data": "0x..."}`, raw bytes or 0x-hex.

Names come from the error ABIs of the compiled contracts plus `Error(string)` and
`Panic(uint256)`; `OperationFailed(index, bytes)` is decoded recursively, so a routed failure
reads `("OperationFailed", (0, ("Error", ("SymmioCore: insufficient free balance",))))`.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_utils import to_checksum_address

from . import artifacts
from .errors import HarnessError
from .primitives import keccak, to_hex

ERROR_STRING_SELECTOR = keccak(b"Error(string)")[:4]
PANIC_SELECTOR = keccak(b"Panic(uint256)")[:4]
#: The name given to a revert without data (a missing function, a bare `revert()`).
EMPTY_REVERT = "<empty>"
#: The inner revert of OperationFailed is decoded again under this error's name.
OPERATION_FAILED = "OperationFailed"

Decoded = tuple[str, tuple[Any, ...]]


@dataclass(frozen=True)
class ErrorSpec:
    name: str
    types: tuple[str, ...]

    @property
    def signature(self) -> str:
        return f"{self.name}({','.join(self.types)})"


def error_table(abis: Iterable[list[dict[str, Any]]]) -> dict[bytes, ErrorSpec]:
    """selector -> ErrorSpec for every error entry of the given ABIs, plus Error and Panic."""
    table = {
        ERROR_STRING_SELECTOR: ErrorSpec("Error", ("string",)),
        PANIC_SELECTOR: ErrorSpec("Panic", ("uint256",)),
    }
    for entries in abis:
        for entry in entries:
            if entry.get("type") == "error":
                spec = ErrorSpec(
                    entry["name"], tuple(artifacts.canonical_type(i) for i in entry["inputs"])
                )
                table[keccak(spec.signature.encode())[:4]] = spec
    return table


@cache
def default_error_table() -> dict[bytes, ErrorSpec]:
    """The error ABIs of every compiled mock contract."""
    return error_table(artifacts.abi(name) for name in artifacts.CONTRACT_NAMES)


def decode_revert_data(data: bytes, table: dict[bytes, ErrorSpec] | None = None) -> Decoded:
    """(error name, args) of raw revert data; addresses in EIP-55 form."""
    table = default_error_table() if table is None else table
    data = bytes(data)
    if len(data) < 4:
        return (EMPTY_REVERT, ()) if not data else (f"<short 0x{data.hex()}>", ())
    spec = table.get(data[:4])
    if spec is None:
        return (f"<unknown 0x{data[:4].hex()}>", (data[4:],))
    try:
        values = abi_decode(list(spec.types), data[4:])
    except Exception:  # eth-abi raises several unrelated types for malformed payloads
        return (f"{spec.name}<malformed>", (data[4:],))
    args = tuple(
        to_checksum_address(v) if t == "address" else v
        for t, v in zip(spec.types, values, strict=True)
    )
    if spec.name == OPERATION_FAILED:
        index, inner = args
        args = (index, decode_revert_data(inner, table))
    return spec.name, args


def revert_data(error: Any) -> bytes | None:
    """The raw revert data carried by an exception, a JSON-RPC error object, bytes or 0x-hex.

    None when there is none to find (the exception was not a revert).
    """
    if isinstance(error, bytes | bytearray):
        return bytes(error)
    if isinstance(error, dict):
        return revert_data(error.get("data")) if "data" in error else None
    if isinstance(error, str):
        return _from_text(error)
    if isinstance(error, BaseException):
        data = getattr(error, "data", None)  # web3 ContractLogicError family
        if data is not None:
            found = revert_data(data)
            if found is not None:
                return found
        if _is_transaction_failed(error) and error.args:
            first = error.args[0]
            # eth-tester sometimes wraps the failure in another exception
            return revert_data(first) if isinstance(first, BaseException) else _tester(first)
    return None


def decode_revert(error: Any, table: dict[bytes, ErrorSpec] | None = None) -> Decoded:
    """(error name, args) of anything `revert_data` understands; HarnessError if it finds none."""
    data = revert_data(error)
    if data is None:
        raise HarnessError(f"not a revert: {error!r}")
    return decode_revert_data(data, table)


def format_revert(decoded: Decoded) -> str:
    """`OperationFailed(0, InvalidDelegation())`: the decoded revert as one readable line."""
    name, args = decoded
    if name == OPERATION_FAILED and len(args) == 2 and isinstance(args[1], tuple):
        return f"{name}({args[0]}, {format_revert(args[1])})"
    return f"{name}({', '.join(_format_arg(a) for a in args)})"


class Reverted(HarnessError):
    """A transaction or call reverted; `name` and `args` are the decoded error."""

    def __init__(self, step: str, decoded: Decoded, data: bytes) -> None:
        self.step = step
        self.name, self.error_args = decoded
        self.decoded = decoded
        self.data = data
        super().__init__(f"{step}: reverted with {format_revert(decoded)}")


# ------------------------------------------------------------------------------------- helpers


def _is_transaction_failed(error: BaseException) -> bool:
    # matched by name: eth-tester is an optional dependency of whoever calls the decoder
    return type(error).__name__ == "TransactionFailed"


def _tester(message: Any) -> bytes | None:
    """eth-tester's message: a bytes repr for custom errors, plain text for Error(string)."""
    if isinstance(message, bytes | bytearray):
        return bytes(message)
    if not isinstance(message, str):
        return None
    text = message.removeprefix("execution reverted: ")
    if text.startswith(("b'", 'b"')):
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            value = None
        if isinstance(value, bytes):
            return value
    if text == "execution reverted":
        return b""
    return ERROR_STRING_SELECTOR + abi_encode(["string"], [text])


def _from_text(text: str) -> bytes | None:
    """0x-hex, or a node's `Reverted 0x...` form."""
    body = text.removeprefix("Reverted ").strip()
    if body[:2] in ("0x", "0X"):
        try:
            return bytes.fromhex(body[2:])
        except ValueError:
            return None
    return None


def _format_arg(value: Any) -> str:
    if isinstance(value, bytes):
        return to_hex(value)
    if isinstance(value, str):
        return value if value.startswith("0x") else repr(value)
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str):
        return format_revert(value)  # type: ignore[arg-type]
    return str(value)
