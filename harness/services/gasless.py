"""The mock gasless relay: the GaslessQ "operations" service subset the official SDK's relay calls.

A frontend relays its owner-signed v0.8.6 grant operation (real-world.md §2.5) without gas, as the
Trading-SDK's `relayInstantOperations` does, and polls it as `getGaslessRequest` /
`waitForGaslessRequest` do. Served only on a deployment with a GaslessLayer (v0.8.6); on v0.8.5
nothing is mounted, so the routes are the server's 404.

What the SDK publishes, and where it was read (SYMM-IO/Trading-SDK, packages/core/src/gasless/,
read with the search tools; the generated models `types/generated/gasless-operations.ts` are not
in the readable index, so the shapes are taken from what aliases and parses them):
- `wire-types.ts`: the relay body is `SignedOperationRequest` (`GaslessWireRelayInstantRequest`),
  the 202 answer `OperationAcceptedResponse` {request_id, status, paid_fee,
  remaining_fee_allowance} (decimal strings), the record `OperationStatusResponse` keyed `id`;
  requests camelCase, answers snake_case, unknown top-level request fields rejected, walletIds
  decimal strings (omitted: one "0" per operation; an explicit empty or mismatched array is
  rejected), uints of an operation JSON numbers.
- `format-gasless-operation.ts` (`formatGaslessOperation`): each operation
  {signer, target, callData, signerAccount{addr,isPartyB}, flexFields, maxUses, replayAttackHeader}.
- `relay-instant-operations/relay-instant-operations.ts`: POST `/gateway/relay-instant` under the
  operations service base, the idempotency key in the body (`idempotencyKey`, at most 128 chars;
  a retry with the same key and the byte-identical body returns the existing record).
- `http.ts` (`resolveGaslessHttp`): a proxy-root `gasless.url` (a URL with a path) gets
  `/{service}` appended, so with `gasless_url` = `{base}/gasless` the operations base is
  `{base}/gasless/operations`; `getGaslessRequest` reads `GET {operations base}/{request_id}`.
- `types.ts` (`GaslessRequestStatus`): queued, submitted, succeeded, reverted, failed, rejected.
- `errors.ts` (`parseGaslessErrorDetail`): an error body is `{"detail": {code, message, details}}`
  with a decoded revert in `details.contract_revert` {selector, error, signature, arguments}, or a
  FastAPI 422 `{"detail": [{loc, msg, type}]}`; `fee-limit.ts` (`isConfirmedGaslessFeeLimitError`):
  a 400 `SIMULATION_REVERTED` whose revert names `FeeLimitExceeded` is the fee-limit error;
  `unconfirmed-submit.ts` (`isGaslessIdempotencyConflictError`): 409 `IDEMPOTENCY_KEY_CONFLICT`.

Named policies where nothing is published (each a constant below, pinned by a test):
- the mock relays **grant operations only** (target the InstantLayer, callData grantDelegation or
  grantDelegations): anything else is refused as `OPERATION_NOT_RELAYED`, naming the target and
  selector; templates, gasless wallets (walletIds other than "0") and fills likewise;
- every operation is judged by the validator as a `grant_operation` body first; a violation is
  `OPERATION_REFUSED` (400) with the rule ids and findings;
- the batch is simulated (eth_call of `relayWalletBatch` from the relayer) before it is accepted:
  a revert is the SDK's 400 `SIMULATION_REVERTED` with the contract's error (FeeLimitExceeded,
  MaxUsesExceeded for a replayed operation, InvalidDelegation, ...), nothing executed;
- the chain work is done before the 202, so the acceptance already carries the terminal status
  (`succeeded`, or `reverted` if the mined relay reverted after a clean simulation);
- `paid_fee` is the GaslessLayer's `defaultSelectorFee` times the operations (18-decimal wei);
  the mock keeps no fee allowance, so `remaining_fee_allowance` is "0";
- a key is bound only by an accepted request (a refusal binds nothing), and "same body" means
  the same JSON value (key order and whitespace aside); an `Idempotency-Key` header is read as
  the key when the body has none (the SDK sends it in the body) and must agree with it otherwise.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .. import calldata as cd
from .. import wire
from ..model import WrappedOperation
from ..primitives import to_hex
from ..protocol import GRANT_OPERATION
from ..revert import Reverted, default_error_table, format_revert
from .backend import Backend
from .errors import ServiceRefusal
from .plumbing import guarded_by, read_json, validator_for
from .published import harness_headers

log = logging.getLogger("harness.services")

#: where `serve` mounts the relay; `/context`'s `gasless_url` is the server's base + this
PREFIX = "/gasless"
#: the service segment the SDK appends to a proxy-root gasless url (http.ts)
OPERATIONS = "/operations"
#: the relay submit, under the operations base (relay-instant-operations.ts)
RELAY_INSTANT_PATH = "/gateway/relay-instant"
#: the header a client may carry the key in (the SDK puts it in the body)
IDEMPOTENCY_HEADER = "Idempotency-Key"
#: wire-types.ts / relay-instant-operations.ts: the key and operationType are at most 128 chars
MAX_KEY_CHARS = 128
MAX_OPERATION_TYPE_CHARS = 128

#: SignedOperationRequest's fields (wire-types.ts); any other top-level field is rejected
REQUIRED_FIELDS = ("userAddress", "operationType", "signedOps", "signatures")
OPTIONAL_FIELDS = (
    "idempotencyKey",
    "accountId",
    "templateId",
    "fills",
    "flexFillerSignatures",
    "walletIds",
    "metadata",
)

#: GaslessRequestStatus (types.ts)
QUEUED, SUBMITTED, SUCCEEDED, REVERTED, FAILED, REJECTED = (
    "queued",
    "submitted",
    "succeeded",
    "reverted",
    "failed",
    "rejected",
)
STATUSES = (QUEUED, SUBMITTED, SUCCEEDED, REVERTED, FAILED, REJECTED)
TERMINAL = frozenset((SUCCEEDED, REVERTED, FAILED, REJECTED))

#: vendor codes the SDK branches on (errors.ts, fee-limit.ts, unconfirmed-submit.ts)
IDEMPOTENCY_KEY_CONFLICT = "IDEMPOTENCY_KEY_CONFLICT"
SIMULATION_REVERTED = "SIMULATION_REVERTED"
#: the mock's own codes (not published): a body the validator refuses, an operation the mock
#: does not relay, an unknown request id, a body that cannot be read
OPERATION_REFUSED = "OPERATION_REFUSED"
OPERATION_NOT_RELAYED = "OPERATION_NOT_RELAYED"
REQUEST_NOT_FOUND = "REQUEST_NOT_FOUND"
BODY_UNREADABLE = "BODY_UNREADABLE"
INTERNAL_ERROR = "INTERNAL_ERROR"

#: the mock keeps no operational-fee allowance (named policy above)
NO_FEE_ALLOWANCE = "0"

#: what a grant operation calls (real-world.md §2.5), by selector
GRANT_SELECTORS = {
    cd.GRANT_DELEGATION.selector: cd.GRANT_DELEGATION.name,
    cd.GRANT_DELEGATIONS.selector: cd.GRANT_DELEGATIONS.name,
}


#: where the shapes below were read (SYMM-IO/Trading-SDK); the generated models they alias,
#: `types/generated/gasless-operations.ts`, are not in the readable index
SDK_GASLESS = "SYMM-IO/Trading-SDK packages/core/src/gasless"
_STR = {"type": "string"}
_DECIMAL = {"type": "string", "pattern": "^[0-9]+$"}
_NULLABLE_STR = {"type": ["string", "null"]}


def schemas() -> dict[str, dict[str, Any]]:
    """The JSON Schemas of the relay's shapes (the OpenAPI document's components), each citing
    the SDK file it was read from (`x-source`)."""
    operation = {
        "type": "object",
        "x-source": f"{SDK_GASLESS}/format-gasless-operation.ts (formatGaslessOperation)",
        "required": ["signer", "target", "callData", "signerAccount", "replayAttackHeader"],
        "properties": {
            "signer": _STR,
            "target": _STR,
            "callData": _STR,
            "signerAccount": {
                "type": "object",
                "required": ["addr", "isPartyB"],
                "properties": {"addr": _STR, "isPartyB": {"type": "boolean"}},
            },
            "flexFields": {"type": "array", "items": {"type": "object"}},
            "maxUses": {"type": "integer", "minimum": 0},
            "replayAttackHeader": {
                "type": "object",
                "required": ["nonce", "deadline", "salt"],
                "properties": {
                    "nonce": {"type": ["integer", "string"]},
                    "deadline": {"type": ["integer", "string"]},
                    "salt": _STR,
                },
            },
        },
    }
    lists = {"type": "array", "items": {"type": "array", "items": _STR}}
    request = {
        "type": "object",
        "x-source": f"{SDK_GASLESS}/wire-types.ts (GaslessWireRelayInstantRequest = "
        "SignedOperationRequest); relay-instant-operations/relay-instant-operations.ts",
        "required": list(REQUIRED_FIELDS),
        "additionalProperties": False,
        "properties": {
            "idempotencyKey": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_CHARS},
            "userAddress": _STR,
            "accountId": _STR,
            "operationType": {
                "type": "string",
                "minLength": 1,
                "maxLength": MAX_OPERATION_TYPE_CHARS,
            },
            "templateId": {"type": ["integer", "null"], "minimum": 0},
            "signedOps": {"type": "array", "items": operation},
            "signatures": {"type": "array", "items": _STR},
            "fills": lists,
            "flexFillerSignatures": lists,
            "walletIds": {"type": "array", "items": _DECIMAL},
            "metadata": {"type": "object"},
        },
    }
    accepted = {
        "type": "object",
        "x-source": f"{SDK_GASLESS}/wire-types.ts (GaslessWireOperationAccepted = "
        "OperationAcceptedResponse); relay-instant-operations.ts (toGaslessSubmitReceipt)",
        "required": ["request_id", "status", "paid_fee", "remaining_fee_allowance"],
        "properties": {
            "request_id": _STR,
            "status": {"enum": list(STATUSES)},
            "paid_fee": _DECIMAL,
            "remaining_fee_allowance": _DECIMAL,
        },
    }
    record = {
        "type": "object",
        "x-source": f"{SDK_GASLESS}/wire-types.ts (GaslessWireOperationRecord = "
        "OperationStatusResponse); get-gasless-request/to-gasless-request.ts",
        "required": ["id", "user_address", "operation_type", "payload", "status"],
        "properties": {
            "id": _STR,
            "idempotency_key": _NULLABLE_STR,
            "user_address": _STR,
            "account_id": _NULLABLE_STR,
            "operation_type": _STR,
            "payload": {"type": "object"},
            "status": {"enum": list(STATUSES)},
            "fee_amount_raw": {"type": ["string", "null"], "pattern": "^[0-9]+$"},
            "tx_hash": _NULLABLE_STR,
            "error_code": _NULLABLE_STR,
            "error_message": _NULLABLE_STR,
            "created_at": _STR,
            "updated_at": _STR,
        },
    }
    error = {
        "x-source": f"{SDK_GASLESS}/errors.ts (parseGaslessErrorDetail: the service's "
        "{detail: {code, message, details}} or FastAPI's 422 {detail: [{loc, msg, type}]})",
        "type": "object",
        "required": ["detail"],
        "properties": {
            "detail": {
                "oneOf": [
                    {
                        "type": "object",
                        "required": ["code", "message", "details"],
                        "properties": {
                            "code": _STR,
                            "message": _STR,
                            "details": {"type": "object"},
                        },
                    },
                    {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["loc", "msg", "type"],
                            "properties": {
                                "loc": {"type": "array"},
                                "msg": _STR,
                                "type": _STR,
                            },
                        },
                    },
                ]
            }
        },
    }
    return {
        "GaslessSignedOperation": operation,
        "SignedOperationRequest": request,
        "OperationAcceptedResponse": accepted,
        "OperationStatusResponse": record,
        "GaslessErrorResponse": error,
    }


class GaslessRefusal(Exception):
    """A refusal in the vendor's envelope: `{"detail": {code, message, details}}`, or, for a
    body of the wrong shape, FastAPI's 422 `{"detail": [{loc, msg, type}]}` (`issues`)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: dict[str, Any] | None = None,
        issues: list[dict[str, Any]] | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.details = details or {}
        self.issues = issues
        super().__init__(f"{status} {code} {message}")

    def body(self) -> dict[str, Any]:
        if self.issues is not None:
            return {"detail": self.issues}
        return {"detail": {"code": self.code, "message": self.message, "details": self.details}}


