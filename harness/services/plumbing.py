"""Request plumbing shared by the apps: strict bounded body reading, refusals, no internals.

Every body of every route goes through `read_json`: Content-Type must be JSON (415), the size
cap is enforced while the body streams in (413 as soon as it is crossed, before the rest is
read), a body that stalls is answered 408 after `BODY_READ_TIMEOUT_SECONDS`, and the text is
read by `harness.jsonread` (depth measured without recursion, duplicate
keys, NaN/Infinity and out-of-range numbers refused). `judge` runs the validator on the value;
`prejudge` and `settle` split that judgment around the chain worker (the clock is the only chain
state the validator reads), so a refused body never waits behind executions.
`decimal_text` is the one strict reader of decimal strings the services take themselves.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response

from .. import jsonread
from ..context import Context
from ..errors import HarnessError
from ..model import InstantClose
from ..validator.engine import Options, Validator, resolve_now
from ..validator.results import Finding, Result
from .edge import log_safe
from .errors import (
    BAD_PARAMETER,
    BODY_TIMEOUT,
    COH_PRECISION,
    DUPLICATE_KEY,
    INTERNAL,
    NO_METHOD,
    NO_ROUTE,
    NOT_CONFORMING,
    NOT_JSON_MEDIA,
    TOO_LARGE,
    UNREADABLE,
    ServiceRefusal,
    error_body,
    error_response,
)

log = logging.getLogger("harness.services")

MAX_BODY_BYTES = 1 << 20
#: seconds a body has to arrive whole once its headers are in (a stalled body answers 408)
BODY_READ_TIMEOUT_SECONDS = 10.0
MAX_DEPTH = jsonread.MAX_DEPTH
MAX_VALUES = 50_000
MAX_DECIMAL_CHARS = 78

Handler = Callable[..., Awaitable[Response]]

_DECIMAL = re.compile(r"(?:0|[1-9][0-9]*)(?:\.[0-9]+)?")


def guarded_by(
    refused: Callable[[Exception], Response],
    internal: Callable[[], Response],
    refusals: tuple[type[Exception], ...] = (ServiceRefusal,),
) -> Callable[[Handler], Handler]:
    """A handler decorator for one service's error envelope: a refusal (`refusals`) answered by
    `refused`; a client that hung up, a bare 400; anything else `internal()`, a 500 that names
    no internals, with a one-line reason in the log."""

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def wrapper(*args: Any) -> Response:
            request: Request = args[-1]  # a function (request) or a method (self, request)
            try:
                return await handler(*args)
            except refusals as refusal:
                return refused(refusal)
            except ClientDisconnect:
                return Response(status_code=400)
            except Exception as exc:
                where = log_safe(f"{request.method} {request.url.path}")  # client text, escaped
                # the harness's own errors say what broke in words it wrote (e.g. the embedded
                # chain's process gone); anyone else's message may carry internals: its class only
                said = f": {exc}" if isinstance(exc, HarnessError) else ""
                log.error("%s failed: %s%s", where, exc.__class__.__name__, log_safe(said))
                return internal()

        return wrapper

    return decorate


#: The solver's, the COH's and the price service's guard: refusals become their error code.
guarded = guarded_by(
    error_response,  # type: ignore[arg-type]
    lambda: JSONResponse(error_body(INTERNAL, ""), status_code=INTERNAL.http_status),
)


async def no_route(request: Request, exc: Exception) -> Response:
    """Starlette's 404/405 as the services' error body (a client parses every refusal alike)."""
    status = getattr(exc, "status_code", 404)
    error = NO_METHOD if status == 405 else NO_ROUTE
    detail = f"{request.method} {request.url.path}"
    headers = getattr(exc, "headers", None)
    return JSONResponse(error_body(error, detail), status_code=error.http_status, headers=headers)


#: the exception handlers every app of the services installs
NO_ROUTE_HANDLERS = {404: no_route, 405: no_route}


def require_json_content_type(request: Request) -> None:
    raw = request.headers.get("content-type")
    if raw is None:
        raise ServiceRefusal(NOT_JSON_MEDIA, "Content-Type: missing; expected application/json")
    media, *params = (part.strip().lower() for part in raw.split(";"))
    charset = next(
        (p.split("=", 1)[1].strip('"') for p in params if p.startswith("charset=")), None
    )
    if media != "application/json" or charset not in (None, "utf-8"):
        shown = raw if len(raw) <= 80 else raw[:80] + "..."
        raise ServiceRefusal(
            NOT_JSON_MEDIA, f"Content-Type: {shown!r}; expected application/json (UTF-8)"
        )


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The body, streamed: refused (413) as soon as it crosses `limit`, never held whole."""
    require_json_content_type(request)
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isascii() or not declared.isdigit():
            raise ServiceRefusal(BAD_PARAMETER, "Content-Length: not a whole number")
        if int(declared) > limit:
            raise ServiceRefusal(
                TOO_LARGE, f"Content-Length {int(declared):,}; the limit is {limit:,} bytes"
            )
    chunks: list[bytes] = []
    size = 0

    async def stream() -> None:
        nonlocal size
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise ServiceRefusal(
                    TOO_LARGE, f"more than {limit:,} bytes; the limit is {limit:,}"
                )
            chunks.append(chunk)

    deadline = BODY_READ_TIMEOUT_SECONDS  # read at call time (a test may shorten it)
    try:
        await asyncio.wait_for(stream(), deadline)
    except TimeoutError:
        raise ServiceRefusal(
            BODY_TIMEOUT, f"the body was not complete after {deadline:g} s ({size:,} bytes read)"
        ) from None
    return b"".join(chunks)


