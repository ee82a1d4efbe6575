"""respx mocks of the solver, the COH and the price service's REST reads, for a team's own HTTP
client code (no chain).

`MockSolver(router, context, base_url)` / `MockCoh(router, context, base_url)` add routes to a
`respx.MockRouter` that answer like the mock services: every body is read by the same strict
reader and judged by the same validator (`plumbing.judge`), refusals carry the same error codes
and shapes (`/api/error_codes`), opens get negative temp quote ids, the COH serves the context's
signing spec, refuses a replayed TP/SL (409), a TP/SL amount beyond the precision (407), and
finds orders by salt, naming each row's signer and signed digests in the search's
`X-Symmio-Harness-Identity` header as `serve` does (so a client can reconcile). Nothing
executes (there is no chain): an accepted open is "opened" at once.

Every request is recorded (`calls`, `calls_to(route)`) with assertion helpers
(`assert_called(route, times)`, `assert_all_accepted()`, `assert_refused(route, code)`), and the
same fault scenarios as `serve` can be armed: `mock.faults.arm(route, Armed(fault, count))`, or
`mock.fault(route, fault, count)`. `reply_lost` raises `httpx.RemoteProtocolError` and
`timeout_after_accept` raises `httpx.ReadTimeout`, after the request was accepted.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

import httpx
import respx

from .. import calldata as cd
from .. import deployments, eip712, wire
from ..context import Context
from ..deployments import Profile, SolverKind
from ..errors import SignatureError
from ..model import coh_quote_id_text
from ..primitives import to_hex
from ..validator.engine import Options
from .backend import DEFAULT_LOCKED_PARAMS, Mark, SymbolMarket, now_ms
from .coh import CONFIGS, LIMITS, read_delete
from .errors import (
    BAD_PARAMETER,
    INTERNAL,
    NOT_CONFORMING,
    NOT_JSON_MEDIA,
    RATE_LIMITED,
    REPLAYED,
    UNAVAILABLE,
    UNKNOWN_TEMP_QUOTE,
    WRONG_POSITION,
    ServiceRefusal,
    error_body,
    error_codes_detailed,
    error_codes_map,
)
from .faults import BEFORE_EXECUTION, Armed, Faults
from .plumbing import MAX_BODY_BYTES, judge, read_json_bytes
from .prices import ALL_PRICES_PATH, PRICES_BY_NAMES_PATH, price_row, read_names, ticker
from .published import dumps, identity_header, number
from .rasa import CLOSE_PATH as RASA_CLOSE_PATH
from .rasa import OPEN_PATH as RASA_OPEN_PATH
from .rasa import rasa_error_body, rasa_symbol_row
from .solver import OPENED, contract_symbol_row

Clock = Callable[[], int]
BEFORE = {"rate_limited": RATE_LIMITED, "unavailable": UNAVAILABLE}


@dataclass(frozen=True)
class WithHeaders:
    """An answer's body with the harness headers it carries (e.g. the search's identity)."""

    body: Any
    headers: dict[str, str]


@dataclass
class Recorded:
    """One request the mock answered (or failed on purpose)."""

    route: str
    request: httpx.Request
    status: int | None  # None: the fault raised a transport error instead of answering
    body: Any
    fault: str | None = None

    def json(self) -> Any:
        return json.loads(self.request.content) if self.request.content else None


class _Mock:
    #: the refusal body this service publishes (Enigma's, the COH's; Rasa's for a Rasa solver)
    error_body: Callable[..., dict[str, Any]] = staticmethod(error_body)

    def __init__(self, router: respx.MockRouter, context: Context, base_url: str, now: Clock):
        self.router = router
        self.context = context
        self.base_url = base_url.rstrip("/")
        self.now = now
        self.faults = Faults()
        self.calls: list[Recorded] = []

    # --- recording and assertions

    def calls_to(self, route: str) -> list[Recorded]:
        return [c for c in self.calls if c.route == route]

    def assert_called(self, route: str, times: int | None = None) -> list[Recorded]:
        calls = self.calls_to(route)
        if times is None:
            assert calls, f"{route} was never called (calls: {[c.route for c in self.calls]})"
        else:
            assert len(calls) == times, f"{route} was called {len(calls)} time(s), not {times}"
        return calls

    def assert_all_accepted(self) -> None:
        refused = [
            (c.route, c.status, (c.body or {}).get("message"))
            for c in self.calls
            if c.status is None or c.status >= 300
        ]
        assert not refused, f"requests were refused or failed: {refused}"

    def assert_refused(self, route: str, code: int) -> Recorded:
        for call in reversed(self.calls_to(route)):
            if call.status is not None and call.status >= 400:
                got = (call.body or {}).get("code")
                assert got == code, f"{route} was refused with {got}, not {code}: {call.body}"
                return call
        raise AssertionError(f"{route} was never refused")

    def fault(self, route: str, fault: str, count: int = 1, retry_after: int = 0) -> None:
        self.faults.arm(route, Armed(fault, count, retry_after))

    # --- answering

    def _add(self, method: str, path: str, route: str, answer: Callable[[httpx.Request], Any]):
        def side_effect(request: httpx.Request) -> httpx.Response:
            armed = self.faults.take(route)
            if armed is not None and armed.fault in BEFORE_EXECUTION:
                refusal = ServiceRefusal(BEFORE[armed.fault], f"injected fault on {route}")
                return self._answer(route, request, refusal, armed.fault, armed.retry_after)
            headers: dict[str, str] = {}
            try:
                status, body = 200, answer(request)
            except ServiceRefusal as refusal:
                status, body = (
                    refusal.error.http_status,
                    self.error_body(refusal.error, refusal.detail, refusal.findings),
                )
            if isinstance(body, WithHeaders):
                body, headers = body.body, body.headers
            if armed is None:
                self.calls.append(Recorded(route, request, status, body))
                if body is None:  # a published void reply (the close): an empty 200
                    return httpx.Response(status)
                return httpx.Response(
                    status,
                    content=dumps(body),
                    headers={"content-type": "application/json", **headers},
                )
            self.calls.append(Recorded(route, request, None, body, armed.fault))
            if armed.fault == "error_after_execute":
                self.calls[-1].status = 500
                return httpx.Response(500, json=error_body(INTERNAL, ""))
            if armed.fault == "timeout_after_accept":
                raise httpx.ReadTimeout("injected timeout_after_accept", request=request)
            raise httpx.RemoteProtocolError("injected reply_lost", request=request)

        self.router.route(method=method, url=self.base_url + path).mock(side_effect=side_effect)

    def _answer(
        self, route: str, request: httpx.Request, refusal: ServiceRefusal, fault: str, after: int
    ) -> httpx.Response:
        body = error_body(refusal.error, refusal.detail)
        self.calls.append(Recorded(route, request, refusal.error.http_status, body, fault))
        return httpx.Response(
            refusal.error.http_status, json=body, headers={"Retry-After": str(after)}
        )

    def body(self, request: httpx.Request) -> Any:
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media != "application/json":
            raise ServiceRefusal(NOT_JSON_MEDIA, f"Content-Type: {media or 'missing'}")
        return read_json_bytes(request.content, MAX_BODY_BYTES)

    def options(self, kind: str) -> Options:
        return Options(kind, self.context, self.now())


class MockSolver(_Mock):
    """The solver's endpoints at `base_url` (its routes are `{base_url}/api/...`), of the
    `profile`'s solver kind: Enigma's (the default), or Rasa's (`harness.services.rasa`: its
    open and close routes and shapes, its error body, the shared reads; any other path the 404
    a FastAPI service gives)."""

    def __init__(
        self,
        router: respx.MockRouter,
        context: Context,
        base_url: str,
        now: Clock,
        profile: Profile = deployments.LOCAL,
    ) -> None:
        super().__init__(router, context, base_url, now)
        self._temp = itertools.count(1)
        self.temp_quotes: dict[int, dict[str, Any]] = {}
        self.profile = profile
        if profile.solver is SolverKind.RASA:
            self._rasa_routes()
            return
        self._add("POST", "/api/instant_trade/instant_open", "instant_open", self._open)
        self._add("POST", "/api/instant_trade/instant_close", "instant_close", self._close)
        self._add("GET", "/api/instant_trade/eip712-config", "eip712_config", self._config)
        self._add("GET", "/api/error_codes", "error_codes", lambda _r: error_codes_map())
        self._add(
            "GET", "/api/error_codes/detailed", "error_codes", lambda _r: error_codes_detailed()
        )
        self._add("GET", "/api/contract-symbols", "contract_symbols", self._symbols)
        self.router.route(
            method="GET", url__regex=rf"^{re.escape(self.base_url)}/api/temp_quote_status/-?\d+$"
        ).mock(side_effect=self._status)
        self.router.route(
            method="GET", url__regex=rf"^{re.escape(self.base_url)}/api/get_locked_params/.+"
        ).mock(side_effect=self._locked)

    def _rasa_routes(self) -> None:
        self.error_body = rasa_error_body  # type: ignore[method-assign]
        self._add("POST", "/api" + RASA_OPEN_PATH, "instant_open", self._rasa_open)
        self._add("POST", "/api" + RASA_CLOSE_PATH, "instant_close", self._rasa_close)
        self._add("GET", "/api/error_codes", "error_codes", lambda _r: error_codes_map())
        self._add("GET", "/api/contract-symbols", "contract_symbols", self._rasa_symbols)
        self.router.route(
            method="GET", url__regex=rf"^{re.escape(self.base_url)}/api/get_locked_params/.+"
        ).mock(side_effect=self._locked)
        # the rest of the solver's host: what a FastAPI service answers an unknown path
        self.router.route(url__startswith=self.base_url + "/").respond(
            404, json={"detail": "Not Found"}
        )

    def _accepted_open(self, request: httpx.Request) -> tuple[int, dict[str, Any], str]:
        data = self.body(request)
        judge(data, request.url.path, self.options("instant_open"))
        body = wire.parse_instant_open(data).value
        assert body is not None
        send = body.send_quote.signed_operation
        opens = cd.functions_of(self.context.generation)
        quote = opens[send.call_data[:4]].decode(send.call_data)
        temp = -next(self._temp)
        self.temp_quotes[temp] = {"state": OPENED}
        return temp, quote, send.signer_account.addr

    def _open(self, request: httpx.Request) -> dict[str, Any]:
        temp, quote, _ = self._accepted_open(request)
        party_b_mm = Decimal(quote["partyBmm"]).scaleb(-18).normalize()
        return {"temp_quote_id": temp, "partyBmm": format(party_b_mm, "f")}

    def _rasa_open(self, request: httpx.Request) -> dict[str, Any]:
        """Rasa's `InstantRFQResponse` (`rasa.SCHEMAS`)."""
        temp, q, sub_account = self._accepted_open(request)
        amount = lambda wei: format(Decimal(wei).scaleb(-18).normalize(), "f")  # noqa: E731
        return {
            "temp_quote_id": temp,
            "position_type": q["positionType"],
            "symbol_id": q["symbolId"],
            "requested_open_price": amount(q["price"]),
            "quantity": amount(q["quantity"]),
            "party_a_address": sub_account,
            "cva": amount(q["cva"]),
            "partyAmm": amount(q["partyAmm"]),
            "partyBmm": amount(q["partyBmm"]),
            "lf": amount(q["lf"]),
            "order_type": q["orderType"],
        }

    def _rasa_close(self, request: httpx.Request) -> dict[str, Any]:
        data = self.body(request)
        if not isinstance(data, list):
            raise ServiceRefusal(BAD_PARAMETER, "(body): Rasa's close takes a bare list")
        judge(data, request.url.path, self.options("instant_close"))
        return {"successful": True, "message": f"{len(data)} close request(s) accepted"}

    def _rasa_symbols(self, _request: httpx.Request) -> dict[str, Any]:
        rows = [rasa_symbol_row(contract_symbol_row(SymbolMarket(s))) for s in self.context.symbols]
        return {"count": len(rows), "symbols": rows}

    def _close(self, request: httpx.Request) -> None:
        judge(self.body(request), request.url.path, self.options("instant_close"))
        return None  # published: void

    def _config(self, _request: httpx.Request) -> dict[str, Any]:
        domain = eip712.instant_layer_domain(self.context.chain_id, self.context.instant_layer)
        return {
            "domain": wire.domain_to_wire(domain),
            "types": eip712.eip712_types("SignedOperation"),
            "primaryType": "SignedOperation",
        }

    def _symbols(self, _request: httpx.Request) -> dict[str, Any]:
        markets = [SymbolMarket(s) for s in self.context.symbols]
        caps = self.context.generation.solver_fee_caps
        rows = [contract_symbol_row(m, caps) for m in markets]
        return {"count": len(rows), "symbols": rows}

    def _status(self, request: httpx.Request) -> httpx.Response:
        temp = int(request.url.path.rsplit("/", 1)[1])
        row = self.temp_quotes.get(temp)
        if row is None:
            body = error_body(UNKNOWN_TEMP_QUOTE, f"tempQuoteId: {temp} was never issued")
            return httpx.Response(404, json=body)
        return httpx.Response(200, json=row)

    def _locked(self, request: httpx.Request) -> httpx.Response:
        leverage = request.url.params.get("leverage", "1")
        return httpx.Response(200, json={**DEFAULT_LOCKED_PARAMS, "leverage": leverage})