_INTERNAL = GaslessRefusal(500, INTERNAL_ERROR, "internal error of the mock relay (see its log)")


def _refused(refusal: Exception) -> Response:
    """A refusal in the vendor's envelope; a body the plumbing cannot read (415, 413, duplicate
    keys, not JSON) keeps its status under BODY_UNREADABLE."""
    if isinstance(refusal, ServiceRefusal):
        refusal = GaslessRefusal(
            refusal.error.http_status, BODY_UNREADABLE, refusal.detail or refusal.error.message
        )
    assert isinstance(refusal, GaslessRefusal)
    return JSONResponse(refusal.body(), status_code=refusal.status)


#: `plumbing.guarded` in the relay's envelope (its own refusals and the plumbing's).
_guarded = guarded_by(
    _refused,
    lambda: JSONResponse(_INTERNAL.body(), status_code=500),
    (GaslessRefusal, ServiceRefusal),
)


def shape_error(issues: list[dict[str, Any]]) -> GaslessRefusal:
    first = issues[0]
    where = ".".join(str(part) for part in first["loc"])
    return GaslessRefusal(422, "VALIDATION_ERROR", f"{where}: {first['msg']}", issues=issues)


def _issue(loc: tuple[str | int, ...], msg: str, kind: str) -> dict[str, Any]:
    return {"loc": ["body", *loc], "msg": msg, "type": kind}


