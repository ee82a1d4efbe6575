"""The mock Conditional Orders Handler (TP/SL) under `/api/v5` (spec §4 "COH", step 8).

`POST /api/v5/` judges the body with the validator against the service's context (whose
`tpsl_domain()` is the domain served at `/api/v5/signing-spec`), then checks on chain what a real
COH checks: the signer holds `0x00000001` on the sub-account (`isDelegationActive`), the VA belongs
to the sub-account, the quote is open on that VA, and the TP/SL bot may close for it. The order is
stored as state "new". `POST /mock/price` moves a symbol's mark; an order whose trigger it crosses
is closed on chain by the bot through ITS OWN delegation (signed by the bot key, signerAccount =
the VA, filled by the PartyB at the new mark), and the solver's websocket reports the fill.

`DELETE /api/v5/` cancels one leg with the delete message `{virtualAccount, salt, cohQuoteId,
conditionalOrderType}` signed under the types served at `/api/v5/signing-spec-del` (checked here:
the validator does not cover the delete message). Not served: the COH's own websocket (an order is
"new" as soon as it is stored).
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket

from .. import calldata as cd
from .. import eip712, flow, pricing, wire
from ..chain import Sent
from ..errors import SignatureError
from ..model import ConditionalOrderDelete, Domain, Leg, TpslRequest
from ..revert import Reverted
from ..validate import Options
from .backend import Backend
from .errors import (
    BAD_PARAMETER,
    NOT_CONFORMING,
    NOT_DELEGATED,
    REPLAYED,
    TOO_MANY_ORDERS,
    UNKNOWN_SYMBOL,
    WRONG_POSITION,
    ServiceRefusal,
)
from .faults import faultable
from .notifications import Notifier, notifications_endpoint
from .plumbing import NO_ROUTE_HANDLERS, Noted, decimal_text, guarded, judge, noted, read_json
from .published import (
    PublishedJSON,
    coh_quote_id_number,
    coh_quote_id_text,
    dumps,
    harness_headers,
    number,
)

QUOTE_OPENED = 4
QUOTE_CLOSE_PENDING = 5
ORDER_STATES = ("pending", "new", "triggered", "triggered_pending", "canceled", "killed")
ORDER_TYPES = ("take_profit", "stop_loss", "send_quote")
#: `GET /api/v5/configs/`: numbers (Trading-SDK tpsl-handler.ts `ConfigResponseSchema`), served
#: as JSON numbers from their exact Decimal text (`published.PublishedJSON`)
CONFIGS = {
    "MaxRequestTimeDeltaSeconds": 60,
    "MinPriceDistancePercent": Decimal("0.1"),
    "MinProfitStopLossSpreadPercent": Decimal("0.2"),
    "MaxActiveOrdersPerUser": 50,
}
ACTIVE_STATES = ("pending", "new", "triggered_pending")
#: `ConditionalOrderSearchRequestSchemaV3` (Trading-SDK tpsl-handler.ts): its filters, the row
#: field each one matches, and the enum values of the enum filters
SEARCH_FILTERS = (
    "party_a_address",
    "symbol_id",
    "state",
    "order_type",
    "conditional_order_type",
    "conditional_price_type",
    "start",
    "size",
)
SEARCH_FIELDS = {
    "party_a_address": "party_a_address",
    "symbol_id": "symbol_id",
    "order_type": "order_type",
    "conditional_order_type": "conditional_order_type",
    "conditional_price_type": "action_price_type",
}
SEARCH_ENUMS: dict[str, tuple[Any, ...]] = {
    "order_type": (0, 1),
    "conditional_order_type": ORDER_TYPES,
    "conditional_price_type": ("market", "last_close"),
}
DEFAULT_PAGE = 50
#: the mock's own search filter (not published): the signed order's salt, so an at-most-once
#: client can tell its order from an identical one
MOCK_SEARCH_FILTER = "salt"
#: Where the COH's order websocket lives, relative to its base URL (mock path).
COH_WS_PATH = "/api/v5/ws"
TRIGGER_DEADLINE_SECONDS = 600
BOT_SLIPPAGE_PCT = Decimal(5)


@dataclass
class StoredLeg:
    """One stored conditional order: a used leg of a signed ConditionalOrder."""

    coh_quote_id: int
    order_type: str  # take_profit / stop_loss
    request: TpslRequest
    leg: Leg
    state: str = "new"
    tx_hash: str | None = None
    sent: Sent | None = None
    failure: str | None = None
    #: chain seconds when stored and when its state last changed (`create_time`, `modify_time`)
    created: int = 0
    modified: int = 0

    @property
    def published_id(self) -> str:
        return coh_quote_id_text(self.coh_quote_id)

    def to_json(self) -> dict[str, Any]:
        """A search row, `ConditionalOrderResponseSchema` (Trading-SDK tpsl-handler.ts as
        patched by its orval.config.ts to the live shape): amounts as numbers (Decimals here,
        written by `published.dumps`), the id a "coh…" string. Nothing harness-only."""
        order = self.request.order
        return {
            "quote_id": order.quote_id,
            "coh_quote_id": self.published_id,
            "party_a_address": order.virtual_account,
            "symbol_id": order.symbol_id,
            "conditional_order_type": self.order_type,
            "quantity": number(self.leg.quantity),
            "price": number(self.leg.price),
            "conditional_order_price": number(self.leg.conditional_price),
            "order_type": self.leg.order_type,
            "state": self.state,
            "action_price_type": self.leg.conditional_price_type,
            "close_status": None,
            "position_type": order.position_type,
            "leverage": None,
            "create_time": self.created,
            "modify_time": self.modified,
        }

    def mock_json(self) -> dict[str, Any]:
        """The row plus what only the harness knows (mock routes and the COH websocket)."""
        order = self.request.order
        return {
            **self.to_json(),
            "sub_account": order.sub_account,
            "salt": str(order.salt),
            "signer": self.request.signer,
            "tx_hash": self.tx_hash,
            "failure_message": self.failure,
        }

    def crossed(self, price: Decimal) -> bool:
        """Take profit: the mark reached the trigger in the position's favour; stop loss:
        against it."""
        trigger = Decimal(self.leg.conditional_price)
        upward = (self.order_type == "take_profit") == (
            self.request.order.position_type == cd.POSITION_LONG
        )
        return price >= trigger if upward else price <= trigger


class ConditionalOrders:
    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.orders: dict[int, list[StoredLeg]] = {}
        self._ids = itertools.count(1)
        self._signatures: set[bytes] = set()
        self._salts: set[tuple[str, int]] = set()
        #: the COH's own websocket: a frame per order state change (`state: "new"` once stored)
        self.notifier = Notifier()

    # --- execution (callable without HTTP)

    def submit(self, request: TpslRequest) -> int:
        """On-chain checks, then store; ServiceRefusal naming the field otherwise."""
        backend, order = self.backend, request.order
        system = backend.system
        with backend.lock:
            if request.signature in self._signatures:
                raise ServiceRefusal(
                    REPLAYED, "signature: this signed order was already stored (replay)"
                )
            if (order.virtual_account, order.salt) in self._salts:
                raise ServiceRefusal(
                    REPLAYED,
                    f"typedData.message.salt: salt {order.salt} was already used for "
                    f"{order.virtual_account} (replay); sign a new order with a fresh salt",
                )
            used = [
                leg for leg in (order.take_profit, order.stop_loss) if Decimal(leg.quantity) != 0
            ]
            active = self.active_orders(order.sub_account)
            limit = CONFIGS["MaxActiveOrdersPerUser"]
            if active + len(used) > limit:
                raise ServiceRefusal(
                    TOO_MANY_ORDERS,
                    f"typedData.message.subAccount: {order.sub_account} has {active} active "
                    f"orders; MaxActiveOrdersPerUser is {limit}",
                )
            if not system.is_delegation_active(
                order.sub_account, request.signer, cd.SESSION_KEY_MARKER
            ):
                raise ServiceRefusal(
                    NOT_DELEGATED,
                    f"signer: {request.signer} holds no active 0x00000001 delegation on the "
                    f"sub-account {order.sub_account} (isDelegationActive)",
                )
            va = system.view(
                system.account_layer.functions.getVirtualAccount(order.virtual_account)
            )
            if not va[3] or va[1] != order.sub_account:
                raise ServiceRefusal(
                    WRONG_POSITION,
                    f"typedData.message.virtualAccount: {order.virtual_account} is not a virtual "
                    f"account of {order.sub_account}",
                )
            quote = system.quote(order.quote_id) if order.quote_id > 0 else None
            if quote is None or quote["partyA"] != order.virtual_account:
                raise ServiceRefusal(
                    WRONG_POSITION,
                    f"typedData.message.quoteId: quote {order.quote_id} is not a position of "
                    f"{order.virtual_account}",
                )
            if quote["quoteStatus"] != QUOTE_OPENED:
                raise ServiceRefusal(
                    WRONG_POSITION,
                    f"typedData.message.quoteId: quote {order.quote_id} is not open "
                    f"(status {quote['quoteStatus']})",
                )
            if quote["symbolId"] != order.symbol_id or quote["positionType"] != order.position_type:
                raise ServiceRefusal(
                    WRONG_POSITION,
                    "typedData.message: symbolId/positionType differ from the quote's "
                    f"({quote['symbolId']}/{quote['positionType']})",
                )
            close = cd.REQUEST_TO_CLOSE_POSITION.selector
            if not system.is_delegation_active(order.sub_account, backend.bot.address, close):
                raise ServiceRefusal(
                    NOT_DELEGATED,
                    f"the TP/SL bot {backend.bot.address} holds no active delegation for "
                    f"requestToClosePosition (0x{close.hex()}) on {order.sub_account} (step 5)",
                )
            coh_id = next(self._ids)
            now = backend.now()
            legs = [
                StoredLeg(coh_id, kind, request, leg, created=now, modified=now)
                for kind, leg in (
                    ("take_profit", order.take_profit),
                    ("stop_loss", order.stop_loss),
                )
                if Decimal(leg.quantity) != 0
            ]
            self.orders[coh_id] = legs
            self._signatures.add(request.signature)
            self._salts.add((order.virtual_account, order.salt))
        for leg in legs:
            self.publish(leg)
        return coh_id

    def active_orders(self, sub_account: str) -> int:
        return sum(
            1
            for legs in list(self.orders.values())
            for leg in legs
            if leg.state in ACTIVE_STATES and leg.request.order.sub_account == sub_account
        )

    def publish(self, leg: StoredLeg) -> None:
        """An order state frame on the COH websocket, to subscribers of the VA or sub-account."""
        leg.modified = max(leg.modified, self.backend.now())
        frame = json.loads(dumps(leg.mock_json()))  # amounts as JSON numbers, as in the rows
        self.notifier.send(leg.request.order.virtual_account, frame)
        if leg.request.order.sub_account != leg.request.order.virtual_account:
            self.notifier.send(leg.request.order.sub_account, frame)

    def set_price(self, symbol_id: int, price: Decimal) -> list[StoredLeg]:
        """Move the mark; close every live order it triggers. Returns the triggered legs."""
        backend = self.backend
        triggered: list[StoredLeg] = []
        with backend.lock:
            backend.prices[symbol_id] = price
            for legs in self.orders.values():
                hit = next(
                    (
                        leg
                        for leg in legs
                        if leg.state == "new"
                        and leg.request.order.symbol_id == symbol_id
                        and leg.crossed(price)
                    ),
                    None,
                )
                if hit is None:
                    continue
                for other in legs:  # one order, one close: the other leg is cancelled
                    if other is not hit and other.state == "new":
                        other.state = "canceled"
                        self.publish(other)
                self._close(hit, price)
                self.publish(hit)
                triggered.append(hit)
        return triggered

    def _close(self, leg: StoredLeg, price: Decimal) -> None:
        backend, order = self.backend, leg.request.order
        system = backend.system
        symbol = backend.markets[order.symbol_id].symbol
        quote = system.quote(order.quote_id)
        left = pricing.from_wei(quote["quantity"] - quote["closedAmount"])
        quantity = min(Decimal(leg.leg.quantity), left).quantize(
            pricing.step(symbol.quantity_precision)
        )
        if quote["quoteStatus"] != QUOTE_OPENED or quantity <= 0:
            leg.state, leg.failure = "canceled", "the position is no longer open"
            return
        side = "long" if order.position_type == cd.POSITION_LONG else "short"
        plan = flow.build_instant_close(
            backend.context,
            backend.bot,
            virtual_account=order.virtual_account,
            quote_id=order.quote_id,
            symbol=symbol,
            side=side,
            quantity=quantity,
            mark_price=price,
            deadline=system.chain.now() + TRIGGER_DEADLINE_SECONDS,
            slippage_pct=BOT_SLIPPAGE_PCT,
        )
        try:
            sent = system.instant_close(plan.body, closed_price=pricing.to_wei(price, "price"))
        except Reverted as exc:
            leg.state, leg.failure = "killed", exc.name
            backend.notifier.publish_chain_failure(
                backend.owner_of_va(order.virtual_account),
                "RequestToClosePosition",
                exc.name,
                quote_id=order.quote_id,
                va_address=order.virtual_account,
            )
            return
        leg.state, leg.sent, leg.tx_hash = "triggered", sent, sent.tx_hash
        after = system.quote(order.quote_id)
        backend.notifier.publish(
            backend.owner_of_va(order.virtual_account),
            quote_id=order.quote_id,
            counterparty_address=after["partyB"],
            filled_amount_close=pricing.format_decimal(
                pricing.from_wei(after["closedAmount"]).normalize()
            ),
            avg_price_close=pricing.format_decimal(price.normalize()),
            last_seen_action="FillMarketOrderInstantClose",
            action_status="success",
            va_address=order.virtual_account,
        )

    def cancel(
        self, domain: Domain, message: ConditionalOrderDelete, signature: bytes, signer: str
    ) -> StoredLeg:
        """Cancel one new leg; the signer may be any key holding 0x00000001 on the order's
        sub-account (a rotated session key can cancel its predecessor's orders)."""
        backend = self.backend
        served = backend.context.tpsl_domain()
        if domain != served:
            raise ServiceRefusal(
                NOT_CONFORMING, f"typedData.domain: expected the served domain {served.as_dict()}"
            )
        try:
            recovered = eip712.recover(domain, message, signature)
        except SignatureError as exc:
            raise ServiceRefusal(NOT_CONFORMING, f"signature: {exc}") from None
        if recovered != signer:
            raise ServiceRefusal(
                NOT_CONFORMING, f"signature: recovers to {recovered}, expected the signer {signer}"
            )
        legs = self.orders.get(message.coh_quote_id, [])
        leg = next(
            (
                leg
                for leg in legs
                if leg.order_type == message.conditional_order_type
                and leg.request.order.virtual_account == message.virtual_account
                and leg.request.order.salt == message.salt
            ),
            None,
        )
        if leg is None:
            raise ServiceRefusal(
                WRONG_POSITION,
                f"typedData.message.cohQuoteId: no {message.conditional_order_type} order "
                f"{message.coh_quote_id} of {message.virtual_account} with this salt",
            )
        sub_account = leg.request.order.sub_account
        with backend.lock:
            if not backend.system.is_delegation_active(sub_account, signer, cd.SESSION_KEY_MARKER):
                raise ServiceRefusal(
                    NOT_DELEGATED,
                    f"signer: {signer} holds no active 0x00000001 delegation on {sub_account}",
                )
            if leg.state != "new":
                raise ServiceRefusal(
                    WRONG_POSITION,
                    f"typedData.message.cohQuoteId: the order is {leg.state}; only a new order "
                    "can be cancelled",
                )
            leg.state = "canceled"
        self.publish(leg)
        return leg

    # --- HTTP

    def options(self) -> Options:
        return Options("tpsl", self.backend.context, self.backend.now())

    @guarded
    async def http_signing_spec(self, request: Request) -> JSONResponse:
        domain = self.backend.context.tpsl_domain()
        return JSONResponse(
            {
                "domain": wire.domain_to_wire(domain),
                "types": eip712.eip712_types("ConditionalOrder"),
                "primaryType": "ConditionalOrder",
            }
        )

    @guarded
    async def http_signing_spec_delete(self, request: Request) -> JSONResponse:
        domain = self.backend.context.tpsl_domain()
        return JSONResponse(
            {
                "domain": wire.domain_to_wire(domain),
                "types": eip712.eip712_types(DELETE_TYPE),
                "primaryType": DELETE_TYPE,
            }
        )

    @guarded
    @faultable("tpsl_cancel")
    async def http_delete(self, request: Request) -> JSONResponse:
        envelope = read_delete(await read_json(request))
        leg = await self.backend.run(lambda: self.cancel(*envelope))
        # StatusResponse {successful, message}, naming the order as the POST does
        return JSONResponse(
            {
                "successful": True,
                "message": f"{leg.order_type} canceled",
                "coh_quote_id": leg.published_id,
            }
        )

    @guarded
    @faultable("tpsl")
    async def http_submit(self, request: Request) -> JSONResponse:
        data = await read_json(request)

        def work() -> tuple[int, Noted]:
            result = judge(data, request.url.path, self.options())
            return self.submit(result.value), noted(result, data)  # read once, by the validator

        coh_id, said = await self.backend.run(work)
        # StatusResponse {successful, message} + the COH's coh_quote_id, a "coh…" string
        # (real-world.md §4); warnings go to the harness headers
        return JSONResponse(
            {
                "successful": True,
                "message": "conditional order stored",
                "coh_quote_id": coh_quote_id_text(coh_id),
            },
            headers=harness_headers(said.warnings, said.info),
        )

    @guarded
    @faultable("tpsl_search")
    async def http_search(self, request: Request) -> JSONResponse:
        query = await read_json(request)
        rows = self.search(query)
        return PublishedJSON({"data": rows, "count": len(rows)})

    def search(self, query: Any) -> list[dict[str, Any]]:
        """`ConditionalOrderSearchRequestSchemaV3`: every filter optional and nullable (null = no
        filter). An unknown key is refused (the published FastAPI model would ignore it; a
        harness names the typo instead of answering every order). The mock also takes `salt`
        (`MOCK_SEARCH_FILTER`, a decimal string): the signed order's salt, which no published
        row carries; a real COH ignores the key (its model admits extra keys)."""
        if not isinstance(query, dict):
            raise ServiceRefusal(BAD_PARAMETER, "(body): expected a JSON object")
        unknown = sorted(set(query) - {*SEARCH_FILTERS, MOCK_SEARCH_FILTER})
        if unknown:
            raise ServiceRefusal(
                BAD_PARAMETER,
                f"{unknown[0]}: unknown search key (filters: {', '.join(SEARCH_FILTERS)}; "
                f"the mock's {MOCK_SEARCH_FILTER})",
            )
        given = {k: v for k, v in query.items() if v is not None}
        salt = None
        if MOCK_SEARCH_FILTER in given:
            salt = wire.Reader().uint_string(given[MOCK_SEARCH_FILTER], MOCK_SEARCH_FILTER)
            if salt is None or not isinstance(given[MOCK_SEARCH_FILTER], str):
                raise ServiceRefusal(
                    BAD_PARAMETER, "salt: expected null or a decimal uint256 string"
                )
        states = given.get("state", list(ORDER_STATES))
        if not isinstance(states, list) or any(
            not isinstance(s, str) or s not in ORDER_STATES for s in states
        ):
            raise ServiceRefusal(
                BAD_PARAMETER, f"state: expected null or a list of {', '.join(ORDER_STATES)}"
            )
        start, size = given.get("start", 0), given.get("size", DEFAULT_PAGE)
        for key, value in (("start", start), ("size", size)):
            if type(value) is not int or value < 0:
                raise ServiceRefusal(BAD_PARAMETER, f"{key}: expected null or a whole number >= 0")
        for key, allowed in SEARCH_ENUMS.items():
            if key in given and (
                type(given[key]) is not type(allowed[0]) or given[key] not in allowed
            ):
                shown = ", ".join(json.dumps(a) for a in allowed)
                raise ServiceRefusal(BAD_PARAMETER, f"{key}: expected null or one of {shown}")
        for key in ("party_a_address", "symbol_id"):
            kind = str if key == "party_a_address" else int
            if key in given and (type(given[key]) is not kind):
                raise ServiceRefusal(
                    BAD_PARAMETER,
                    f"{key}: expected null or a {'string' if kind is str else 'integer'}",
                )
        rows = [
            leg.to_json()
            for legs in list(self.orders.values())
            for leg in legs
            if salt is None or leg.request.order.salt == salt
        ]
        for key, field_ in SEARCH_FIELDS.items():
            if key in given:
                rows = [r for r in rows if r[field_] == given[key]]
        rows = [r for r in rows if r["state"] in states]
        return rows[start : start + size]

    @guarded
    async def http_orders(self, request: Request) -> JSONResponse:
        """`GET /api/v5/?quote_id=&coh_quote_id=` (`GetConditionalOrdersResponseSchema`): the
        rows of a quote and/or of one COH order; at least one of the two."""
        raw_quote = request.query_params.get("quote_id")
        raw_coh = request.query_params.get("coh_quote_id")
        if raw_quote is None and raw_coh is None:
            raise ServiceRefusal(BAD_PARAMETER, "quote_id, coh_quote_id: give at least one")
        rows = [leg.to_json() for legs in list(self.orders.values()) for leg in legs]
        if raw_quote is not None:
            if not raw_quote.isascii() or not raw_quote.isdigit() or len(raw_quote) > 30:
                raise ServiceRefusal(BAD_PARAMETER, "quote_id: expected a whole number")
            rows = [r for r in rows if r["quote_id"] == int(raw_quote)]
        if raw_coh is not None:
            if coh_quote_id_number(raw_coh) is None:
                raise ServiceRefusal(
                    BAD_PARAMETER,
                    f"coh_quote_id: expected a coh-prefixed id like coh1, got {raw_coh[:40]!r}",
                )
            rows = [r for r in rows if r["coh_quote_id"] == raw_coh]
        return PublishedJSON({"data": rows})

    @guarded
    async def http_configs(self, request: Request) -> JSONResponse:
        return PublishedJSON(CONFIGS)

    @guarded
    @faultable("price")
    async def http_mock_price(self, request: Request) -> JSONResponse:
        body = await read_json(request)
        if not isinstance(body, dict) or set(body) != {"symbol_id", "price"}:
            raise ServiceRefusal(
                BAD_PARAMETER, '(body): expected {"symbol_id": <int>, "price": "<decimal string>"}'
            )
        symbol_id, raw = body["symbol_id"], body["price"]
        if type(symbol_id) is not int or symbol_id not in self.backend.markets:
            raise ServiceRefusal(UNKNOWN_SYMBOL, f"symbol_id: no symbol {symbol_id!r}")
        symbol = self.backend.markets[symbol_id].symbol
        price = decimal_text(raw, "price")
        if price <= 0:
            raise ServiceRefusal(BAD_PARAMETER, f"price: must be greater than zero, got {raw!r}")
        if not pricing.fits_precision(price, symbol.price_precision):
            raise ServiceRefusal(
                BAD_PARAMETER,
                f"price: {raw} has more than {symbol.price_precision} decimal places "
                f"({symbol.name}'s price precision)",
            )
        triggered = await self.backend.run(lambda: self.set_price(symbol_id, price))
        return PublishedJSON(
            {
                "symbol_id": symbol_id,
                "price": pricing.format_decimal(price),
                "triggered": [leg.mock_json() for leg in triggered],
            }
        )

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/api/v5/signing-spec", self.http_signing_spec),
            Route("/api/v5/signing-spec-del", self.http_signing_spec_delete),
            Route("/api/v5/", self.http_orders, methods=["GET"]),
            Route("/api/v5/", self.http_submit, methods=["POST"]),
            Route("/api/v5/", self.http_delete, methods=["DELETE"]),
            Route("/api/v5/search/", self.http_search, methods=["POST"]),
            Route("/api/v5/configs/", self.http_configs),
            Route("/mock/price", self.http_mock_price, methods=["POST"]),
            WebSocketRoute(COH_WS_PATH, self.ws_orders),
        ]

    async def ws_orders(self, websocket: WebSocket) -> None:
        """The COH's order websocket (mock): subscribe as on the solver's notifications
        websocket; every state change of a matching order is `{data: <order row>, address}`."""
        await notifications_endpoint(websocket, self.notifier)


