"""The mock services' error codes (spec §4 `GET /error_codes`, `/error_codes/detailed`).

`GET /error_codes` is the published `{code: message}` map (`GetErrorCodes200`),
`/error_codes/detailed` the list of `{code, message, category, http_status}`
(`ClientErrorCodeInfo`), every category one of the published `ClientErrorCategory` values
(`published.ERROR_CATEGORIES`; Trading-SDK enigma-solver.ts). Codes are >= 3000; 407 is the real
COH's precision error, answered by the COH only.

A refusal's body is the published `XfiberErrorResponse` (`code`, `error_message` = the code's
message, `error_detail` = what exactly was wrong), plus `category`, `http_status` and, for a
refusal by the validator, `rule_ids` and `findings` (rule, severity, JSON path, message), so a
frontend team sees which rule its body broke: the published object admits additional properties
(see `published`). Internals (tracebacks, exception text) never reach a client.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from starlette.responses import JSONResponse


@dataclass(frozen=True, slots=True)
class ErrorCode:
    code: int
    message: str
    category: str
    http_status: int

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "category": self.category,
            "http_status": self.http_status,
        }


NOT_CONFORMING = ErrorCode(3000, "the body does not conform to v0.8.5", "validation", 400)
UNREADABLE = ErrorCode(
    3001, "the body cannot be read (not JSON, too large or too deep)", "validation", 400
)
BAD_PARAMETER = ErrorCode(3002, "a parameter or field is invalid", "validation", 400)
UNKNOWN_SYMBOL = ErrorCode(3003, "unknown symbol", "symbol_state", 404)
UNKNOWN_TEMP_QUOTE = ErrorCode(3004, "unknown temp_quote_id", "validation", 404)
CHAIN_REVERTED = ErrorCode(3010, "the chain refused the operations", "account_state", 422)
NOT_DELEGATED = ErrorCode(3011, "the signer holds no active delegation", "authorization", 403)
WRONG_POSITION = ErrorCode(3012, "the order does not match an open position", "account_state", 422)
TOO_LARGE = ErrorCode(3005, "the body is too large", "validation", 413)
NOT_JSON_MEDIA = ErrorCode(
    3006, "unsupported Content-Type: send application/json", "validation", 415
)
DUPLICATE_KEY = ErrorCode(3007, "a key appears twice in one JSON object", "validation", 400)
NO_ROUTE = ErrorCode(3008, "no such route", "validation", 404)
NO_METHOD = ErrorCode(3009, "the route does not take this method", "validation", 405)
# Published categories only: a replayed order is a request that can never be valid again, so
# "validation" (ClientErrorCategory has no "replay"; real-world.md §4 lists the set).
REPLAYED = ErrorCode(
    3013, "replay: this signed order (signature or salt) was already stored", "validation", 409
)
TOO_MANY_ORDERS = ErrorCode(
    3014, "the user's active orders reach MaxActiveOrdersPerUser", "account_state", 422
)
STALE_REQUEST = ErrorCode(
    3015,
    "the request's Date is further from the service clock than MaxRequestTimeDeltaSeconds",
    "validation",
    400,
)
BODY_TIMEOUT = ErrorCode(
    3016, "the body did not arrive in time (the read deadline passed)", "validation", 408
)
RATE_LIMITED = ErrorCode(3020, "rate limited: retry after the Retry-After delay", "rate_limit", 429)
UNAVAILABLE = ErrorCode(3021, "the service is unavailable: retry later", "unavailable", 503)
#: The real COH's own code for a TP/SL amount beyond the symbol's precision.
COH_PRECISION = ErrorCode(
    407, "provided values do not meet the required precision", "validation", 400
)
INTERNAL = ErrorCode(3099, "internal error of the mock service (see its log)", "internal", 500)

#: every code the mock may answer (the COH's 407 included)
CODES: tuple[ErrorCode, ...] = (
    NOT_CONFORMING,
    UNREADABLE,
    BAD_PARAMETER,
    UNKNOWN_SYMBOL,
    UNKNOWN_TEMP_QUOTE,
    TOO_LARGE,
    NOT_JSON_MEDIA,
    DUPLICATE_KEY,
    NO_ROUTE,
    NO_METHOD,
    CHAIN_REVERTED,
    NOT_DELEGATED,
    WRONG_POSITION,
    REPLAYED,
    TOO_MANY_ORDERS,
    STALE_REQUEST,
    BODY_TIMEOUT,
    RATE_LIMITED,
    UNAVAILABLE,
    COH_PRECISION,
    INTERNAL,
)


#: the solver's codes (`/error_codes`: "solver-registered error codes (>= 3000)"); 407 is the COH's
SOLVER_CODES: tuple[ErrorCode, ...] = tuple(c for c in CODES if c.code >= 3000)


def error_codes_map() -> dict[str, str]:
    """`GET /error_codes`: the published `{code: message}` map (`GetErrorCodes200`)."""
    return {str(c.code): c.message for c in SOLVER_CODES}


def error_codes_detailed() -> list[dict[str, Any]]:
    """`GET /error_codes/detailed`: `ClientErrorCodeInfo[]`."""
    return [c.to_json() for c in SOLVER_CODES]


class ServiceRefusal(Exception):
    """Raised inside a handler to answer with an error code (never a traceback)."""

    def __init__(self, error: ErrorCode, detail: str, findings: Iterable[Any] = ()) -> None:
        self.error = error
        self.detail = detail
        self.findings = list(findings)
        super().__init__(f"{error.code} {detail}")


def error_body(error: ErrorCode, detail: str, findings: Iterable[Any] = ()) -> dict[str, Any]:
    """The JSON answered for a refusal (`XfiberErrorResponse` and the mock's keys); findings are
    validator `Finding`s."""
    items = [f.to_json() for f in findings]
    body: dict[str, Any] = {
        "code": error.code,
        "error_message": error.message,
        "error_detail": detail or error.message,
        "category": error.category,
        "http_status": error.http_status,
    }
    body["rule_ids"] = sorted({f["rule"] for f in items if f["severity"] == "error"})
    body["findings"] = items
    return body


def error_response(
    refusal: ServiceRefusal, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    body = error_body(refusal.error, refusal.detail, refusal.findings)
    body.update(extra)
    return JSONResponse(body, status_code=refusal.error.http_status, headers=headers)
