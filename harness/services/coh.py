"""The mock Conditional Orders Handler (TP/SL) under `/api/v5` (spec §4 "COH", step 8).

`POST /api/v5/` judges the body with the validator against the service's context (whose
`tpsl_domain()` is the domain served at `/api/v5/signing-spec`) extended with the live market:
the symbols' marks, the served limits and the position's open quantity (`judging_context`), so
that the validator's TP/SL rules are the COH's (an order that would fire at once or could never
be filled is refused, naming the rule and the served limit). It then checks on chain what a real
COH checks: the signer holds `0x00000001` on the sub-account (`isDelegationActive`), the VA
belongs to the sub-account, the quote is open on that VA, and the TP/SL bot may close for it;
`MaxActiveOrdersPerUser` and `MaxRequestTimeDeltaSeconds` are enforced here (state and a header
the body cannot show). The order is stored as state "new". `POST /mock/price` moves a symbol's
mark; an order whose trigger it crosses is closed on chain by the bot through ITS OWN delegation
(signed by the bot key, signerAccount = the VA, filled by the PartyB at the new mark), and the
solver's websocket reports the fill.

`DELETE /api/v5/` cancels one leg with `CancelConditionalOrder{virtualAccount, salt, cohQuoteId,
conditionalOrderType}` signed under the types served at `/api/v5/signing-spec-del`: the order is
named by its VA, its "coh<N>" id and its leg, the salt is the cancel's own, and a cancel
signature is used at most once. Every state change reaches the COH websocket as the SDK's
`watchTpSlNotifications` reads it (`publish`).
"""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass, replace
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket

from .. import calldata as cd
from .. import eip712, flow, pricing, wire
from ..chain import Sent
from ..context import CohLimits, Context
from ..errors import InputError, SignatureError
from ..model import (
    COH_QUOTE_ID_PREFIX,
    CancelConditionalOrder,
    Domain,
    Leg,
    TpslRequest,
    coh_quote_id_text,
    parse_coh_quote_id,
)
from ..primitives import to_hex
from ..revert import Reverted
from ..validator.engine import Options
from ..validator.results import Result
from .backend import Backend, mark_to_wei
from .errors import (
    BAD_PARAMETER,
    NOT_CONFORMING,
    NOT_DELEGATED,
    REPLAYED,
    STALE_REQUEST,
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
    harness_headers,
    identity_header,
    number,
)

QUOTE_OPENED = 4
QUOTE_CLOSE_PENDING = 5
ORDER_STATES = ("pending", "new", "triggered", "triggered_pending", "canceled", "killed")
ORDER_TYPES = ("take_profit", "stop_loss", "send_quote")
#: `GET /api/v5/configs/`: numbers (Trading-SDK tpsl-handler.ts `ConfigResponseSchema`), served
#: as JSON numbers from their exact Decimal text (`published.PublishedJSON`)
#: (one source: the limits the COH enforces, under their served names).
LIMITS = CohLimits(
    max_request_time_delta_seconds=60,
    min_price_distance_percent=Decimal("0.1"),
    min_profit_stop_loss_spread_percent=Decimal("0.2"),
    max_active_orders_per_user=50,
)
CONFIGS = LIMITS.served()
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

# Policies where public sources cannot establish the real COH's behaviour (each pinned by a test
# in tests/services/test_coh.py). Sources read: SYMM-IO/Trading-SDK packages/core/src/tpsl
# (validate-tpsl.ts and its test, set-quote-tpsl, delete-quote-tpsl, types.ts,
# types/generated/tpsl-handler.ts, slippage.ts), websocket/tpsl, and the signing-spec fixtures.

#: `MaxRequestTimeDeltaSeconds` needs a request time, and neither the served ConditionalOrder
#: nor CancelConditionalOrder carries one (the signing-spec fixtures; `buildConditionalOrderMessage`
#: and `buildTpSlDeleteMessage` sign no time; the salt is 32 random bytes, `generateTpSlSalt`).
#: The one timestamp a request can carry is the HTTP `Date` header (RFC 9110 §6.6.1: when the
#: message was originated), so the mock compares it with its wall clock; a request without it is
#: not judged by this limit, since the SDK sends none (set/delete-quote-tpsl send App-Name,
#: Content-Type and Accept only) and a form the SDK sends is conforming.
REQUEST_TIME_HEADER = "Date"

