"""Fault injection for the mock services: `POST /mock/faults` arms the next N requests of a
route with one fault, so a client's retry and reconciliation logic can be tested.

| fault | what the client sees | executed? |
|---|---|---|
| `rate_limited` | 429 with `Retry-After` | no |
| `unavailable` | 503 with `Retry-After` | no |
| `timeout_after_accept` | the answer after `delay_seconds` (a shorter client timeout fires) | yes |
| `error_after_execute` | 500 (no internals) | yes |
| `reply_lost` | the connection is dropped before the answer's body | yes |

Routes: `instant_open`, `instant_close`, `tpsl` (submit), `tpsl_cancel`, `tpsl_search`, `price`.
`DELETE /mock/faults` resets everything: what is armed and the history (`fired`, `requests`).
A fault that fires is named on the request's line in serve's log (`fault: reply_lost`).
A refusal (nothing executed) is answered as such even when a fault is armed. In-process (Starlette's
TestClient) `reply_lost` shows as a 200 whose body is cut short, which the clients treat as
ambiguous too.
"""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from .edge import FAULT_SCOPE_KEY
from .errors import INTERNAL, RATE_LIMITED, UNAVAILABLE, ServiceRefusal, error_body, error_response

FAULTS = (
    "rate_limited",
    "unavailable",
    "timeout_after_accept",
    "error_after_execute",
    "reply_lost",
)
ROUTES = ("instant_open", "instant_close", "tpsl", "tpsl_cancel", "tpsl_search", "price")
BEFORE_EXECUTION = ("rate_limited", "unavailable")
MAX_COUNT = 1000
MAX_DELAY_SECONDS = 30


@dataclass
class Armed:
    fault: str
    count: int
    retry_after: int = 1
    delay_seconds: float = 2.0


class Faults:
    """The armed faults per route (thread-safe: handlers may run on any loop)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._armed: dict[str, list[Armed]] = {}
        self.fired: list[tuple[str, str]] = []
        #: requests seen per route (faulted or not)
        self.requests: dict[str, int] = {}

    def arm(self, route: str, armed: Armed) -> None:
        with self._lock:
            self._armed.setdefault(route, []).append(armed)

    def clear(self) -> None:
        """Everything: what is armed and the history (`fired`, `requests`)."""
        with self._lock:
            self._armed.clear()
            self.fired.clear()
            self.requests.clear()

    def take(self, route: str) -> Armed | None:
        """The fault for this request of `route`, if one is armed (consumes one count)."""
        with self._lock:
            self.requests[route] = self.requests.get(route, 0) + 1
            queue = self._armed.get(route)
            if not queue:
                return None
            armed = queue[0]
            armed.count -= 1
            if armed.count <= 0:
                queue.pop(0)
            self.fired.append((route, armed.fault))
            return armed

    def describe(self) -> dict[str, Any]:
        """What is armed, what fired (in order), and the requests seen per route."""
        with self._lock:
            armed = {
                route: [vars(a).copy() for a in queue]
                for route, queue in self._armed.items()
                if queue
            }
            return {
                "armed": armed,
                "fired": [list(f) for f in self.fired],
                "requests": dict(self.requests),
            }


def read_fault(body: Any) -> tuple[str, Armed]:
    """Strict reading of `{"route", "fault", "count"[, "retry_after", "delay_seconds"]}`."""
    from .errors import BAD_PARAMETER

    allowed = {"route", "fault", "count", "retry_after", "delay_seconds"}
    if not isinstance(body, dict):
        raise ServiceRefusal(BAD_PARAMETER, '(body): expected {"route", "fault", "count"}')
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise ServiceRefusal(BAD_PARAMETER, f"{unknown[0]}: unknown key")
    missing = [k for k in ("route", "fault", "count") if k not in body]
    if missing:
        raise ServiceRefusal(BAD_PARAMETER, f"{missing[0]}: required")
    route, fault, count = body["route"], body["fault"], body["count"]
    if route not in ROUTES:
        raise ServiceRefusal(BAD_PARAMETER, f"route: expected one of {', '.join(ROUTES)}")
    if fault not in FAULTS:
        raise ServiceRefusal(BAD_PARAMETER, f"fault: expected one of {', '.join(FAULTS)}")
    if type(count) is not int or not 1 <= count <= MAX_COUNT:
        raise ServiceRefusal(BAD_PARAMETER, f"count: expected a whole number 1 to {MAX_COUNT}")
    retry_after = body.get("retry_after", 1)
    if type(retry_after) is not int or not 0 <= retry_after <= 60:
        raise ServiceRefusal(BAD_PARAMETER, "retry_after: expected whole seconds 0 to 60")
    delay = body.get("delay_seconds", 2)
    if type(delay) not in (int, float) or not 0 <= delay <= MAX_DELAY_SECONDS:
        raise ServiceRefusal(
            BAD_PARAMETER, f"delay_seconds: expected a number 0 to {MAX_DELAY_SECONDS}"
        )
    return route, Armed(fault, count, retry_after, float(delay))


class DroppedReply(Response):
    """Headers promising a body that never comes: the server closes the connection, so the
    client sees the connection dropped after the request was executed."""

    def __init__(self) -> None:
        super().__init__(status_code=200, media_type="application/json")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"64")],
            }
        )
        await send({"type": "http.response.body", "body": b"{", "more_body": True})


def faultable(route: str) -> Callable[[Callable[..., Awaitable[Response]]], Any]:
    """Wrap a (guarded) handler of `route` so an armed fault applies to it."""

    def decorate(handler: Callable[..., Awaitable[Response]]) -> Callable[..., Awaitable[Response]]:
        @functools.wraps(handler)
        async def wrapper(self: Any, request: Request) -> Response:
            armed = self.backend.faults.take(route)
            if armed is None:
                return await handler(self, request)
            request.scope[FAULT_SCOPE_KEY] = armed.fault  # named on the request's log line
            if armed.fault in BEFORE_EXECUTION:
                error = RATE_LIMITED if armed.fault == "rate_limited" else UNAVAILABLE
                return error_response(
                    ServiceRefusal(error, f"injected fault on {route}"),
                    headers={"Retry-After": str(armed.retry_after)},
                )
            response = await handler(self, request)
            if armed.fault == "error_after_execute":
                return JSONResponse(error_body(INTERNAL, ""), status_code=INTERNAL.http_status)
            if armed.fault == "timeout_after_accept":
                await asyncio.sleep(armed.delay_seconds)
                return response
            return DroppedReply()

        return wrapper

    return decorate