def read_json_bytes(data: bytes | str, limit: int = MAX_BODY_BYTES) -> Any:
    """JSON text -> value under the services' limits; ServiceRefusal naming the problem."""
    got = jsonread.read(data, max_bytes=limit, max_depth=MAX_DEPTH, max_values=MAX_VALUES)
    if got.problem is not None:
        rule, message = got.problem
        found = [Finding(rule, "error", "", message)]  # the refusal names the reader's rule
        if rule == jsonread.DUPLICATE_KEY:
            raise ServiceRefusal(DUPLICATE_KEY, message, found)
        error = TOO_LARGE if "the limit is" in message else UNREADABLE
        raise ServiceRefusal(error, message, found)
    return got.value


async def read_json(request: Request) -> Any:
    """The body as strict JSON (Content-Type, streamed size cap, depth, duplicate keys)."""
    return read_json_bytes(await read_body(request))


@functools.lru_cache(maxsize=16)
def validator_for(kind: str, context: Context | None, contracts_version: str | None) -> Validator:
    """The validator a service judges `kind` bodies with in `context` (made once per context:
    building the catalogue's plans costs more than judging a body; `Validator.at` sets the
    clock of each judgment)."""
    return Validator(Options(kind, context, 0, contracts_version))


def judge(value: Any, where: str, options: Options) -> Result:
    """The validator's verdict on a body; a refusal on any violation (warnings, such as JSON
    numbers or the close envelope, are let through and returned). A TP/SL amount beyond the
    symbol's precision is the COH's own error 407."""
    validator = validator_for(options.kind, options.context, options.contracts_version)
    result = validator.at(resolve_now(options)).validate_body(value, where, options.kind)
    if not result.usable:
        raise ServiceRefusal(UNREADABLE, result.findings[0].message, result.findings)
    if result.violations:
        first = result.violations[0]
        if options.kind == "tpsl" and any(f.rule == "tpsl.precision" for f in result.violations):
            shown = next(f for f in result.violations if f.rule == "tpsl.precision")
            raise ServiceRefusal(COH_PRECISION, f"{shown.path}: {shown.message}", result.findings)
        detail = (
            f"{len(result.violations)} violation(s); first {first.rule} at "
            f"{first.path or '(body)'}: {first.message}"
        )
        raise ServiceRefusal(NOT_CONFORMING, detail, result.findings)
    return result


