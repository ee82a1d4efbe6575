"""The mock Rasa solver: Base's solver kind, its published routes and shapes over the same
execution as the Enigma kind (`solver.Solver`: the same validator judgement, the same one
transaction per open or close, at-most-once, faults).

Sources (real-world.md §1; Trading-SDK read 2026-12-07):
- `SDK_RASA`: Rasa's OpenAPI document ("Hedger Parameters Web App" 0.1.0) as the SDK generates
  its client from it. The generated file itself is not readable here; its declarations are
  taken from real-world.md §1 and from the SDK code that type-checks against it:
  `solvers/instant-open/shared/hedger-api.ts` (`sendRasaInstantOpen`: `{sendQuote}` to
  `/instant_trade/open`, answer `InstantRFQResponse`), the Rasa close adapter
  (`sendRasaInstantClose`: the bare operations array to `/instant_trade/close`, answer
  `{successful, message}`), `get-instant-opens/adapters/rasa-instant-opens.ts`
  (`toRasaInstantOpen`: the `InstantRFQResponse` fields, `position_type`/`order_type` numeric
  enums, the amounts mapped unconverted onto the SDK's "human-scaled decimal string" fields),
  `solvers/markets/get-markets.test.ts` (`RASA_RESPONSE`, typed `SymbolsContractResponseSchema`:
  the contract-symbols keys, `max_leverage` a number, no `state`/`side`) and
  `solvers/error-codes/get-solver-error-codes.test.ts` (`/error_codes/{code}` answers a
  `{code: message}` map).
- The chain registry (`chains/chain-configs.ts`, Base): Rasa "shares Enigma's paths for the shared
  reads (contract-symbols, funding, locked params, error codes, ...)"; the diverging endpoints
  differ. So this kind serves, under the solver's base URL (`/solver/api` in `serve`, as the
  Enigma kind): `POST /instant_trade/open`, `POST /instant_trade/close`, `GET /contract-symbols`,
  `GET /get_locked_params/{symbol_name}`, `GET /error_codes`, `GET /error_codes/{code}` and the
  position-state websocket `/ws/position-state-ws3` (the registry's `notifications.url`).
  Everything else, Enigma's routes included (`/instant_trade/instant_open`, `instant_close`,
  `eip712-config`, `temp_quote_status`, `instant_quote_id`, `/error_codes/detailed`), is no route.
- No route answers `{"detail": "Not Found"}` (405: `"Method Not Allowed"`): the generated
  operation ids (`getContractSymbolsContractSymbolsGet`, `getErrorMessageErrorCodesErrorCodeGet`,
  `instantRequestForQuoteWithSignatureInstantTradeOpenPost`) are FastAPI's `{name}{path}{method}`
  pattern, and that is FastAPI's (Starlette's) default body for a path it does not route.
- A refusal is Rasa's error body `{error_code, error_message, error_detail}` plus the mock's own
  keys (`category`, `http_status`, `rule_ids`, `findings`), as the Enigma kind adds them.

SignedOperation: Rasa's published schema lists 5 fields (no `flexFields`, no `maxUses`); the SDK
signs and posts the 7-field form to Rasa as to Enigma (its `hedger-api.ts` casts across the
"stale spec"), and the v0.8.5 InstantLayer verifies 7. The mock follows the contract: a 5-field
operation is refused (the validator's `op.legacy-5-field`), and the refusal says that it is the
form Rasa's schema lists and that which form the real Rasa reads is not known from public sources.

Not modelled (unknown or outside the v0.8.5 mock chain): Rasa's cross-margin accounts (the SDK's
Rasa open sends `sendQuote` alone, with a live Muon upnlSig, and no virtual account); its other
reads (`/instant_open/{account}`, balance info, upnl, open interest, price range, readiness,
whitelist); LIMIT opens.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.websockets import WebSocket

from ..model import InstantClose
from ..primitives import eip55
from .errors import (
    BAD_PARAMETER,
    CHAIN_REVERTED,
    INTERNAL,
    NO_ROUTE,
    ErrorCode,
    ServiceRefusal,
    error_codes_map,
)
from .faults import faultable
from .notifications import SubscribeError, Subscriber, subscription_endpoint
from .plumbing import guarded_by, noted, read_json, settle
from .published import SDK, harness_headers
from .solver import FAILED, Solver, TempQuote, _amount, _op_index, contract_symbol_row

log = logging.getLogger("harness.services")

SDK_RASA = f"{SDK}/solvers/types/generated/rasa-solver.ts@116d601"
SDK_RASA_OPEN = f"{SDK}/solvers/instant-open/shared/hedger-api.ts (sendRasaInstantOpen)"
SDK_RASA_CLOSE = f"{SDK}/solvers/instant-close (sendRasaInstantClose)"
SDK_RASA_OPENS = f"{SDK}/solvers/instant-open/get-instant-opens/adapters/rasa-instant-opens.ts"
SDK_RASA_SYMBOLS = f"{SDK}/solvers/markets/get-markets.test.ts (RASA_RESPONSE)"
SDK_RASA_ERROR_CODE = f"{SDK}/solvers/error-codes/get-solver-error-codes.test.ts"
SDK_RASA_NOTIFICATIONS = (
    f"{SDK}/websocket/notifications/adapters/rasa-notifications.ts, "
    f"{SDK}/websocket/notifications/types.ts (RawRasaPositionNotification)"
)

OPEN_PATH = "/instant_trade/open"
CLOSE_PATH = "/instant_trade/close"
#: the position-state websocket, relative to the solver's base URL (the registry's Base
#: `notifications.url` is `wss://<solver host>/ws/position-state-ws3`)
POSITION_STATE_PATH = "/ws/position-state-ws3"
#: relative to the solver app's root (the Enigma kind's `/api` mount, kept for both kinds)
POSITION_STATE_WS = "/api" + POSITION_STATE_PATH

_STR: dict[str, Any] = {"type": "string"}
_INT: dict[str, Any] = {"type": "integer"}
_NUM: dict[str, Any] = {"type": "number"}
_BOOL: dict[str, Any] = {"type": "boolean"}


def _required(props: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": props, "required": list(props)}


#: Rasa's published shapes, each declared once (the mock's answers are built to them, the tests
#: hold the answers against them, `openapi.document(BASE)` publishes them), with its source.
SCHEMAS: dict[str, dict[str, Any]] = {
    # every field required (`toRasaInstantOpen`: "Rasa returns every field required"); ids and
    # the `0 | 1` enums numbers; the amounts map unconverted onto the SDK's decimal strings
    "InstantRFQResponse": {
        "x-source": f"{SDK_RASA} InstantRFQResponse; {SDK_RASA_OPENS}",
        **_required(
            {
                "temp_quote_id": _INT,
                "position_type": {"type": "integer", "enum": [0, 1]},
                "symbol_id": _INT,
                "requested_open_price": _STR,
                "quantity": _STR,
                "party_a_address": _STR,
                "cva": _STR,
                "partyAmm": _STR,
                "partyBmm": _STR,
                "lf": _STR,
                "order_type": {"type": "integer", "enum": [0, 1]},
            }
        ),
    },
    "InstantOpenRequest": {
        "x-source": f"{SDK_RASA} (open body); {SDK_RASA_OPEN}",
        "type": "object",
        "properties": {"sendQuote": {"type": "object"}, "addMargin": {"type": "object"}},
        "required": ["sendQuote"],
    },
    "InstantCloseRequest": {
        "x-source": f"{SDK_RASA} (close body: a bare list); {SDK_RASA_CLOSE}",
        "type": "array",
        "items": {"type": "object"},
        "minItems": 1,
    },
    "StatusResponse": {
        "x-source": f"{SDK_RASA} (close reply); {SDK_RASA_CLOSE}",
        **_required({"successful": _BOOL, "message": _STR}),
    },
    # the keys `RASA_RESPONSE` carries (typed `SymbolsContractResponseSchema`: each is a
    # property of the published schema); Enigma's `state`, `side`, funding-epoch keys are not
    "SymbolsContract": {
        "x-source": f"{SDK_RASA} SymbolsContract; {SDK_RASA_SYMBOLS}",
        **_required(
            {
                "symbol_id": _INT,
                "name": _STR,
                "symbol": _STR,
                "asset": _STR,
                "is_valid": _BOOL,
                "rfq_allowed": _BOOL,
                "price_precision": _INT,
                "quantity_precision": _INT,
                "trading_fee": _STR,
                "max_leverage": _NUM,
                "max_notional_value": _NUM,
                "max_funding_rate": _STR,
                "min_acceptable_quote_value": _STR,
                "min_acceptable_portion_lf": _STR,
                "hedger_fee_open": _STR,
                "hedger_fee_close": _STR,
                "min_notional_value": _STR,
                "max_quantity": _STR,
                "lot_size": _STR,
            }
        ),
    },
    "SymbolsContractResponseSchema": {
        "x-source": f"{SDK_RASA} SymbolsContractResponseSchema; {SDK_RASA_SYMBOLS}",
        **_required(
            {
                "count": _INT,
                "symbols": {
                    "type": "array",
                    "items": {"$ref": "#/components/schemas/SymbolsContract"},
                },
            }
        ),
    },
    "ErrorCodeMap": {
        "x-source": f"{SDK_RASA} (/error_codes, /error_codes/{{code}}); {SDK_RASA_ERROR_CODE}",
        "type": "object",
        "additionalProperties": _STR,
    },
    "RasaErrorResponse": {
        "x-source": f"{SDK_RASA} (error body), real-world.md §1",
        **_required({"error_code": _INT, "error_message": _STR, "error_detail": _STR}),
    },
    "NotFound": {
        "x-source": "FastAPI's default answer for no route (Rasa's operation ids are FastAPI's)",
        **_required({"detail": _STR}),
    },
}

#: `InstantRFQResponse`'s fields, and the contract-symbols row keys (from `SCHEMAS`)
RFQ_FIELDS = tuple(SCHEMAS["InstantRFQResponse"]["properties"])
SYMBOL_FIELDS = tuple(SCHEMAS["SymbolsContract"]["properties"])
#: `RawPositionNotificationBase` + the Rasa variant's `order_type`; the Enigma variant's
#: `va_address`, `failure_message`, `version` are not on this wire
NOTIFICATION_FIELDS = (
    "id",
    "quote_id",
    "temp_quote_id",
    "create_time",
    "modify_time",
    "counterparty_address",
    "filled_amount_open",
    "filled_amount_close",
    "avg_price_open",
    "avg_price_close",
    "last_seen_action",
    "action_status",
    "failure_type",
    "error_code",
    "state_type",
    "order_type",
)
AMOUNT_FIELDS = ("filled_amount_open", "filled_amount_close", "avg_price_open", "avg_price_close")
MAX_ADDRESSES = 100
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")

FIVE_FIELD_RULE = "op.legacy-5-field"
FIVE_FIELD_NOTE = (
    "this is the 5-field SignedOperation Rasa's published schema lists "
    f"({SDK_RASA} SignedOperation); the v0.8.5 InstantLayer verifies the 7-field type the SDK "
    "signs, so the mock follows the contract; which form the real Rasa reads is not known from "
    "public sources"
)

# ------------------------------------------------------------------------------ bodies


def rasa_error_body(error: ErrorCode, detail: str, findings: Any = ()) -> dict[str, Any]:
    """Rasa's error body `{error_code, error_message, error_detail}` and the mock's keys."""
    items = [f.to_json() for f in findings]
    rules = sorted({f["rule"] for f in items if f["severity"] == "error"})
    if FIVE_FIELD_RULE in rules:
        detail = f"{detail} ({FIVE_FIELD_NOTE})"
    return {
        "error_code": error.code,
        "error_message": error.message,
        "error_detail": detail or error.message,
        "category": error.category,
        "http_status": error.http_status,
        "rule_ids": rules,
        "findings": items,
    }


def rasa_refusal(refusal: ServiceRefusal, **extra: Any) -> JSONResponse:
    body = rasa_error_body(refusal.error, refusal.detail, refusal.findings) | extra
    return JSONResponse(body, status_code=refusal.error.http_status)


#: `plumbing.guarded` with Rasa's error body.
rasa_guarded = guarded_by(
    rasa_refusal,  # type: ignore[arg-type]
    lambda: JSONResponse(rasa_error_body(INTERNAL, ""), status_code=INTERNAL.http_status),
)


async def not_found(request: Request, exc: Exception) -> Response:
    """FastAPI's default answer for no route (404) or no method (405)."""
    status = getattr(exc, "status_code", 404)
    detail = "Method Not Allowed" if status == 405 else "Not Found"
    return JSONResponse(
        {"detail": detail}, status_code=status, headers=getattr(exc, "headers", None)
    )