class MockCoh(_Mock):
    """The COH's endpoints at `base_url` (`{base_url}/api/v5/...`)."""

    def __init__(
        self, router: respx.MockRouter, context: Context, base_url: str, now: Clock
    ) -> None:
        # the served limits judge TP/SL orders unless the context brings its own; the market
        # rules run when the context has `mark_prices` (no chain here: no open quantity)
        if context.coh_limits is None:
            context = replace(context, coh_limits=LIMITS)
        super().__init__(router, context, base_url, now)
        self._ids = itertools.count(1)
        self.orders: list[dict[str, Any]] = []
        self._signatures: set[bytes] = set()
        self._salts: set[tuple[str, int]] = set()
        self._cancel_signatures: set[bytes] = set()
        self._salt_of: dict[int, int] = {}  # order row -> its salt (not a published field)
        #: order row -> who signed what (the search's identity header; not a published field)
        self._identity_of: dict[int, dict[str, Any]] = {}
        spec = {
            "domain": wire.domain_to_wire(context.tpsl_domain()),
            "types": eip712.eip712_types("ConditionalOrder"),
            "primaryType": "ConditionalOrder",
        }
        self._add("GET", "/api/v5/signing-spec", "signing_spec", lambda _r: spec)
        self._add("POST", "/api/v5/", "tpsl", self._submit)
        self._add("POST", "/api/v5/search/", "tpsl_search", self._search)
        self._add("DELETE", "/api/v5/", "tpsl_cancel", self._cancel)
        self._add("GET", "/api/v5/configs/", "configs", lambda _r: CONFIGS)

    def _submit(self, request: httpx.Request) -> dict[str, Any]:
        data = self.body(request)
        judge(data, request.url.path, self.options("tpsl"))
        tpsl = wire.parse_tpsl(data).value
        assert tpsl is not None
        order = tpsl.order
        if tpsl.signature in self._signatures or (order.virtual_account, order.salt) in self._salts:
            raise ServiceRefusal(REPLAYED, "typedData.message.salt: already stored (replay)")
        self._signatures.add(tpsl.signature)
        self._salts.add((order.virtual_account, order.salt))
        coh_id = next(self._ids)
        digest = to_hex(eip712.digest(tpsl.domain, order))
        for kind, leg in (("take_profit", order.take_profit), ("stop_loss", order.stop_loss)):
            if Decimal(leg.quantity) != 0:
                now = self.now()
                self.orders.append(
                    {
                        "quote_id": order.quote_id,
                        "coh_quote_id": coh_quote_id_text(coh_id),
                        "party_a_address": order.virtual_account,
                        "symbol_id": order.symbol_id,
                        "conditional_order_type": kind,
                        "quantity": number(leg.quantity),
                        "price": number(leg.price),
                        "conditional_order_price": number(leg.conditional_price),
                        "order_type": leg.order_type,
                        "state": "new",
                        "action_price_type": leg.conditional_price_type,
                        "close_status": None,
                        "position_type": order.position_type,
                        "leverage": None,
                        "create_time": now,
                        "modify_time": now,
                    }
                )
                self._salt_of[len(self.orders) - 1] = order.salt
                self._identity_of[len(self.orders) - 1] = {
                    "coh_quote_id": coh_quote_id_text(coh_id),
                    "conditional_order_type": kind,
                    "signer": tpsl.signer,
                    "order_digest": digest,
                    "cancel_signer": None,
                    "cancel_digest": None,
                }
        return {
            "successful": True,
            "message": "conditional order stored",
            "coh_quote_id": coh_quote_id_text(coh_id),
        }

    def _cancel(self, request: httpx.Request) -> dict[str, Any]:
        """The CancelConditionalOrder envelope read strictly; the signature must recover to the
        signer (no chain here: the delegation is not checked) and is used at most once; the
        new leg named by VA, "coh<N>" id and leg type is cancelled (the salt is the cancel's)."""
        domain, message, signature, signer = read_delete(self.body(request))
        if domain != self.context.tpsl_domain():
            raise ServiceRefusal(NOT_CONFORMING, "typedData.domain: not the served domain")
        try:
            recovered = eip712.recover(domain, message, signature)
        except SignatureError as exc:
            raise ServiceRefusal(NOT_CONFORMING, f"signature: {exc}") from None
        if recovered != signer:
            raise ServiceRefusal(NOT_CONFORMING, f"signature: recovers to {recovered}")
        if signature in self._cancel_signatures:
            raise ServiceRefusal(REPLAYED, "signature: this signed cancel was already executed")
        for i, row in enumerate(self.orders):
            if (
                row["coh_quote_id"] == message.coh_quote_id
                and row["party_a_address"] == message.virtual_account
                and row["conditional_order_type"] == message.conditional_order_type
                and row["state"] == "new"
            ):
                row["state"] = "canceled"
                self._identity_of[i].update(
                    cancel_signer=signer, cancel_digest=to_hex(eip712.digest(domain, message))
                )
                self._cancel_signatures.add(signature)
                return {
                    "successful": True,
                    "message": f"{row['conditional_order_type']} canceled",
                    "coh_quote_id": row["coh_quote_id"],
                }
        raise ServiceRefusal(WRONG_POSITION, "typedData.message.cohQuoteId: no such new order")

    def _search(self, request: httpx.Request) -> WithHeaders:
        query = {k: v for k, v in self.body(request).items() if v is not None}
        fields = {"conditional_price_type": "action_price_type"}
        salt = query.pop("salt", None)  # the mock's own filter: rows carry no salt
        found = [
            i for i in range(len(self.orders)) if salt is None or str(self._salt_of[i]) == salt
        ]
        found = [
            i
            for i in found
            if all(
                self.orders[i].get(fields.get(k, k)) == v
                for k, v in query.items()
                if k not in ("state", "start", "size")
            )
            and self.orders[i]["state"] in query.get("state", [self.orders[i]["state"]])
        ]
        rows = [self.orders[i] for i in found]
        identity = identity_header([dict(self._identity_of[i]) for i in found])
        return WithHeaders({"data": rows, "count": len(rows)}, identity)