#: The validator's rules that read the clock (harness.validator.checks `deadline.expired`,
#: `deadline.call-expired` and v0.8.6's `grant.expired`, the only checks reading `env.now`; a
#: test pins the list against the checks' source). Each refuses a deadline or expiry at or
#: before now, so a body accepted at a clock is accepted at any earlier one.
CLOCK_RULES = frozenset({"deadline.expired", "deadline.call-expired", "grant.expired"})


@dataclass(frozen=True)
class Prejudged:
    """A body judged before the chain worker, at `options.now` (a clock ahead of the chain's):
    `result` when it was accepted there, None when a clock rule refused it (then only the
    chain's own clock decides: `settle` judges it again)."""

    data: Any
    where: str
    options: Options
    result: Result | None


def prejudge(data: Any, where: str, options: Options) -> Prejudged:
    """The verdict that needs no chain: `judge` at `options.now`. A refusal naming no clock rule
    is final and raised here (parse, rules, signatures: no clock can change it); a refusal
    naming one is kept for `settle`."""
    try:
        return Prejudged(data, where, options, judge(data, where, options))
    except ServiceRefusal as refusal:
        if CLOCK_RULES.isdisjoint(f.rule for f in refusal.findings):
            raise
        return Prejudged(data, where, options, None)


def settle(prejudged: Prejudged, now: int) -> Result:
    """The verdict at the chain's clock `now` (read by the chain worker, just before it
    executes): the early acceptance stands when `now` is not past the clock it was judged at
    (every deadline is after that clock, so after `now`); otherwise the body is judged again
    at `now`, exactly as if it had never been judged early."""
    early = prejudged.options
    if prejudged.result is not None and early.now is not None and now <= early.now:
        return prejudged.result
    return judge(prejudged.data, prejudged.where, Options(early.kind, early.context, now))


@dataclass(frozen=True)
class Noted:
    """What an accepted body's answer says about it, in the harness headers."""

    warnings: list[dict[str, str]]
    info: list[dict[str, str]]


def noted(result: Result, data: Any) -> Noted:
    """The warnings and the information of an accepted body. A published form the builder guide
    writes otherwise (JSON-integer SignedOperation uints, Trading-SDK enigma-solver.ts
    `Eip712SignedOperationJSON`; the `ApiV2InstantCloseRequest` `{operations}` close) is the
    validator's severity "info": information, never a warning (real-world.md §0, §4)."""
    warnings: list[dict[str, str]] = []
    info: list[dict[str, str]] = []
    for f in result.findings:
        if f.severity == "error":
            continue
        item = {"rule_id": f.rule, "path": f.path, "message": f.message}
        (warnings if f.severity == "warning" else info).append(item)
    if isinstance(result.value, InstantClose):
        form = "a bare list" if isinstance(data, list) else '{"operations": [...]}'
        info.append(
            {
                "rule_id": "close.form",
                "path": "",
                "message": f"close body sent as {form}; both forms are accepted",
            }
        )
    return Noted(warnings, info)


def decimal_text(value: Any, field: str) -> Decimal:
    """A strict decimal string: ASCII digits, at most one point with digits on both sides; no
    sign, exponent, underscore, whitespace or non-ASCII digit. ServiceRefusal naming `field`."""
    if not isinstance(value, str):
        raise ServiceRefusal(
            BAD_PARAMETER, f"{field}: expected a decimal string, got {type(value).__name__}"
        )
    if len(value) > MAX_DECIMAL_CHARS or not _DECIMAL.fullmatch(value) or not value.isascii():
        shown = value if len(value) <= 40 else value[:40] + "..."
        raise ServiceRefusal(
            BAD_PARAMETER,
            f"{field}: expected a decimal string of ASCII digits with at most one point (no "
            f"sign, exponent, underscore or other digits), got {shown!r}",
        )
    return Decimal(value)
