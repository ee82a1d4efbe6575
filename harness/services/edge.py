"""What wraps the services' app at the edge: CORS, one log line per request, shutdown hooks.

- `cors`: every route answers CORS, preflights included (Starlette's CORSMiddleware). Allowed
  origins default to loopback ones (`http://localhost:5173`, `http://127.0.0.1:3000`, ...), so a
  browser dev server on this machine can call the services; `origins` replaces that list (`*`
  allows any).
- `AccessLog`: one line per request: method, path, status, the rule IDs of a refusal or the
  warnings of an accepted body, the injected fault that fired (`fault: reply_lost`),
  milliseconds; control characters of any field are escaped (`log_safe`).
  Websockets get a line when they close.
- `refuse_unknown_websockets`: a websocket handshake on a path nothing serves is refused with
  HTTP 404 (the ASGI websocket denial response), as an unknown HTTP path is; Starlette's routers
  would close it before accepting, which the server turns into a 403 that reads "forbidden".
- `on_shutdown`: runs callbacks at the server's lifespan shutdown (uvicorn re-raises SIGTERM
  after its own shutdown, so a `finally:` around the server never runs; toolchain notes).
"""

from __future__ import annotations

import json
import time
import unicodedata
from collections.abc import Callable, Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Router
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket

from .published import HARNESS_HEADERS, IDENTITY_HEADER, WARNINGS_HEADER

#: Loopback origins: http(s)://localhost, 127.x.x.x or [::1], any port.
LOOPBACK_ORIGINS = r"https?://(localhost|127(\.\d{1,3}){3}|\[::1\])(:\d{1,5})?"
#: Bodies the log looks into for rule IDs / warnings (answers are small; never the big ones).
_PEEK_BYTES = 64 * 1024
_WARNINGS = WARNINGS_HEADER.lower().encode()
#: the scope key a fault that fired is recorded under (`faults.faultable`), for the log line
FAULT_SCOPE_KEY = "harness.fault"
#: characters a log line never holds raw: controls (C0, DEL, C1), format characters (bidi
#: overrides), line and paragraph separators, surrogates; the backslash, so escapes are unambiguous
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})


def log_safe(text: str) -> str:
    """`text` with every unsafe character escaped (`\\x0a`, `\\u2028`, `\\\\`): one log line
    per request, always, and nothing a terminal interprets."""
    out: list[str] = []
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif unicodedata.category(ch) in _UNSAFE_CATEGORIES:
            code = ord(ch)
            wide = f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"
            out.append(f"\\x{code:02x}" if code < 0x100 else wide)
        else:
            out.append(ch)
    return "".join(out)


def cors(app: ASGIApp, origins: Sequence[str] | None = None) -> ASGIApp:
    """`app` answering CORS for the given origins (default: loopback origins only)."""
    return CORSMiddleware(
        app,
        allow_origins=list(origins or ()),
        allow_origin_regex=None if origins else LOOPBACK_ORIGINS,
        allow_methods=["GET", "POST", "DELETE", "OPTIONS"],
        allow_headers=["*"],
        expose_headers=["Retry-After", *HARNESS_HEADERS, IDENTITY_HEADER],
        max_age=600,
    )


async def websocket_not_found(scope: Scope, receive: Receive, send: Send) -> None:
    """Refuse the handshake with HTTP 404 naming the path (a server without the ASGI denial
    response extension can only close it)."""
    websocket = WebSocket(scope, receive, send)
    if "websocket.http.response" in scope.get("extensions", {}):
        message = f"Not Found: no websocket at {scope['path']}"
        await websocket.send_denial_response(PlainTextResponse(message, status_code=404))
    else:
        await websocket.close(code=1008)


def refuse_unknown_websockets(app: ASGIApp) -> None:
    """Make every router in `app` (and in the apps it mounts) refuse an unmatched websocket with
    `websocket_not_found`; unmatched HTTP requests keep the router's own 404."""
    router = app.router if isinstance(app, Starlette) else app
    if not isinstance(router, Router):
        return
    fallback = router.default

    async def default(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await websocket_not_found(scope, receive, send)
        else:
            await fallback(scope, receive, send)

    router.default = default
    for route in router.routes:
        if isinstance(route, Mount):
            refuse_unknown_websockets(route.app)


def _noted(status: int, body: bytes, warnings_header: bytes) -> str:
    """' refused: a,b' from a JSON refusal, ' warnings: c' from the harness warnings header of
    an accepted body (`published.WARNINGS_HEADER`), else ''."""
    if status < 300 and warnings_header:
        try:
            items = json.loads(warnings_header)
        except ValueError:
            return ""
        rules = [str(w.get("rule_id")) for w in items if isinstance(w, dict)]
        return " warnings: " + ",".join(rules) if rules else ""
    try:
        value = json.loads(body) if body else None
    except ValueError:
        return ""
    if isinstance(value, dict) and status >= 400 and value.get("rule_ids"):
        return " refused: " + ",".join(str(r) for r in value["rule_ids"])
    return ""


class AccessLog:
    """One line per request through `out` (nothing when `out` is None)."""

    def __init__(self, app: ASGIApp, out: Callable[[str], None] | None) -> None:
        self.app = app
        self.out = out

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.out is None or scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 0
        body = bytearray()
        json_body = False
        warnings_header = b""

        async def watch(message: Message) -> None:
            nonlocal status, json_body, warnings_header
            kind = message["type"]
            if kind == "http.response.start":
                status = message["status"]
                headers = dict(message.get("headers") or [])
                json_body = headers.get(b"content-type", b"").startswith(b"application/json")
                warnings_header = headers.get(_WARNINGS, b"")
            elif kind == "http.response.body" and json_body and len(body) < _PEEK_BYTES:
                body.extend(message.get("body", b"")[: _PEEK_BYTES - len(body)])
            elif kind == "websocket.accept":
                status = 101
            elif kind == "websocket.http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            ms = (time.perf_counter() - start) * 1000
            method = scope.get("method", "WS")
            shown = status if status else "-"
            noted = _noted(status, bytes(body), warnings_header)
            fault = scope.get(FAULT_SCOPE_KEY)
            fired = f" fault: {fault}" if fault else ""
            line = f"{method} {scope['path']} {shown}{noted}{fired} {ms:.1f} ms"
            self.out(log_safe(line))


def on_shutdown(app: ASGIApp, callbacks: Sequence[Callable[[], Any]]) -> ASGIApp:
    """`app`, answering the lifespan protocol itself and running `callbacks` at shutdown."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await app(scope, receive, send)
            return
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                for callback in callbacks:
                    callback()
                await send({"type": "lifespan.shutdown.complete"})
                return

    return wrapped