#: The SDK sends `App-Name` (the chain's `tpsl.appName`, e.g. `Arbitrum_COH_Production`) on every
#: COH request: signing specs, configs, orders, POST and DELETE (set-quote-tpsl.ts,
#: delete-quote-tpsl.ts, get-tpsl-config.ts, get-quote-tpsl.ts), and subscribes to the order
#: websocket with it as the channel (watch-tpsl-notifications.ts). Whether the real COH refuses a
#: request without it is not published: the mock accepts one (REQUIRED False), refuses a header
#: that is present but empty or unprintable, and reports an order's states under its App-Name.
APP_NAME_HEADER = "App-Name"
APP_NAME_REQUIRED = False
MAX_APP_NAME_CHARS = 128
#: The app name frames carry for an order posted without App-Name (mock value).
MOCK_APP_NAME = "symmio-harness_COH_Mock"


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
    #: the App-Name the order was posted with: the channel its state frames carry
    app_name: str = MOCK_APP_NAME
    #: chain seconds when stored and when its state last changed (`create_time`, `modify_time`)
    created: int = 0
    modified: int = 0
    #: the EIP-712 digest of the ConditionalOrder that stored it, and of the
    #: CancelConditionalOrder that cancelled it with its signer (None unless a DELETE did)
    order_digest: str = ""
    cancel_digest: str | None = None
    cancel_signer: str | None = None

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

    def identity(self) -> dict[str, Any]:
        """This row's identity entry (`published.IDENTITY_HEADER`): which signed request stored
        it, and which cancelled it."""
        return {
            "coh_quote_id": self.published_id,
            "conditional_order_type": self.order_type,
            "signer": self.request.signer,
            "order_digest": self.order_digest,
            "cancel_signer": self.cancel_signer,
            "cancel_digest": self.cancel_digest,
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
    def __init__(self, backend: Backend, limits: CohLimits = LIMITS) -> None:
        self.backend = backend
        self.limits = limits
        self.orders: dict[int, list[StoredLeg]] = {}
        self._ids = itertools.count(1)
        self._signatures: set[bytes] = set()
        self._salts: set[tuple[str, int]] = set()
        #: cancels executed (a cancel's signature and its salt are used at most once)
        self._cancel_signatures: set[bytes] = set()
        self._cancel_salts: set[tuple[str, str]] = set()
        #: the COH's own websocket: a frame per order state change (`state: "new"` once stored)
        self.notifier = Notifier()
        #: the service's wall clock, which a request's `Date` is compared with
        self.clock = time.time

    @property
    def limits(self) -> CohLimits:
        """The limits enforced (the served ones unless a test sets others); kept on the backend
        so that `/context` hands the same ones to the validator."""
        assert self.backend.coh_limits is not None
        return self.backend.coh_limits

    @limits.setter
    def limits(self, limits: CohLimits) -> None:
        self.backend.coh_limits = limits

    # --- execution (callable without HTTP)

    def judging_context(self, quote_id: int | None) -> Context:
        """The context an order is judged with: the deployment's, plus the live market the
        validator's TP/SL rules need (every symbol's mark, the enforced limits, and the open
        quantity of the order's position when `quote_id` is an open quote). Call under the lock.
        Policy: the mock holds one price per symbol (the mark `POST /mock/price` moves), so legs
        triggering on "market" (the mark) and on "last_close" (the last trade) are both judged,
        and triggered, on it."""
        backend = self.backend
        open_quantities: tuple[tuple[int, Decimal], ...] = ()
        if quote_id is not None and quote_id > 0:
            quote = backend.system.quote(quote_id)
            if quote["quoteStatus"] == QUOTE_OPENED:
                left = pricing.from_wei(quote["quantity"] - quote["closedAmount"])
                open_quantities = ((quote_id, left),)
        return replace(
            backend.context,
            mark_prices=tuple(sorted(backend.prices.items())),
            coh_limits=self.limits,
            open_quantities=open_quantities or None,
        )

    def judge(self, data: Any, where: str) -> Result:
        """The validator's verdict on a POST body against the live market (under the lock)."""
        options = Options("tpsl", self.judging_context(_quote_id_hint(data)), self.backend.now())
        return judge(data, where, options)

    def submit(self, request: TpslRequest, app_name: str = MOCK_APP_NAME) -> int:
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
            limit = self.limits.max_active_orders_per_user
            if active + len(used) > limit:
                raise ServiceRefusal(
                    TOO_MANY_ORDERS,
                    f"typedData.message.subAccount: {order.sub_account} has {active} active "
                    f"orders and this one adds {len(used)}; MaxActiveOrdersPerUser is {limit}",
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
            digest = to_hex(eip712.digest(request.domain, order))
            legs = [
                StoredLeg(
                    coh_id,
                    kind,
                    request,
                    leg,
                    app_name=app_name,
                    created=now,
                    modified=now,
                    order_digest=digest,
                )
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
        """A report of the leg's state on the COH websocket, in the frame the SDK's
        `watchTpSlNotifications` parses (websocket/tpsl/parse-tpsl-frame.ts, types.ts): the
        defilytics envelope `{app_name, primary_identifier: quote id, secondary_identifier: 0,
        address: sub-account, type: "report", timestamp (s), data: {successful, coh_quote_id:
        "coh<N>", conditional_order_type, state}}`, failures with `successful: false` and
        `error_message`. The SDK confirms an order on `state: "new"` and a cancel on
        `"canceled"` (set-quote-tpsl.ts, delete-quote-tpsl.ts, react's use-quote-tpsl). Sent to
        subscribers of the sub-account (the SDK subscribes with it) and of the VA (mock)."""
        leg.modified = max(leg.modified, self.backend.now())
        order = leg.request.order
        data: dict[str, Any] = {
            "successful": leg.state != "killed",
            "coh_quote_id": coh_quote_id_text(leg.coh_quote_id),
            "conditional_order_type": leg.order_type,
            "state": leg.state,
        }
        if leg.state == "killed":
            data["error_message"] = leg.failure
        frame = {
            "app_name": leg.app_name,
            "primary_identifier": order.quote_id,
            "secondary_identifier": 0,
            "address": order.sub_account,
            "type": "report",
            "timestamp": int(self.clock()),
            "data": data,
        }
        self.notifier.send_frame(order.sub_account, frame)
        if order.virtual_account != order.sub_account:
            self.notifier.send_frame(order.virtual_account, frame)

    def set_price(self, symbol_id: int, price: Decimal) -> list[StoredLeg]:
        """Move the mark; close every live order it triggers. Returns the triggered legs.
        The price is checked whole (range, wei conversion) before the mark is stored: storing
        it is the first change, and the mark book refuses a price the chain cannot hold."""
        backend = self.backend
        triggered: list[StoredLeg] = []
        with backend.lock:
            backend.prices[symbol_id] = price  # InputError here, before anything changed
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
        try:
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
        except InputError as exc:  # e.g. a mark whose slipped close price no uint256 holds
            leg.state, leg.failure = "killed", str(exc)
            return
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
        self, domain: Domain, message: CancelConditionalOrder, signature: bytes, signer: str
    ) -> StoredLeg:
        """Cancel one new leg, named by its VA, "coh<N>" id and leg type. The signer may be any
        key holding 0x00000001 on the order's sub-account (a rotated session key can cancel its
        predecessor's orders); the salt is the cancel's own, and a cancel's signature (or its
        salt, for that VA) is used at most once."""
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
        number = parse_coh_quote_id(message.coh_quote_id)
        with backend.lock:
            legs = self.orders.get(number, []) if number is not None else []
            leg = next(
                (
                    leg
                    for leg in legs
                    if leg.order_type == message.conditional_order_type
                    and leg.request.order.virtual_account == message.virtual_account
                ),
                None,
            )
            if signature in self._cancel_signatures:
                raise ServiceRefusal(
                    REPLAYED, "signature: this signed cancel was already executed (replay)"
                )
            if (message.virtual_account, message.salt) in self._cancel_salts:
                raise ServiceRefusal(
                    REPLAYED,
                    f"typedData.message.salt: salt {message.salt} was already used by a cancel "
                    f"for {message.virtual_account} (replay); sign the cancel with a fresh salt",
                )
            if leg is None:
                raise ServiceRefusal(
                    WRONG_POSITION,
                    f"typedData.message.cohQuoteId: no {message.conditional_order_type} order "
                    f"{message.coh_quote_id} of {message.virtual_account}",
                )
            sub_account = leg.request.order.sub_account
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
            leg.cancel_digest = to_hex(eip712.digest(domain, message))
            leg.cancel_signer = signer
            self._cancel_signatures.add(signature)
            self._cancel_salts.add((message.virtual_account, message.salt))
        self.publish(leg)
        return leg

    def check_request_time(self, request: Request) -> None:
        """`MaxRequestTimeDeltaSeconds` against the request's `Date` (REQUEST_TIME_HEADER)."""
        raw = request.headers.get(REQUEST_TIME_HEADER)
        if raw is None:
            return
        try:
            sent = parsedate_to_datetime(raw).timestamp()
        except (TypeError, ValueError, IndexError, OverflowError):
            raise ServiceRefusal(
                BAD_PARAMETER, f"{REQUEST_TIME_HEADER}: {raw[:60]!r} is not an HTTP date"
            ) from None
        now = self.clock()
        delta = abs(now - sent)
        limit = self.limits.max_request_time_delta_seconds
        if delta > limit:
            raise ServiceRefusal(
                STALE_REQUEST,
                f"{REQUEST_TIME_HEADER}: the request is dated {raw}, {int(delta)} s from the "
                f"service clock; MaxRequestTimeDeltaSeconds is {limit}",
            )

    # --- HTTP

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
        read_app_name(request)
        self.check_request_time(request)
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
        app_name = read_app_name(request) or MOCK_APP_NAME
        self.check_request_time(request)
        data = await read_json(request)

        def work() -> tuple[int, Noted]:
            result = self.judge(data, request.url.path)
            # read once, by the validator
            return self.submit(result.value, app_name), noted(result, data)

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
        legs = self.search_legs(query)
        rows = [leg.to_json() for leg in legs]
        headers = identity_header([leg.identity() for leg in legs])
        return PublishedJSON({"data": rows, "count": len(rows)}, headers=headers)

    def search(self, query: Any) -> list[dict[str, Any]]:
        """The published rows of `search_legs`."""
        return [leg.to_json() for leg in self.search_legs(query)]

    def search_legs(self, query: Any) -> list[StoredLeg]:
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
        found = [
            (leg, leg.to_json())
            for legs in list(self.orders.values())
            for leg in legs
            if salt is None or leg.request.order.salt == salt
        ]
        for key, field_ in SEARCH_FIELDS.items():
            if key in given:
                found = [(leg, r) for leg, r in found if r[field_] == given[key]]
        return [leg for leg, r in found if r["state"] in states][start : start + size]

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
            if parse_coh_quote_id(raw_coh) is None:
                raise ServiceRefusal(
                    BAD_PARAMETER,
                    f"coh_quote_id: expected a coh-prefixed id like coh1, got {raw_coh[:40]!r}",
                )
            rows = [r for r in rows if r["coh_quote_id"] == raw_coh]
        return PublishedJSON({"data": rows})

    @guarded
    async def http_configs(self, request: Request) -> JSONResponse:
        # the limits this COH enforces (CONFIGS unless a test set others), as JSON numbers
        return PublishedJSON(self.limits.served())

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
        try:
            mark_to_wei(price)  # a number the chain cannot hold is refused, nothing stored
        except InputError as exc:
            raise ServiceRefusal(BAD_PARAMETER, str(exc)) from None
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


DELETE_TYPE = "CancelConditionalOrder"
CANCELLABLE = ("take_profit", "stop_loss")
#: A cancel's salt is typed `string`; the SDK signs a random uint256 in decimal. Any non-empty
#: string up to this length is read (its form is not published).
MAX_CANCEL_SALT_CHARS = 100


def read_app_name(request: Request) -> str | None:
    """The `App-Name` header (APP_NAME_HEADER): None when absent (accepted, APP_NAME_REQUIRED
    False); a refusal when present but empty, too long or not printable ASCII."""
    raw = request.headers.get(APP_NAME_HEADER)
    if raw is None:
        if APP_NAME_REQUIRED:
            raise ServiceRefusal(BAD_PARAMETER, f"{APP_NAME_HEADER}: missing header")
        return None
    name = raw.strip()
    if not name or len(name) > MAX_APP_NAME_CHARS or not (name.isascii() and name.isprintable()):
        raise ServiceRefusal(
            BAD_PARAMETER,
            f"{APP_NAME_HEADER}: expected 1 to {MAX_APP_NAME_CHARS} printable ASCII characters "
            "(the app's name, e.g. Arbitrum_COH_Production)",
        )
    return name


def _quote_id_hint(data: Any) -> int | None:
    """The quoteId a POST body names, if it can be seen without reading it (the judging
    context carries that position's open quantity; the validator reads the body itself)."""
    try:
        value = data["typedData"]["message"]["quoteId"]
    except (KeyError, TypeError, IndexError):
        return None
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 78:
        return int(value)
    if type(value) is int and 0 < value < 1 << 255:
        return value
    return None


def read_delete(body: Any) -> tuple[Domain, CancelConditionalOrder, bytes, str]:
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
                    "expected the types served at /api/v5/signing-spec-del "
                    f"({eip712.encode_type(DELETE_TYPE)})",
                )
            read["domain"] = wire.read_domain(r, td["domain"], "typedData.domain")
            path = "typedData.message"
            keys = ("virtualAccount", "salt", "cohQuoteId", "conditionalOrderType")
            m = r.object(td["message"], path, keys)
            if m is not None:
                read["va"] = r.address(m["virtualAccount"], f"{path}.virtualAccount")
                salt = r.string(m["salt"], f"{path}.salt")
                if salt is not None and not 1 <= len(salt) <= MAX_CANCEL_SALT_CHARS:
                    r.add(
                        f"{path}.salt",
                        "json.type",
                        f"expected a non-empty string of at most {MAX_CANCEL_SALT_CHARS} "
                        "characters (the cancel's own salt; the SDK sends a random uint256)",
                    )
                    salt = None
                read["salt"] = salt
                raw_id = m["cohQuoteId"]
                if parse_coh_quote_id(raw_id) is None:
                    shown = repr(raw_id) if isinstance(raw_id, str | int) else "a JSON value"
                    r.add(
                        f"{path}.cohQuoteId",
                        "json.type",
                        f'expected the order\'s id as a string "{COH_QUOTE_ID_PREFIX}<N>" '
                        f"(typed string at /api/v5/signing-spec-del), got {shown[:60]}",
                    )
                else:
                    read["id"] = raw_id
                kind = r.string(m["conditionalOrderType"], f"{path}.conditionalOrderType")
                if kind is not None and kind not in CANCELLABLE:
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
    message = CancelConditionalOrder(read["va"], read["salt"], read["id"], read["kind"])
    return read["domain"], message, read["signature"], read["signer"]


def coh_app(orders: ConditionalOrders) -> Starlette:
    """The COH alone (base URL = its root; endpoints under /api/v5, plus /mock/price)."""
    return Starlette(routes=orders.routes(), exception_handlers=NO_ROUTE_HANDLERS)
