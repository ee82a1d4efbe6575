"""The mock Enigma solver under `/api` (spec §4 "Enigma solver").

`POST /instant_trade/instant_open` and `/instant_trade/instant_close` judge the body with the
validator against the service's context (deployed addresses, hedger, affiliate, symbols; the
chain's clock) and refuse a non-conforming body with error 3000 and the rule IDs, before anything
touches the chain: judged first off the chain worker (parse, rules, signatures need no chain, so a
refusal never waits behind opens), the chain's clock settled by the worker just before it executes
(`plumbing.prejudge`, `plumbing.settle`). A conforming open runs as ONE `executeTemplate` (the
user's addMargin + sendQuote, the PartyB's lockQuote + openPosition, filled at the mark; when the
body gives the PartyB a flex range over sendQuote's upnlSig, as the SDK's Enigma open does, the
PartyB fills it with the placeholder at the fill price, sending the transaction itself:
`harness.upnl_sig`, `System.instant_open_tx`); a close as one `executeBatch` (each close request +
the PartyB's fill at the mark). Unlike the real solver the chain work is done before the answer, so
`temp_quote_status` is final at once; the websocket still reports `SendQuoteTransaction` /
`FillMarketOrderInstantClose` as the real one does.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.websockets import WebSocket

from .. import calldata as cd
from .. import eip712, pricing, wire
from ..chain import Sent
from ..context import Symbol
from ..model import InstantClose, InstantOpen
from ..primitives import to_hex
from ..revert import Reverted
from ..validator.engine import Options
from .backend import Backend, SymbolMarket
from .errors import (
    BAD_PARAMETER,
    CHAIN_REVERTED,
    UNKNOWN_SYMBOL,
    UNKNOWN_TEMP_QUOTE,
    ServiceRefusal,
    error_body,
    error_codes_detailed,
    error_codes_map,
)
from .faults import faultable
from .notifications import notifications_endpoint
from .plumbing import (
    NO_ROUTE_HANDLERS,
    Noted,
    Prejudged,
    guarded,
    noted,
    prejudge,
    read_json,
    settle,
)
from .published import harness_headers

#: Where the notifications websocket lives, relative to the solver's base URL.
NOTIFICATIONS_PATH = "/api/ws/notifications"


#: temp quote states. The published doc comment names "Failed" and "Cancelled" (Trading-SDK
#: enigma-solver.ts `ApiGetTempQuoteStatusResponse.error_code`); the mock's others follow that
#: spelling. The chain work is done before the answer, so a status is Opened or Failed at once.
PENDING, OPENED, FAILED = "Pending", "Opened", "Failed"


@dataclass
class TempQuote:
    """One instant_open as the solver tracks it."""

    temp_quote_id: int
    sub_account: str
    state: str
    quote_id: int = 0
    va_address: str | None = None
    sent: Sent | None = None
    error: dict[str, Any] | None = None
    #: sendQuote's decoded arguments, and the addMargin amount (wei) when there was one
    quote: dict[str, Any] = field(default_factory=dict)
    margin: int | None = None
    opened_price: int | None = None

    def status(self) -> dict[str, Any]:
        """`ApiGetTempQuoteStatusResponse`: a field the mock cannot know is absent, never null;
        the error fields only on failure."""
        q = self.quote
        out: dict[str, Any] = {"state": self.state, "sub_account": self.sub_account}
        if self.quote_id:
            out["quote_id"] = self.quote_id
        if self.va_address is not None:
            out["party_a_account"] = self.va_address
        if q:
            out |= {
                "symbol_id": q["symbolId"],
                "position_type": q["positionType"],
                "order_type": q["orderType"],
                "price": _amount(q["price"]),
                "quantity": _amount(q["quantity"]),
                "cva": _amount(q["cva"]),
                "lf": _amount(q["lf"]),
                "party_amm": _amount(q["partyAmm"]),
                # v0.8.5's sendQuote carries no funding-rate cap: the quote allows none
                "max_funding_rate": "0",
            }
        if self.margin is not None:
            out["margin"] = _amount(self.margin)
        if self.opened_price is not None:
            out["opened_price"] = _amount(self.opened_price)
        if self.error is not None:
            out |= {
                "error_code": self.error["code"],
                "error_category": self.error["category"],
                "error_message": self.error["error_message"],
                "error_detail": self.error["error_detail"],
            }
        return out


class Solver:
    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.temp_quotes: dict[int, TempQuote] = {}
        self._temp_ids = itertools.count(1)

    async def prejudge(self, data: Any, where: str, kind: str) -> Prejudged:
        """The body judged before the chain worker, on the judges' pool, at a clock ahead of the
        chain's: a refusal that no clock can change is raised here at once, never queued behind
        executions; the rest is settled by the worker at the chain's clock (`settle`)."""
        options = Options(kind, self.backend.context, self.backend.clock_ahead())
        return await self.backend.judging(lambda: prejudge(data, where, options))

    # --- execution (callable without HTTP)

    def open(self, body: InstantOpen, quote: dict[str, Any] | None = None) -> TempQuote:
        """`quote`: sendQuote's decoded arguments (the validator's), else decoded here."""
        backend = self.backend
        send = body.send_quote.signed_operation
        if quote is None:  # the deployment's open (v0.8.6: the capped sendQuote) or the legacy one
            quote = backend.system.decode_open(send.call_data)
        with backend.lock:
            record = TempQuote(
                -next(self._temp_ids), send.signer_account.addr, PENDING, quote=quote
            )
            if body.add_margin is not None:
                margin = cd.ADD_MARGIN_TO_NEXT_VA.decode(body.add_margin.signed_operation.call_data)
                record.margin = margin.get("amount")
            self.temp_quotes[record.temp_quote_id] = record
            mark = backend.mark_wei(quote["symbolId"])
            # the PartyB fills the whole quantity at this price (System.instant_open_tx)
            fill_price = quote["price"] if mark is None else mark
            try:
                opened = backend.system.instant_open(body, quote=quote, opened_price=fill_price)
            except Reverted as exc:
                record.state = FAILED
                record.error = error_body(CHAIN_REVERTED, str(exc))
                backend.notifier.publish_chain_failure(
                    record.sub_account,
                    "SendQuoteTransaction",
                    exc.name,
                    temp_quote_id=record.temp_quote_id,
                    error_code=CHAIN_REVERTED.code,
                )
                return record
            record.state, record.sent = OPENED, opened.sent
            record.quote_id, record.va_address = opened.quote_id, opened.virtual_account
            backend.va_owner[opened.virtual_account] = record.sub_account
            # No read of the quote back: the transaction succeeded, so the core holds what the
            # solver sent (openPosition by the PartyB of the whole quantity at the fill price;
            # a test compares the two).
            record.opened_price = fill_price
        backend.notifier.publish(
            record.sub_account,
            quote_id=record.quote_id,
            temp_quote_id=record.temp_quote_id,
            counterparty_address=backend.system.party_b.address,
            filled_amount_open=_amount(quote["quantity"]),
            avg_price_open=_amount(fill_price),
            last_seen_action="SendQuoteTransaction",
            action_status="success",
            va_address=record.va_address,
        )
        return record

    def close(self, body: InstantClose, closes: list[dict[str, Any]] | None = None) -> Sent:
        """`closes`: the requests' decoded arguments (the validator's), else decoded here."""
        backend = self.backend
        if closes is None:
            closes = [
                cd.REQUEST_TO_CLOSE_POSITION.decode(op.signed_operation.call_data)
                for op in body.operations
            ]
        requests = [
            (op.signed_operation.signer_account.addr, args)
            for op, args in zip(body.operations, closes, strict=True)
        ]
        with backend.lock:
            symbols = {backend.system.quote(args["quoteId"])["symbolId"] for _, args in requests}
            # one fill price for the batch: the mark when every quote is of one symbol
            price = backend.mark_wei(symbols.pop()) if len(symbols) == 1 else None
            try:
                sent = backend.system.instant_close(body, closed_price=price, closes=closes)
            except Reverted as exc:
                for va, args in requests:
                    backend.notifier.publish_chain_failure(
                        backend.owner_of_va(va),
                        "InstantRequestToClosePosition",
                        exc.name,
                        quote_id=args["quoteId"],
                        error_code=CHAIN_REVERTED.code,
                        va_address=va,
                    )
                raise ServiceRefusal(CHAIN_REVERTED, str(exc)) from None
            quotes = [backend.system.quote(args["quoteId"]) for _, args in requests]
        for (va, args), quote in zip(requests, quotes, strict=True):
            backend.notifier.publish(
                backend.owner_of_va(va),
                quote_id=args["quoteId"],
                counterparty_address=quote["partyB"],
                filled_amount_open=_amount(quote["quantity"]),
                filled_amount_close=_amount(quote["closedAmount"]),
                avg_price_open=_amount(quote["openedPrice"]),
                avg_price_close=_amount(price if price is not None else args["closePrice"]),
                last_seen_action="FillMarketOrderInstantClose",
                action_status="success",
                va_address=va,
            )
        return sent

    # --- HTTP

    @guarded
    @faultable("instant_open")
    async def http_instant_open(self, request: Request) -> JSONResponse:
        data = await read_json(request)
        early = await self.prejudge(data, request.url.path, "instant_open")

        def work() -> tuple[TempQuote, dict[str, Any], Noted]:
            result = settle(early, self.backend.now())
            quote = result.calls["sendQuote"]  # read and decoded once, by the validator
            return self.open(result.value, quote), quote, noted(result, data)

        record, quote, said = await self.backend.run(work)
        if record.state == FAILED:
            assert record.error is not None
            return JSONResponse(
                {**record.error, "temp_quote_id": record.temp_quote_id},
                status_code=CHAIN_REVERTED.http_status,
            )
        # ApiPostInstantOpenResponse {temp_quote_id, partyBmm}; the rest is in the headers
        tx = record.sent.tx_hash if record.sent else None
        return JSONResponse(
            {"temp_quote_id": record.temp_quote_id, "partyBmm": _amount(quote["partyBmm"])},
            headers=harness_headers(said.warnings, said.info, tx),
        )

    @guarded
    @faultable("instant_close")
    async def http_instant_close(self, request: Request) -> Response:
        data = await read_json(request)
        early = await self.prejudge(data, request.url.path, "instant_close")

        def work() -> tuple[Sent, Noted]:
            result = settle(early, self.backend.now())
            body: InstantClose = result.value  # read and decoded once, by the validator
            closes = [result.calls[k] for k in sorted(result.calls, key=_op_index)]
            return self.close(body, closes), noted(result, data)

        sent, said = await self.backend.run(work)
        # published reply: void ("returns no body on success"), so an EMPTY 200
        return Response(
            status_code=200, headers=harness_headers(said.warnings, said.info, sent.tx_hash)
        )

    @guarded
    async def http_locked_params(self, request: Request) -> JSONResponse:
        name = request.path_params["symbol_name"]
        market = self.backend.market_by_name(name)
        if market is None:
            raise ServiceRefusal(UNKNOWN_SYMBOL, f"symbolName: no symbol named {name!r}")
        raw = request.query_params.get("leverage")
        if raw is None or not raw.isascii() or not raw.isdigit() or raw.startswith("0"):
            raise ServiceRefusal(
                BAD_PARAMETER, f"leverage: expected a whole number >= 1, got {raw!r}"
            )
        if int(raw) > market.max_leverage:
            raise ServiceRefusal(
                BAD_PARAMETER,
                f"leverage: {raw} exceeds {name}'s max leverage {market.max_leverage}",
            )
        return JSONResponse({**market.locked_params, "leverage": raw})

    @guarded
    async def http_contract_symbols(self, request: Request) -> JSONResponse:
        caps = self.backend.system.generation.solver_fee_caps
        rows = [contract_symbol_row(m, caps) for _sid, m in sorted(self.backend.markets.items())]
        return JSONResponse({"count": len(rows), "symbols": rows})

    @guarded
    async def http_eip712_config(self, request: Request) -> JSONResponse:
        return JSONResponse(eip712_config(self.backend))

    def _temp(self, request: Request) -> TempQuote:
        raw = request.path_params["temp_quote_id"]
        strict = raw.isascii() and raw.startswith("-") and raw[1:].isdigit() and len(raw) <= 20
        temp = int(raw) if strict and not raw.startswith("-0") else 0
        if temp >= 0:
            raise ServiceRefusal(
                BAD_PARAMETER, f"tempQuoteId: expected a negative integer, got {raw!r}"
            )
        record = self.temp_quotes.get(temp)
        if record is None:
            raise ServiceRefusal(UNKNOWN_TEMP_QUOTE, f"tempQuoteId: {temp} was never issued")
        return record

    @guarded
    async def http_instant_quote_id(self, request: Request) -> JSONResponse:
        record = self._temp(request)
        # ApiGetQuoteIdResponse {quote_id?: number}: absent (not null) while there is none
        return JSONResponse({"quote_id": record.quote_id} if record.quote_id else {})

    @guarded
    async def http_temp_quote_status(self, request: Request) -> JSONResponse:
        record = self._temp(request)
        tx = record.sent.tx_hash if record.sent else None
        return JSONResponse(record.status(), headers=harness_headers(tx_hash=tx))

    @guarded
    async def http_error_codes(self, request: Request) -> JSONResponse:
        return JSONResponse(error_codes_map())

    @guarded
    async def http_error_codes_detailed(self, request: Request) -> JSONResponse:
        return JSONResponse(error_codes_detailed())

    async def ws_notifications(self, websocket: WebSocket) -> None:
        await notifications_endpoint(websocket, self.backend.notifier)

    def routes(self) -> list[BaseRoute]:
        return [
            Mount(
                "/api",
                routes=[
                    Route("/instant_trade/instant_open", self.http_instant_open, methods=["POST"]),
                    Route(
                        "/instant_trade/instant_close", self.http_instant_close, methods=["POST"]
                    ),
                    Route("/instant_trade/eip712-config", self.http_eip712_config),
                    Route("/get_locked_params/{symbol_name}", self.http_locked_params),
                    Route("/contract-symbols", self.http_contract_symbols),
                    Route("/instant_quote_id/{temp_quote_id}", self.http_instant_quote_id),
                    Route("/temp_quote_status/{temp_quote_id}", self.http_temp_quote_status),
                    Route("/error_codes", self.http_error_codes),
                    Route("/error_codes/detailed", self.http_error_codes_detailed),
                    WebSocketRoute("/ws/notifications", self.ws_notifications),
                ],
            )
        ]