NOT_FOUND_HANDLERS = {404: not_found, 405: not_found}


def rfq_response(record: TempQuote) -> dict[str, Any]:
    """`InstantRFQResponse` of an accepted open: ids and enums as integers, amounts as decimal
    strings. `party_a_address` is the sendQuote's signerAccount (the sub-account: Rasa's partyA,
    cross-margin)."""
    q = record.quote
    return {
        "temp_quote_id": record.temp_quote_id,
        "position_type": q["positionType"],
        "symbol_id": q["symbolId"],
        "requested_open_price": _amount(q["price"]),
        "quantity": _amount(q["quantity"]),
        "party_a_address": eip55(record.sub_account),
        "cva": _amount(q["cva"]),
        "partyAmm": _amount(q["partyAmm"]),
        "partyBmm": _amount(q["partyBmm"]),
        "lf": _amount(q["lf"]),
        "order_type": q["orderType"],
    }


def rasa_symbol_row(row: dict[str, Any]) -> dict[str, Any]:
    """A contract-symbols row in Rasa's shape (from the Enigma kind's row: one market, two
    spellings): `max_leverage` a number, only the published keys."""
    out = {k: row[k] for k in SYMBOL_FIELDS if k in row}
    out["max_leverage"] = int(row["max_leverage"])
    return out