def _now_iso() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def contract_revert(exc: Reverted) -> dict[str, Any]:
    """`details.contract_revert` as errors.ts reads it: selector, error name, full signature and
    the arguments, positional (uints as decimal strings, bytes 0x-hex)."""
    data = bytes(exc.data)
    spec = default_error_table().get(data[:4]) if len(data) >= 4 else None
    out: dict[str, Any] = {
        "selector": to_hex(data[:4]) if len(data) >= 4 else "0x",
        "error": exc.name,
        "arguments": [_argument(a) for a in exc.error_args],
    }
    if spec is not None:
        out["signature"] = spec.signature
    return out


def _argument(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, bytes):
        return to_hex(value)
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str):
        return format_revert(value)  # type: ignore[arg-type]  # a decoded inner revert
    return value


@dataclass
class RelayRecord:
    """One accepted relay request: the stored `OperationStatusResponse`."""

    id: str
    idempotency_key: str | None
    fingerprint: str
    user_address: str
    account_id: str | None
    operation_type: str
    payload: dict[str, Any]
    status: str
    paid_fee: int
    tx_hash: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    created_at: str = field(default_factory=_now_iso)
    updated_at: str = field(default_factory=_now_iso)

    def accepted(self) -> dict[str, Any]:
        """`OperationAcceptedResponse` (wire-types.ts; relay-instant-operations.ts parses it)."""
        return {
            "request_id": self.id,
            "status": self.status,
            "paid_fee": str(self.paid_fee),
            "remaining_fee_allowance": NO_FEE_ALLOWANCE,
        }

    def to_json(self) -> dict[str, Any]:
        """`OperationStatusResponse` (wire-types.ts; get-gasless-request/to-gasless-request.ts
        reads id, status, tx_hash, error_code, error_message, idempotency_key, user_address,
        payload.wallet_ids, created_at, updated_at, operation_type, account_id, fee_amount_raw)."""
        return {
            "id": self.id,
            "idempotency_key": self.idempotency_key,
            "user_address": self.user_address,
            "account_id": self.account_id,
            "operation_type": self.operation_type,
            "payload": self.payload,
            "status": self.status,
            "fee_amount_raw": str(self.paid_fee),
            "tx_hash": self.tx_hash,
            "error_code": self.error_code,
            "error_message": self.error_message,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }


@dataclass(frozen=True)
class RelayRequest:
    """A relay body read: its operations (wrapped), wallet ids and labels."""

    ops: tuple[WrappedOperation, ...]
    wallet_ids: tuple[str, ...]
    user_address: str
    account_id: str | None
    operation_type: str
    idempotency_key: str | None
    raw: dict[str, Any]
    warnings: tuple[dict[str, str], ...] = ()


class GaslessRelay:
    """Relays owner-signed grant operations through `GaslessLayer.relayWalletBatch`, at most once
    per idempotency key; every method touching the chain runs on the backend's chain worker."""

    def __init__(self, backend: Backend) -> None:
        if backend.system.gasless_layer is None:
            raise ValueError("the deployment has no GaslessLayer: there is nothing to relay with")
        self.backend = backend
        # the mock's own GaslessLayer (its artifact ABI: the fee is the mock's, not in the surface)
        self.layer = backend.chain.contract("GaslessLayer", backend.system.gasless_layer.address)
        self.records: dict[str, RelayRecord] = {}
        self.by_key: dict[str, RelayRecord] = {}
        self._lock = threading.Lock()
        self.app = Starlette(
            routes=[
                Route(OPERATIONS + RELAY_INSTANT_PATH, self.http_relay_instant, methods=["POST"]),
                Route(OPERATIONS + "/{request_id}", self.http_request, methods=["GET"]),
            ]
        )

    # --- reading a body

    def read(self, body: Any, header_key: str | None) -> RelayRequest:
        """The relay body, checked field by field (422 naming the first bad field), then each
        operation judged as a grant operation (400 naming the operation and the rule)."""
        if not isinstance(body, dict):
            raise shape_error([_issue((), "expected a JSON object", "model_type")])
        issues = [
            _issue((key,), "Extra inputs are not permitted", "extra_forbidden")
            for key in body
            if key not in REQUIRED_FIELDS + OPTIONAL_FIELDS
        ]
        issues += [
            _issue((key,), "Field required", "missing")
            for key in REQUIRED_FIELDS
            if key not in body
        ]
        if issues:
            raise shape_error(issues)
        key = self._key(body.get("idempotencyKey"), header_key)
        user = self._string(body["userAddress"], ("userAddress",), 42)
        operation_type = self._string(
            body["operationType"], ("operationType",), MAX_OPERATION_TYPE_CHARS
        )
        account_id = body.get("accountId")
        if account_id is not None:
            self._string(account_id, ("accountId",), MAX_KEY_CHARS)
        signed = self._list(body["signedOps"], ("signedOps",))
        count = len(signed)
        if count == 0:
            raise shape_error([_issue(("signedOps",), "at least one operation", "too_short")])
        signatures = self._list(body["signatures"], ("signatures",), count)
        for name in ("fills", "flexFillerSignatures"):
            if name in body:
                for i, entry in enumerate(self._list(body[name], (name,), count)):
                    if self._list(entry, (name, i)):
                        raise GaslessRefusal(
                            400,
                            OPERATION_NOT_RELAYED,
                            f"{name}[{i}]: a grant operation has no flex fields, so nothing to "
                            "fill; the mock relays grant operations only",
                        )
        template = body.get("templateId")
        if template is not None:
            raise GaslessRefusal(
                400,
                OPERATION_NOT_RELAYED,
                f"templateId {template!r}: the mock relays no templates (relayInstantTemplate); "
                "send the grant operations as an ordinary batch",
            )
        wallet_ids = self._wallet_ids(body.get("walletIds"), count)
        if "metadata" in body and not isinstance(body["metadata"], dict):
            raise shape_error([_issue(("metadata",), "expected an object", "dict_type")])
        ops, warnings = self._operations(signed, signatures)
        return RelayRequest(
            ops, wallet_ids, user, account_id, operation_type, key, body, tuple(warnings)
        )

    @staticmethod
    def _key(in_body: Any, header: str | None) -> str | None:
        if in_body is not None:
            GaslessRelay._string(in_body, ("idempotencyKey",), MAX_KEY_CHARS)
            if header is not None and header != in_body:
                raise shape_error(
                    [
                        _issue(
                            ("idempotencyKey",),
                            f"differs from the {IDEMPOTENCY_HEADER} header ({header!r}); send "
                            "one key",
                            "value_error",
                        )
                    ]
                )
            return in_body
        if header is not None:
            if not header or len(header) > MAX_KEY_CHARS:
                raise shape_error(
                    [_issue(("idempotencyKey",), "1 to 128 characters", "string_too_long")]
                )
            return header
        return None

    @staticmethod
    def _string(value: Any, loc: tuple[str | int, ...], limit: int) -> str:
        if not isinstance(value, str):
            raise shape_error([_issue(loc, "Input should be a valid string", "string_type")])
        if not 1 <= len(value) <= limit:
            raise shape_error([_issue(loc, f"expected 1 to {limit} characters", "string_too_long")])
        return value

    @staticmethod
    def _list(value: Any, loc: tuple[str | int, ...], count: int | None = None) -> list[Any]:
        if not isinstance(value, list):
            raise shape_error([_issue(loc, "Input should be a valid list", "list_type")])
        if count is not None and len(value) != count:
            raise shape_error(
                [
                    _issue(
                        loc,
                        f"{len(value)} entries for {count} signedOps: one per operation",
                        "value_error",
                    )
                ]
            )
        return value

    def _wallet_ids(self, value: Any, count: int) -> tuple[str, ...]:
        """walletIds: omitted means one "0" per operation (wire-types.ts); decimal strings; the
        mock relays no gasless-wallet operation (the GaslessLayer mock reverts
        WalletOperationsNotSupported)."""
        if value is None:
            return ("0",) * count
        ids = self._list(value, ("walletIds",), count)
        for i, entry in enumerate(ids):
            if not isinstance(entry, str) or not entry.isascii() or not entry.isdigit():
                raise shape_error(
                    [_issue(("walletIds", i), "expected a decimal uint256 string", "value_error")]
                )
            if int(entry) != 0:
                raise GaslessRefusal(
                    400,
                    OPERATION_NOT_RELAYED,
                    f"walletIds[{i}] = {entry}: the mock relays InstantLayer operations only "
                    "(wallet 0); gasless-wallet operations are not served",
                )
        return tuple(ids)

    def _operations(
        self, signed: list[Any], signatures: list[Any]
    ) -> tuple[tuple[WrappedOperation, ...], list[dict[str, str]]]:
        """Each operation judged as a `grant_operation` body (the validator's v0.8.6 rules);
        an operation the mock does not relay is refused first, by what it calls."""
        context = self.backend.context
        validator = validator_for(GRANT_OPERATION, context, None).at(self.backend.now())
        ops: list[WrappedOperation] = []
        warnings: list[dict[str, str]] = []
        for i, (op, signature) in enumerate(zip(signed, signatures, strict=True)):
            where = f"signedOps[{i}]"
            self._require_grant(op, where)
            item = {"signedOperation": op, "signature": signature}
            result = validator.validate_body(item, where, GRANT_OPERATION)
            if not result.usable or result.violations:
                errors = result.violations or result.findings
                first = errors[0]
                raise GaslessRefusal(
                    400,
                    OPERATION_REFUSED,
                    f"{where}: {first.rule} at {first.path or '(operation)'}: {first.message}",
                    {
                        "operation_index": i,
                        "rule_ids": sorted({f.rule for f in errors}),
                        "findings": [f.to_json() for f in result.findings],
                    },
                )
            warnings += [
                {"rule_id": f.rule, "path": f"{where}.{f.path}", "message": f.message}
                for f in result.findings
                if f.severity == "warning"
            ]
            parsed = wire.parse_wrapped_operation(item)
            if parsed.value is None:  # the validator read it; this is its typed form
                raise GaslessRefusal(400, OPERATION_REFUSED, f"{where}: cannot be read")
            ops.append(parsed.value)
        return tuple(ops), warnings

    def _require_grant(self, op: Any, where: str) -> None:
        """Only grant operations are relayed: target the InstantLayer, callData grantDelegation
        or grantDelegations; anything else is refused naming what it calls."""
        if not isinstance(op, dict):
            return  # the validator names the shape
        target, data = op.get("target"), op.get("callData")
        instant_layer = self.backend.context.instant_layer
        selector = data[:10].lower() if isinstance(data, str) and len(data) >= 10 else None
        relayed = " or ".join(f"{name} {to_hex(s)}" for s, name in GRANT_SELECTORS.items())
        if isinstance(target, str) and target.lower() != instant_layer.lower():
            raise GaslessRefusal(
                400,
                OPERATION_NOT_RELAYED,
                f"{where}.target {target} (callData {selector}): the mock relays grant operations "
                f"only, which target the InstantLayer {instant_layer} and call {relayed}",
            )
        # a self-target with another selector is InvalidGrantOperation: the validator names it

    # --- relaying (chain worker)

    def relay(self, body: Any, header_key: str | None) -> tuple[RelayRecord, bool, RelayRequest]:
        """The record for `body`: the existing one for a repeated key and body (False), a new
        one once relayed (True). GaslessRefusal for anything refused."""
        request = self.read(body, header_key)
        fingerprint = json.dumps(body, sort_keys=True, separators=(",", ":"))
        key = request.idempotency_key
        with self._lock:
            if key is not None and key in self.by_key:
                seen = self.by_key[key]
                if seen.fingerprint != fingerprint:
                    raise GaslessRefusal(
                        409,
                        IDEMPOTENCY_KEY_CONFLICT,
                        f"idempotency key {key!r} is bound to request {seen.id} with another "
                        "body; mint a fresh key for a new request",
                        {"request_id": seen.id},
                    )
                return seen, False, request
        record = self._execute(request, fingerprint)
        with self._lock:
            self.records[record.id] = record
            if key is not None:
                self.by_key[key] = record
        return record, True, request

    def _execute(self, request: RelayRequest, fingerprint: str) -> RelayRecord:
        system = self.backend.system
        tx = system.relay_tx(list(request.ops))
        with self.backend.lock:
            try:  # simulated first: a revert is refused before anything is accepted
                system.chain.call(tx)
            except Reverted as exc:
                revert = contract_revert(exc)
                raise GaslessRefusal(
                    400,
                    SIMULATION_REVERTED,
                    f"simulation reverted: {format_revert(exc.decoded)}",
                    {"contract_revert": revert, "revert_message": format_revert(exc.decoded)},
                ) from None
            fee = self.layer.functions.defaultSelectorFee().call() * len(request.ops)
            record = RelayRecord(
                id=str(uuid.uuid4()),
                idempotency_key=request.idempotency_key,
                fingerprint=fingerprint,
                user_address=request.user_address,
                account_id=request.account_id,
                operation_type=request.operation_type,
                payload=_payload(request),
                status=QUEUED,
                paid_fee=fee,
            )
            try:
                sent = system.chain.send(tx)
            except Reverted as exc:
                record.status, record.paid_fee = REVERTED, 0
                record.error_code = exc.name
                record.error_message = format_revert(exc.decoded)
                return record
        record.status, record.tx_hash = SUCCEEDED, sent.tx_hash
        record.updated_at = _now_iso()
        return record

    def find(self, request_id: str) -> RelayRecord:
        with self._lock:
            record = self.records.get(request_id)
        if record is None:
            raise GaslessRefusal(
                404, REQUEST_NOT_FOUND, f"request_id {request_id!r}: no such relay request"
            )
        return record

    # --- HTTP

    @_guarded
    async def http_relay_instant(self, request: Request) -> Response:
        body = await read_json(request)
        header = request.headers.get(IDEMPOTENCY_HEADER)
        record, _created, read = await self.backend.run(lambda: self.relay(body, header))
        return JSONResponse(
            record.accepted(),
            status_code=202,
            headers=harness_headers(read.warnings, (), record.tx_hash),
        )

    @_guarded
    async def http_request(self, request: Request) -> Response:
        record = self.find(request.path_params["request_id"])
        return JSONResponse(record.to_json(), headers=harness_headers(tx_hash=record.tx_hash))


def _payload(request: RelayRequest) -> dict[str, Any]:
    """The stored payload: what was relayed, snake_case (to-gasless-request.ts reads
    `payload.wallet_ids` and `payload.signed_ops`)."""
    raw = request.raw
    count = len(request.ops)
    out: dict[str, Any] = {
        "signed_ops": raw["signedOps"],
        "signatures": raw["signatures"],
        "fills": raw.get("fills", [[] for _ in range(count)]),
        "flex_filler_signatures": raw.get("flexFillerSignatures", [[] for _ in range(count)]),
        "wallet_ids": list(request.wallet_ids),
    }
    if "metadata" in raw:
        out["metadata"] = raw["metadata"]
    return out


def gasless_url(base: str) -> str:
    """`gasless_url` of a server reached at `base`: the proxy root the SDK's `gasless.url` takes."""
    return base.rstrip("/") + PREFIX
