"""A Binance-style mark-price feed over the backend's marks: the price source of the Base profile
(real-world.md §1: Rasa has no mark-price feed of its own; the reference UI and the SDK read the
Binance USD-M futures all-symbols mark-price stream).

What is served is exactly the subset the official SDK's Binance price client reads (Trading-SDK,
read 2026-12-07): its hand-written wire types `packages/core/src/price-service/binance/types.ts`
(`RawBinancePremiumIndexRow`, `RawBinanceMarkPriceFrame`; Binance publishes no machine-readable
spec for USD-M futures, the SDK says so) and its frame parser `parseBinancePriceFrame` (reads `s`
and `p`, then `i`, `r`, `T`, `E` when present; `p` a decimal string), with the chain registry's
Base `priceService` (`packages/core/src/chains/chain-configs.ts`: REST root + `/fapi/v1/...`,
websocket `/market/ws/!markPrice@arr@1s`, one push a second).

Under its base URL (`/prices` in `serve` on a Binance-priced profile; `price_url` in `/context`):
- `GET /fapi/v1/premiumIndex`: every symbol's `RawBinancePremiumIndexRow`, an array; with
  `?symbol=NAME` that one row, an object (Binance's all/one forms). An unknown symbol answers
  Binance's own 400 `{"code": -1121, "msg": "Invalid symbol."}`.
- `ws /market/ws/!markPrice@arr@1s` (`price_ws_url`): broadcast-only, a top-level JSON array of
  `markPriceUpdate` entries `{e, E, s, p, i, P, r, T}` on connect, after every mark change and
  every tick (default 1 s), the machinery of `prices.PriceService` (bounded per-client queue).

`s`/`symbol` is the contract-symbols `name` (the SDK: "Equals the SYMMIO market name"). Every
price is a decimal STRING, as Binance sends it (`format_decimal`: exact, never a float). The mock
has no index and charges no funding: `i`/`indexPrice` and `P`/`estimatedSettlePrice` repeat the
mark, `r`/`lastFundingRate` is "0", and `T`/`nextFundingTime` is the next funding epoch boundary
(the solver's published `funding_rate_epoch_duration`, `solver.NO_FUNDING`).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute

from ..pricing import format_decimal
from .backend import Mark, now_ms
from .plumbing import guarded
from .prices import JsonText, PriceService
from .published import dumps
from .solver import NO_FUNDING

SDK_BINANCE_TYPES = "SYMM-IO/Trading-SDK packages/core/src/price-service/binance/types.ts"
PREMIUM_INDEX_PATH = "/fapi/v1/premiumIndex"
#: the all-symbols stream at the path the SDK's Base registry dials (`/market/ws/...`: the
#: registry notes the documented `/ws/<stream>` form connects and never pushes)
MARK_PRICE_STREAM = "!markPrice@arr@1s"
MARK_PRICE_WS_PATH = f"/market/ws/{MARK_PRICE_STREAM}"
MARK_PRICE_EVENT = "markPriceUpdate"
#: Binance's error for an unknown `symbol` (its REST error body `{code, msg}`)
INVALID_SYMBOL = {"code": -1121, "msg": "Invalid symbol."}
_STR: dict[str, Any] = {"type": "string"}
_MS: dict[str, Any] = {"type": "integer", "minimum": 0}


def _object(props: dict[str, Any], required: tuple[str, ...]) -> dict[str, Any]:
    return {"type": "object", "properties": props, "required": list(required)}


#: the subset of Binance's shapes the SDK reads, each declared once with its source
SCHEMAS: dict[str, dict[str, Any]] = {
    "RawBinancePremiumIndexRow": {
        "x-source": f"{SDK_BINANCE_TYPES} RawBinancePremiumIndexRow",
        **_object(
            {
                "symbol": _STR,
                "markPrice": _STR,
                "indexPrice": _STR,
                "estimatedSettlePrice": _STR,
                "lastFundingRate": _STR,
                "interestRate": _STR,
                "nextFundingTime": _MS,
                "time": _MS,
            },
            ("symbol", "markPrice", "indexPrice", "lastFundingRate", "nextFundingTime"),
        ),
    },
    "RawBinanceMarkPriceFrame": {
        "x-source": f"{SDK_BINANCE_TYPES} RawBinanceMarkPriceFrame (an array of them per push)",
        **_object(
            {
                "e": {"const": MARK_PRICE_EVENT},
                "E": _MS,
                "s": _STR,
                "p": _STR,
                "i": _STR,
                "P": _STR,
                "r": _STR,
                "T": _MS,
            },
            ("s", "p"),
        ),
    },
    "BinanceError": {
        "x-source": "Binance's REST error body {code, msg} (-1121 Invalid symbol.)",
        **_object({"code": {"type": "integer"}, "msg": _STR}, ("code", "msg")),
    },
}

FUNDING_EPOCH_MS = int(NO_FUNDING["funding_rate_epoch_duration"]) * 1000
NO_FUNDING_RATE = "0"


def next_funding_ms(now: int) -> int:
    """The next funding epoch boundary after `now` (unix ms)."""
    return (now // FUNDING_EPOCH_MS + 1) * FUNDING_EPOCH_MS


def mark_price_update(name: str, mark: Mark, event_ms: int) -> dict[str, Any]:
    """One `RawBinanceMarkPriceFrame` entry."""
    price = format_decimal(mark.price)
    return {
        "e": MARK_PRICE_EVENT,
        "E": event_ms,
        "s": name,
        "p": price,
        "i": price,
        "P": price,
        "r": NO_FUNDING_RATE,
        "T": next_funding_ms(event_ms),
    }


def premium_index_row(name: str, mark: Mark, now: int) -> dict[str, Any]:
    """One `RawBinancePremiumIndexRow`."""
    price = format_decimal(mark.price)
    return {
        "symbol": name,
        "markPrice": price,
        "indexPrice": price,
        "estimatedSettlePrice": price,
        "lastFundingRate": NO_FUNDING_RATE,
        "interestRate": NO_FUNDING_RATE,
        "nextFundingTime": next_funding_ms(now),
        "time": mark.time_ms,
    }


class BinanceMarkPrices(PriceService):
    """The Binance-style feed over `backend.prices` (the websocket machinery is the price
    service's; only the frames and the routes differ)."""

    def _marks(self) -> list[tuple[str, Mark]]:
        names = self.names()
        return [
            (names[m.symbol_id], m) for m in self.backend.prices.snapshot() if m.symbol_id in names
        ]

    def rows(self) -> list[dict[str, Any]]:
        now = now_ms()
        return [mark_price_update(name, mark, now) for name, mark in self._marks()]

    @guarded
    async def http_premium_index(self, request: Request) -> Response:
        now = now_ms()
        rows = {name: premium_index_row(name, mark, now) for name, mark in self._marks()}
        wanted = request.query_params.get("symbol")
        if wanted is None:
            return JsonText(dumps(list(rows.values())))
        if wanted not in rows:
            return JsonText(dumps(INVALID_SYMBOL), status_code=400)
        return JsonText(dumps(rows[wanted]))

    def routes(self) -> list[Any]:
        return [
            Route(PREMIUM_INDEX_PATH, self.http_premium_index),
            WebSocketRoute(MARK_PRICE_WS_PATH, self.ws_prices),
        ]


__all__ = [
    "MARK_PRICE_WS_PATH",
    "PREMIUM_INDEX_PATH",
    "SCHEMAS",
    "BinanceMarkPrices",
    "mark_price_update",
    "premium_index_row",
]
