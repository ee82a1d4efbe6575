"""The price service: Enigma's "lowcap-price" over the backend's marks (real-world spec §4
"Price service"; the SDK's generated client `price-service/enigma/types/generated/
enigma-price-service.ts`, generated from `https://lowcap-price.enigma.bz/openapi.json`).

Under its base URL (`/prices` in `serve`; `price_url` in `GET /context`):
- `GET /api/v1/price`: every symbol's `{name, markPrice, time}`, an array (the SDK's
  `getPricesApiV1PriceGet`; `name` is the contract-symbols `name`).
- `GET /api/v1/prices/{names}` (comma-separated, at most 50): a map keyed by the requested
  names (`getSymbolPricesBatchApiV1PricesNamesGet`). The KEY is authoritative, not the inner
  `name`: for a lowcap market (`TIBBIR::A4..00_SFLOW`) the inner `name` is the ticker before
  `::` (SDK `price-service/providers/enigma-mark-prices.ts` and its test). A name the service
  does not know is left out of the map, never an error: the SDK's test "omits names the service
  does not return rather than failing the batch" (`enigma-mark-prices.test.ts`).
- `GET /health`: `{"status": "ok"}` (the SDK types its payload `unknown`).
- `ws /ws` (`price_ws_url`): broadcast-only, no subscribe message (SDK `watchEnigmaPrices`);
  every frame is a full snapshot, the JSON list of `{name, markPrice, time}` that the SDK's
  `parsePriceFrame` reads, pushed on connect, after every mark change (`Backend.prices` announces
  each: `POST /coh/mock/price`, anything moving a mark) and every `tick_seconds` (default 1 s).
  Each client has its own bounded queue: when a client does not read, its oldest snapshot is
  dropped (a newer one supersedes it) and nobody else waits.

Not served (the mock's markets carry no token address, which these are keyed by): prices by
token address (`GET /api/v1/prices?addresses=`), `GET /api/v1/metadata?addresses=` (pool
`chain_id`, `pair_address`) and the symbols-info listing (`name, status, address`).

`markPrice` is a JSON number on the wire, as published (`PriceData.markPrice: number`), but it
is computed from the mark's `Decimal`: bodies are written by `published.dumps`, the number as the
Decimal's exact positional text (no exponent), never through a float. (Starlette's JSONResponse
uses `json.dumps`, which cannot write a Decimal.)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from .backend import Backend, Mark
from .errors import BAD_PARAMETER, ServiceRefusal
from .plumbing import guarded
from .published import dumps

log = logging.getLogger("harness.services")

PRICE_WS_PATH = "/ws"
ALL_PRICES_PATH = "/api/v1/price"
PRICES_BY_NAMES_PATH = "/api/v1/prices"
#: "Max 50 per API contract" (SDK `getEnigmaPriceServicePricesByNames`, its `names` parameter)
MAX_NAMES = 50
#: the steady push interval of the websocket (the real feed and Binance's `@1s` push each second)
DEFAULT_TICK_SECONDS = 1.0
#: snapshots a client that does not read may have waiting; beyond, its oldest is dropped
MAX_QUEUED = 32
#: the lowcap market names' separator: `TICKER::<short address>_<pool>`
LOWCAP_SEPARATOR = "::"


def price_row(name: str, mark: Mark) -> dict[str, Any]:
    """One `PriceData`: `{name, markPrice, time}` (time in unix ms)."""
    return {"name": name, "markPrice": mark.price, "time": mark.time_ms}


def ticker(name: str) -> str:
    """The inner `name` the batch route gives a market: the ticker of a lowcap name."""
    return name.split(LOWCAP_SEPARATOR, 1)[0]


def read_names(raw: str) -> list[str]:
    """The comma-separated `names` path parameter; empty entries are skipped (the SDK never
    sends them: it drops blank names before joining)."""
    names = [n for n in raw.split(",") if n]
    if not names:
        raise ServiceRefusal(BAD_PARAMETER, "names: expected one or more comma-separated names")
    if len(names) > MAX_NAMES:
        raise ServiceRefusal(
            BAD_PARAMETER, f"names: at most {MAX_NAMES} names per request, got {len(names)}"
        )
    return names


class JsonText(Response):
    media_type = "application/json"


@dataclass(eq=False)
class PriceClient:
    """One websocket client: its loop and its bounded queue of snapshot texts."""

    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[str]
    dropped: int = 0

    def offer(self, text: str) -> None:
        """Queue a snapshot (on the client's loop); a full queue drops its oldest first."""
        if self.queue.full():
            self.queue.get_nowait()
            self.dropped += 1
        self.queue.put_nowait(text)

    def offer_threadsafe(self, text: str) -> None:
        with contextlib.suppress(RuntimeError):  # its loop has closed: the client is leaving
            self.loop.call_soon_threadsafe(self.offer, text)


class PriceService:
    """The price service over `backend.prices`; `app` is its ASGI app (base URL = its root)."""

    def __init__(self, backend: Backend, *, tick_seconds: float = DEFAULT_TICK_SECONDS) -> None:
        if not tick_seconds > 0:
            raise ValueError(f"tick_seconds: expected a positive interval, got {tick_seconds}")
        self.backend = backend
        self.tick_seconds = tick_seconds
        self._lock = threading.Lock()  # publish runs on whatever thread moved the mark
        self._clients: set[PriceClient] = set()
        self._stop_listening: Callable[[], None] = backend.prices.listen(self.publish)
        self.app = Starlette(routes=self.routes())

    # ------------------------------------------------------------------ snapshots

    def names(self) -> dict[int, str]:
        return {sid: m.symbol.name for sid, m in self.backend.markets.items()}

    def rows(self) -> list[dict[str, Any]]:
        names = self.names()
        return [
            price_row(names[mark.symbol_id], mark)
            for mark in self.backend.prices.snapshot()
            if mark.symbol_id in names
        ]

    def snapshot_text(self) -> str:
        return dumps(self.rows())

    def publish(self) -> None:
        """A mark changed: every client gets the new full snapshot (never blocks)."""
        with self._lock:
            clients = list(self._clients)
        if not clients:
            return
        text = self.snapshot_text()
        for client in clients:
            client.offer_threadsafe(text)

    def add(self, client: PriceClient) -> None:
        with self._lock:
            self._clients.add(client)

    def remove(self, client: PriceClient) -> None:
        with self._lock:
            self._clients.discard(client)

    @property
    def client_count(self) -> int:
        with self._lock:
            return len(self._clients)

    # ------------------------------------------------------------------ routes

    @guarded
    async def http_all_prices(self, _request: Request) -> Response:
        return JsonText(self.snapshot_text())

    @guarded
    async def http_prices_by_names(self, request: Request) -> Response:
        requested = read_names(request.path_params["names"])
        by_name = {row["name"]: row for row in self.rows()}
        found = {
            name: {**by_name[name], "name": ticker(name)} for name in requested if name in by_name
        }
        return JsonText(dumps(found))

    @guarded
    async def http_health(self, _request: Request) -> Response:
        return JsonText(dumps({"status": "ok"}))

    async def ws_prices(self, websocket: WebSocket) -> None:
        await websocket.accept()
        client = PriceClient(asyncio.get_running_loop(), asyncio.Queue(MAX_QUEUED))
        self.add(client)
        client.offer(self.snapshot_text())  # on connect

        async def pump() -> None:
            while True:
                await websocket.send_text(await client.queue.get())

        async def tick() -> None:
            while True:
                await asyncio.sleep(self.tick_seconds)
                client.offer(self.snapshot_text())

        tasks = [asyncio.create_task(pump()), asyncio.create_task(tick())]
        try:
            while True:  # broadcast-only: what a client sends is read and ignored
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    break
        except WebSocketDisconnect:
            pass
        except Exception as exc:  # one line in the log, never a traceback at the client
            log.error("price websocket: %s", exc.__class__.__name__)
        finally:
            for task in tasks:
                task.cancel()
            self.remove(client)

    def routes(self) -> list[Any]:
        return [
            Route(ALL_PRICES_PATH, self.http_all_prices),
            Route(PRICES_BY_NAMES_PATH + "/{names}", self.http_prices_by_names),
            Route("/health", self.http_health),
            WebSocketRoute(PRICE_WS_PATH, self.ws_prices),
        ]

    def close(self) -> None:
        self._stop_listening()


__all__ = [
    "ALL_PRICES_PATH",
    "MAX_NAMES",
    "PRICES_BY_NAMES_PATH",
    "PRICE_WS_PATH",
    "PriceService",
]