def rasa_notification(frame: dict[str, Any]) -> dict[str, Any] | None:
    """The bare position-state frame of a notifier frame `{data, address}`, or None when it is
    no quote notification. The sub-account travels as `counterparty_address` (the SDK's watcher
    keeps a frame when `counterparty_address` is the subscribed account), `quote_id` is the
    temp id until the on-chain id exists, and an alert carries the numeric 0 in the amounts."""
    data, address = frame.get("data"), frame.get("address")
    if not isinstance(data, dict) or not isinstance(address, str):
        return None
    if not data.get("quote_id") and not data.get("temp_quote_id"):
        return None
    out = {k: data[k] for k in NOTIFICATION_FIELDS if k in data}
    out["id"] = str(data.get("id", ""))
    out["counterparty_address"] = address
    if not out.get("quote_id"):
        out["quote_id"] = data.get("temp_quote_id")
    if out.get("state_type") == "alert":
        out |= dict.fromkeys(AMOUNT_FIELDS, 0)
    return out


def read_rasa_subscribe(message: Any) -> list[str]:
    """`{"address": ["0x…", ...]}` (the SDK's `buildRasaSubscribeMessage`), strictly."""
    if not isinstance(message, dict) or set(message) != {"address"}:
        raise SubscribeError('expected {"address": ["0x...", ...]} and nothing else')
    addresses = message["address"]
    if not isinstance(addresses, list) or not 1 <= len(addresses) <= MAX_ADDRESSES:
        raise SubscribeError(f"address: expected a list of 1 to {MAX_ADDRESSES} addresses")
    out = []
    for i, raw in enumerate(addresses):
        if not isinstance(raw, str) or not _ADDRESS.fullmatch(raw):
            raise SubscribeError(f"address[{i}]: expected 0x and 40 hex digits")
        out.append(eip55(raw))
    return out