def eip712_config(backend: Backend) -> dict[str, Any]:
    """Domain, separator, typehashes and type definitions, all from harness.eip712."""
    domain = backend.system.domain
    names = ("SignedOperation", "Account", "FlexField", "ReplayAttackHeader", "FlexFillAuth")
    return {
        "domain": wire.domain_to_wire(domain),
        "domain_separator": to_hex(eip712.separator(domain)),
        "typehashes": {n: to_hex(eip712.TYPEHASH[n]) for n in ("EIP712Domain", *names)},
        "types": eip712.eip712_types("SignedOperation"),
        "primaryType": "SignedOperation",
    }


#: contract-symbols `state` (Trading-SDK enigma-solver.ts `SymbolContractSymbol.state`:
#: "0: Disabled, 1: Close only, 2: Open only, 3: Fully enabled") and `side` ("all", "long" or
#: "short"): the mock trades every symbol both ways.
SYMBOL_FULLY_ENABLED = 3
SYMBOL_SIDE_ALL = "all"
#: funding: the mock charges none; the published fields are served as such
NO_FUNDING = {
    "max_funding_rate": "0",
    "funding_rate_epoch_duration": "28800",
    "funding_rate_window_time": "0",
}
MAX_QUANTITY = Decimal(1_000_000)
#: the symbol's notional cap (a JSON number, as published); a fixed limit like `max_quantity`,
#: not derived from the moving mark (marks come from the price service)
MAX_NOTIONAL_VALUE = 100_000_000_000


