"""Request plumbing shared by the two apps: strict body reading, refusals, no leaked internals."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..inputs import load_json
from ..validate import Options, Result, Validator
from .errors import INTERNAL, NOT_CONFORMING, UNREADABLE, ServiceRefusal, error_body, error_response

log = logging.getLogger("harness.services")

MAX_BODY_BYTES = 1 << 20

Handler = Callable[..., Awaitable[Response]]


def guarded(handler: Handler) -> Handler:
    """Refusals become their error code; anything else a 500 that names no internals, with a
    one-line reason in the log."""

    @functools.wraps(handler)
    async def wrapper(*args: Any) -> Response:
        request: Request = args[-1]  # a function (request) or a method (self, request)
        try:
            return await handler(*args)
        except ServiceRefusal as refusal:
            return error_response(refusal)
        except Exception as exc:
            log.error("%s %s failed: %s", request.method, request.url.path, exc.__class__.__name__)
            return JSONResponse(error_body(INTERNAL, ""), status_code=INTERNAL.http_status)

    return wrapper


async def read_json(request: Request) -> Any:
    """The body as JSON under the validator's limits; a refusal naming the problem otherwise."""
    data = await request.body()
    if len(data) > MAX_BODY_BYTES:
        raise ServiceRefusal(UNREADABLE, f"{len(data)} bytes; the limit is {MAX_BODY_BYTES}")
    loaded = load_json(data)
    if loaded.problem is not None:
        raise ServiceRefusal(UNREADABLE, loaded.problem[1])
    return loaded.value


async def validated(request: Request, kind: str, options: Options) -> tuple[Any, Result]:
    """Read the body and judge it with the validator; refuse it on any violation (warnings,
    such as JSON numbers or the close envelope, are let through and returned)."""
    data = await request.body()
    if len(data) > MAX_BODY_BYTES:
        raise ServiceRefusal(UNREADABLE, f"{len(data)} bytes; the limit is {MAX_BODY_BYTES}")
    result = Validator(options).validate_bytes(data, f"{request.url.path}", kind)
    if not result.usable:
        raise ServiceRefusal(UNREADABLE, result.findings[0].message, result.findings)
    if result.violations:
        first = result.violations[0]
        detail = (
            f"{len(result.violations)} violation(s); first {first.rule} at {first.path or '(body)'}"
        )
        raise ServiceRefusal(NOT_CONFORMING, detail, result.findings)
    return load_json(data).value, result