# ------------------------------------------------------------------------------ the solver


def _subscribe_addresses(subscriber: Subscriber, message: Any) -> None:
    """Rasa's `{"address": [...]}`: the SDK re-sends the complete list each time, so it
    replaces the subscription."""
    addresses = read_rasa_subscribe(message)
    subscriber.patterns = [{"address": a} for a in addresses]
    subscriber.put({"subscribed": addresses})


def _position_state_frame(frame: dict[str, Any]) -> dict[str, Any] | None:
    """A notifier frame as Rasa's position-state websocket sends it (acks and errors as they
    are; a position frame bare, or nothing when it is not Rasa's)."""
    if "data" in frame and "address" in frame:
        return rasa_notification(frame)
    return frame


class RasaSolver:
    """Rasa's routes over a `Solver` (its execution, its temp quotes, its backend)."""

    def __init__(self, solver: Solver) -> None:
        self.solver = solver
        self.backend = solver.backend

    @rasa_guarded
    @faultable("instant_open")
    async def http_open(self, request: Request) -> JSONResponse:
        data = await read_json(request)
        solver = self.solver
        early = await solver.prejudge(data, request.url.path, "instant_open")

        def work() -> tuple[TempQuote, Any]:
            result = settle(early, self.backend.now())
            record = solver.open(result.value, result.calls["sendQuote"])
            return record, noted(result, data)

        record, said = await self.backend.run(work)
        if record.state == FAILED:
            assert record.error is not None
            refusal = ServiceRefusal(CHAIN_REVERTED, record.error["error_detail"])
            return rasa_refusal(refusal, temp_quote_id=record.temp_quote_id)
        tx = record.sent.tx_hash if record.sent else None
        return JSONResponse(
            rfq_response(record), headers=harness_headers(said.warnings, said.info, tx)
        )

    @rasa_guarded
    @faultable("instant_close")
    async def http_close(self, request: Request) -> JSONResponse:
        data = await read_json(request)
        if not isinstance(data, list):
            raise ServiceRefusal(
                BAD_PARAMETER,
                f"(body): {CLOSE_PATH} takes a bare list of operations ({SDK_RASA} and the SDK's "
                "sendRasaInstantClose, which posts the array); the {operations} envelope is "
                "Enigma's instant_close body",
            )
        solver = self.solver
        early = await solver.prejudge(data, request.url.path, "instant_close")

        def work() -> tuple[Any, Any]:
            result = settle(early, self.backend.now())
            body: InstantClose = result.value
            closes = [result.calls[k] for k in sorted(result.calls, key=_op_index)]
            return solver.close(body, closes), noted(result, data)

        sent, said = await self.backend.run(work)
        count = len(data)
        return JSONResponse(
            {"successful": True, "message": f"{count} close request(s) filled"},
            headers=harness_headers(said.warnings, said.info, sent.tx_hash),
        )

    @rasa_guarded
    async def http_contract_symbols(self, request: Request) -> JSONResponse:
        markets = sorted(self.backend.markets.items())
        rows = [rasa_symbol_row(contract_symbol_row(m)) for _sid, m in markets]
        return JSONResponse({"count": len(rows), "symbols": rows})

    @rasa_guarded
    async def http_locked_params(self, request: Request) -> Response:
        # the shared path and answer (chain registry: "shares Enigma's paths")
        return await Solver.http_locked_params.__wrapped__(self.solver, request)  # type: ignore[attr-defined]

    @rasa_guarded
    async def http_error_codes(self, request: Request) -> JSONResponse:
        return JSONResponse(error_codes_map())

    @rasa_guarded
    async def http_error_code(self, request: Request) -> JSONResponse:
        raw = request.path_params["code"]
        if not raw.isascii() or not raw.isdigit():
            # the path parameter is an integer: anything else (Enigma's `/error_codes/detailed`
            # included) matches no route of Rasa's
            return JSONResponse({"detail": "Not Found"}, status_code=404)
        codes = error_codes_map()
        key = str(int(raw))
        if key not in codes:
            raise ServiceRefusal(NO_ROUTE, f"error_code: no error code {key}")
        return JSONResponse({key: codes[key]})

    async def ws_position_state(self, websocket: WebSocket) -> None:
        await subscription_endpoint(
            websocket,
            self.backend.notifier,
            _subscribe_addresses,
            outgoing=_position_state_frame,
            name="position-state",
        )

    def routes(self) -> list[BaseRoute]:
        return [
            Mount(
                "/api",
                routes=[
                    Route(OPEN_PATH, self.http_open, methods=["POST"]),
                    Route(CLOSE_PATH, self.http_close, methods=["POST"]),
                    Route("/contract-symbols", self.http_contract_symbols),
                    Route("/get_locked_params/{symbol_name}", self.http_locked_params),
                    Route("/error_codes", self.http_error_codes),
                    Route("/error_codes/{code}", self.http_error_code),
                    WebSocketRoute(POSITION_STATE_PATH, self.ws_position_state),
                ],
            )
        ]


def rasa_app(rasa: RasaSolver) -> Starlette:
    """The Rasa solver alone (base URL = its root; endpoints under /api)."""
    return Starlette(routes=rasa.routes(), exception_handlers=NOT_FOUND_HANDLERS)


__all__ = [
    "CLOSE_PATH",
    "OPEN_PATH",
    "POSITION_STATE_PATH",
    "POSITION_STATE_WS",
    "RFQ_FIELDS",
    "SCHEMAS",
    "SDK_RASA",
    "SYMBOL_FIELDS",
    "RasaSolver",
    "rasa_app",
    "rasa_error_body",
    "rasa_notification",
    "rfq_response",
]