def contract_symbol_row(m: SymbolMarket, fee_caps: bool = False) -> dict[str, Any]:
    """One row of `GET /api/contract-symbols` (`SymbolContractSymbol`: decimal strings, a
    string `max_leverage`, an integer `state`). `token_address` is left out: the mock's symbols
    have no token (absent, not invented)."""
    s = m.symbol
    return {
        "symbol_id": s.id,
        "name": s.name,
        "symbol": m.asset,
        "asset": m.quote_asset,
        "price_precision": s.price_precision,
        "quantity_precision": s.quantity_precision,
        "trading_fee": pricing.format_decimal(m.trading_fee),
        "max_leverage": str(m.max_leverage),
        "lot_size": pricing.format_decimal(pricing.step(s.quantity_precision)),
        "min_acceptable_quote_value": pricing.format_decimal(m.min_acceptable_quote_value),
        "min_notional_value": pricing.format_decimal(m.min_acceptable_quote_value),
        "min_acceptable_portion_lf": "0",
        "max_quantity": pricing.format_decimal(MAX_QUANTITY),
        "max_notional_value": MAX_NOTIONAL_VALUE,
        "hedger_fee_open": pricing.format_decimal(m.trading_fee),
        "hedger_fee_close": pricing.format_decimal(m.trading_fee),
        "rfq_allowed": True,
        "is_valid": True,
        "state": SYMBOL_FULLY_ENABLED,
        "side": SYMBOL_SIDE_ALL,
        **NO_FUNDING,
        **(_fee_cap_minimums(s) if fee_caps else {}),
    }


def _fee_cap_minimums(s: Symbol) -> dict[str, str]:
    """v0.8.6: the symbol's SolverFeeCaps minimums, as Enigma serves them (decimal strings)."""
    return {
        "min_open_solver_fee_cap": pricing.format_decimal(s.min_open_solver_fee_cap),
        "min_close_solver_fee_cap": pricing.format_decimal(s.min_close_solver_fee_cap),
    }


def _op_index(path: str) -> int:
    """The operation index of a close's calls path (`[3]`, or `operations[3]` for the SDK's
    envelope)."""
    return int(path.rsplit("[", 1)[1].rstrip("]"))


def _amount(wei: int) -> str:
    return pricing.format_decimal(pricing.from_wei(wei).normalize())


def solver_app(solver: Solver) -> Starlette:
    """The solver alone (base URL = its root; endpoints under /api)."""
    return Starlette(routes=solver.routes(), exception_handlers=NO_ROUTE_HANDLERS)


__all__ = ["NOTIFICATIONS_PATH", "Solver", "TempQuote", "eip712_config", "solver_app"]