DELETE_TYPE = "ConditionalOrderDelete"


def read_delete(body: Any) -> tuple[Domain, ConditionalOrderDelete, bytes, str]:
    """Strict reading of the DELETE envelope; a refusal listing every problem by path."""
    r = wire.Reader()
    read: dict[str, Any] = {}
    obj = r.object(body, "", ("typedData", "signature", "signer"))
    if obj is not None:
        read["signer"] = r.address(obj["signer"], "signer")
        read["signature"] = r.hex_bytes(obj["signature"], "signature", 65)
        td = r.object(obj["typedData"], "typedData", ("types", "primaryType", "domain", "message"))
        if td is not None:
            if td["primaryType"] != DELETE_TYPE:
                r.add("typedData.primaryType", "tpsl.primary-type", f"expected {DELETE_TYPE!r}")
            if td["types"] != eip712.eip712_types(DELETE_TYPE):
                r.add(
                    "typedData.types",
                    "tpsl.types",
                    "expected the types served at /api/v5/signing-spec-del",
                )
            read["domain"] = wire.read_domain(r, td["domain"], "typedData.domain")
            path = "typedData.message"
            keys = ("virtualAccount", "salt", "cohQuoteId", "conditionalOrderType")
            m = r.object(td["message"], path, keys)
            if m is not None:
                read["va"] = r.address(m["virtualAccount"], f"{path}.virtualAccount")
                read["salt"] = r.uint_string(m["salt"], f"{path}.salt")
                read["id"] = r.json_int(
                    m["cohQuoteId"], f"{path}.cohQuoteId", 0, (1 << 256) - 1, "uint256"
                )
                kind = r.string(m["conditionalOrderType"], f"{path}.conditionalOrderType")
                if kind is not None and kind not in ("take_profit", "stop_loss"):
                    r.add(
                        f"{path}.conditionalOrderType",
                        "tpsl.enum",
                        f"expected take_profit or stop_loss, got {kind!r}",
                    )
                read["kind"] = kind
    errors = [p for p in r.problems if p.severity == "error"]
    fields = ("domain", "va", "salt", "id", "kind", "signature", "signer")
    if errors or any(read.get(k) is None for k in fields):
        detail = "; ".join(str(p) for p in errors) or "(body): incomplete delete envelope"
        raise ServiceRefusal(NOT_CONFORMING, detail)
    message = ConditionalOrderDelete(read["va"], read["salt"], read["id"], read["kind"])
    return read["domain"], message, read["signature"], read["signer"]


def coh_app(orders: ConditionalOrders) -> Starlette:
    """The COH alone (base URL = its root; endpoints under /api/v5, plus /mock/price)."""
    return Starlette(routes=orders.routes(), exception_handlers=NO_ROUTE_HANDLERS)