class MockPrices:
    """The price service's REST reads at `base_url` (`{base_url}/api/v1/price`,
    `{base_url}/api/v1/prices/{names}`), answering as `harness.services.prices` does: every
    symbol of the context at the default mark until `set_price` moves it; `markPrice` a JSON
    number written from the Decimal's digits; an unknown name left out of the map. Every request
    is recorded in `calls` (the route and the request). The websocket is not mocked (respx mocks
    HTTP only): point a websocket client at `serve`'s `price_ws_url`."""

    def __init__(self, router: respx.MockRouter, context: Context, base_url: str) -> None:
        self.context = context
        self.base_url = base_url.rstrip("/")
        self.calls: list[tuple[str, httpx.Request]] = []
        stamp = now_ms()
        self.marks: dict[str, Mark] = {
            s.name: Mark(s.id, SymbolMarket(s).mark_price, stamp) for s in context.symbols or ()
        }
        router.route(method="GET", url=self.base_url + ALL_PRICES_PATH).mock(side_effect=self._all)
        router.route(
            method="GET",
            url__regex=rf"^{re.escape(self.base_url + PRICES_BY_NAMES_PATH)}/[^/?]+$",
        ).mock(side_effect=self._by_names)

    def set_price(self, name: str, price: Decimal | str) -> None:
        """Move the mark of the contract-symbols `name`."""
        old = self.marks[name]
        self.marks[name] = Mark(old.symbol_id, Decimal(price), now_ms())

    def _answer(self, route: str, request: httpx.Request, body: Any) -> httpx.Response:
        self.calls.append((route, request))
        return httpx.Response(
            200, content=dumps(body).encode(), headers={"content-type": "application/json"}
        )

    def _all(self, request: httpx.Request) -> httpx.Response:
        rows = [price_row(name, mark) for name, mark in self.marks.items()]
        return self._answer("price", request, rows)

    def _by_names(self, request: httpx.Request) -> httpx.Response:
        try:
            names = read_names(request.url.path.rsplit("/", 1)[1])
        except ServiceRefusal as refusal:
            self.calls.append(("prices", request))
            body = error_body(refusal.error, refusal.detail)
            return httpx.Response(refusal.error.http_status, json=body)
        found = {
            n: {**price_row(n, self.marks[n]), "name": ticker(n)} for n in names if n in self.marks
        }
        return self._answer("prices", request, found)
