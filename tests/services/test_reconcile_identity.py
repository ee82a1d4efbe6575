"""Reconciliation identifies the operation by everything that makes it that operation (issue 19
item 2): after an ambiguous failure a TP/SL submit or cancel is never re-sent, and it counts as
done only when a row is PROVEN to be this request (VA, quote or "coh<N>" id, leg, trigger, and
the signer and signed EIP-712 digest the mock's `X-Symmio-Harness-Identity` search header
shows). Anything else is AmbiguousSubmission carrying the rows seen, never another user's order
sharing the salt, never an earlier cancel of the other leg, never a cancel someone else made.

Every scenario runs on each client: `sync` (CohClient over a socket to `serve`), `async`
(AsyncCohClient over a socket to `serve`) and `in_process` (CohClient on
`server.in_process_client`, which honours its read timeout like a socket). A request "lost on
the way" never reaches the service (a client-side ReadTimeout before sending: the client cannot
tell it from a lost reply)."""

from __future__ import annotations

import asyncio
import inspect
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
import pytest

from harness import flow
from harness.context import Context
from harness.keys import LocalKey
from harness.model import TpslRequest
from harness.pricing import LockedParamsPct
from harness.services import (
    AmbiguousSubmission,
    AsyncCohClient,
    CohClient,
    Retry,
    Services,
    SolverClient,
    embedded_backend,
)
from harness.services.backend import DEFAULT_LOCKED_PARAMS, SymbolMarket
from harness.services.launch import ServeProcess
from harness.services.published import IDENTITY_HEADER
from harness.services.server import IN_PROCESS_BASE, in_process_client

pytestmark = [pytest.mark.server, pytest.mark.subprocess, pytest.mark.slow]

FAST = Retry(attempts=4, backoff=0.01, max_wait=0.05, reconcile_reads=4, settle=0.3)
CLIENT_TIMEOUT = 0.8
EXECUTED_FAULTS = ["reply_lost", "error_after_execute", "timeout_after_accept"]
REFUSED_FAULTS = ["rate_limited", "unavailable"]
ORDERS = "/coh/api/v5/"


# ------------------------------------------------------------------------------ the transport


class _Tamper:
    """What the client under test sees of the service: the first `lose` request (method, path
    suffix) raises ReadTimeout WITHOUT being sent; with `published_only` the COH behaves like a
    real one: the mock's salt filter is dropped from searches and the identity header from the
    answers (a real COH's rows carry neither)."""

    def __init__(self, lose: tuple[str, str] | None, published_only: bool) -> None:
        self.lose = lose
        self.published_only = published_only

    def before(self, method: str, url: Any, kwargs: dict[str, Any]) -> None:
        if self.lose is not None and method == self.lose[0] and str(url).endswith(self.lose[1]):
            self.lose = None
            raise httpx.ReadTimeout("lost on the way", request=httpx.Request(method, str(url)))
        if self.published_only and str(url).endswith("/search/"):
            kwargs["json"] = {k: v for k, v in kwargs["json"].items() if k != "salt"}

    def after(self, response: httpx.Response) -> httpx.Response:
        if self.published_only and IDENTITY_HEADER in response.headers:
            del response.headers[IDENTITY_HEADER]
        return response


class _SyncProxy:
    def __init__(self, inner: Any, tamper: _Tamper) -> None:
        self.inner, self.tamper = inner, tamper

    def request(self, method: str, url: Any, **kwargs: Any) -> httpx.Response:
        self.tamper.before(method, url, kwargs)
        return self.tamper.after(self.inner.request(method, url, **kwargs))


class _AsyncProxy:
    def __init__(self, inner: httpx.AsyncClient, tamper: _Tamper) -> None:
        self.inner, self.tamper = inner, tamper

    async def request(self, method: str, url: Any, **kwargs: Any) -> httpx.Response:
        self.tamper.before(method, url, kwargs)
        return self.tamper.after(await self.inner.request(method, url, **kwargs))


# ------------------------------------------------------------------------------ the stages


@dataclass
class Stage:
    """One client kind against one service: `http` sets up and inspects (plain requests),
    `run` drives the client under test."""

    kind: str
    base: str
    http: Any
    context: Context
    services: Services | None = None

    def run(
        self,
        operation: Callable[[Any], Any],
        *,
        lose: tuple[str, str] | None = None,
        published_only: bool = False,
    ) -> Any:
        tamper = _Tamper(lose, published_only)
        coh_base = f"{self.base}/coh"
        if self.kind == "async":

            async def go() -> Any:
                async with httpx.AsyncClient(timeout=CLIENT_TIMEOUT) as inner:
                    coh = AsyncCohClient(coh_base, client=_AsyncProxy(inner, tamper), retry=FAST)
                    return await operation(coh)

            return asyncio.run(go())
        if self.kind == "in_process":
            self.http.timeout = httpx.Timeout(CLIENT_TIMEOUT)
            try:
                coh = CohClient(coh_base, client=_SyncProxy(self.http, tamper), retry=FAST)
                got = operation(coh)
            finally:
                self.http.timeout = httpx.Timeout(30)
            assert not inspect.isawaitable(got)
            return got
        with httpx.Client(timeout=CLIENT_TIMEOUT) as inner:
            coh = CohClient(coh_base, client=_SyncProxy(inner, tamper), retry=FAST)
            return operation(coh)

    # --- set-up and inspection through plain requests

    def arm(self, route: str, fault: str) -> None:
        body = {"route": route, "fault": fault, "count": 1, "retry_after": 0, "delay_seconds": 2}
        got = self.http.post("/mock/faults", json=body)
        assert got.status_code == 200, got.text

    def requests_seen(self, route: str) -> int:
        return self.http.get("/mock/faults").json()["requests"].get(route, 0)

    def rows(self, **query: Any) -> list[dict[str, Any]]:
        got = self.http.post(f"{ORDERS}search/", json=query)
        assert got.status_code == 200, got.text
        return got.json()["data"]


@pytest.fixture(scope="module")
def served() -> Iterator[ServeProcess]:
    with ServeProcess() as process:
        yield process


@pytest.fixture(scope="module")
def in_process() -> Iterator[tuple[Services, Any]]:
    services = Services(embedded_backend())
    with in_process_client(services, timeout=30) as http:
        yield services, http


@pytest.fixture(params=["sync", "async", "in_process"])
def stage(request: pytest.FixtureRequest) -> Iterator[Stage]:
    if request.param == "in_process":
        services, http = request.getfixturevalue("in_process")
        found = Stage("in_process", IN_PROCESS_BASE, http, services.backend.context, services)
    else:
        served: ServeProcess = request.getfixturevalue("served")
        found = Stage(request.param, served.base, None, served.context)
        found.http = httpx.Client(base_url=served.base, timeout=30)
    found.http.delete("/mock/faults")
    yield found
    found.http.delete("/mock/faults")
    if request.param != "in_process":
        found.http.close()


# ------------------------------------------------------------------------------ the trader


@dataclass
class Trader:
    """A user with an open long position: its session key, sub-account, VA and quote."""

    session: LocalKey
    sub_account: str
    va: str
    quote_id: int


def trader(stage: Stage) -> Trader:
    session = LocalKey.generate()
    got = stage.http.post("/mock/onboard", json={"session_key": session.address})
    assert got.status_code == 200, got.text
    sub = got.json()["sub_account"]
    plan = flow.build_instant_open(
        stage.context,
        session,
        sub_account=sub,
        symbol=stage.context.symbols[0],
        side="long",
        quantity=Decimal("0.015"),
        leverage=10,
        mark_price=mark(stage),
        locked_params=LockedParamsPct.from_response({**DEFAULT_LOCKED_PARAMS, "leverage": "10"}),
        trading_fee=Decimal("0.0006"),
        deadline=int(time.time()) + 3600,
    )
    with SolverClient(f"{stage.base}/solver", client=stage.http) as solver:
        temp = solver.instant_open(plan.body).temp_quote_id
        status = solver.temp_quote_status(temp)
    return Trader(session, sub, status["party_a_account"], status["quote_id"])


def mark(stage: Stage) -> Decimal:
    return SymbolMarket(stage.context.symbols[0]).mark_price


def order(stage: Stage, who: Trader, salt: int, *, stop_loss: bool = False) -> TpslRequest:
    """A take-profit (and a stop-loss when asked) on the trader's position, with this salt."""
    price = mark(stage)
    return flow.build_tpsl(
        stage.context.tpsl_domain(),
        who.session,
        sub_account=who.sub_account,
        virtual_account=who.va,
        affiliate=stage.context.affiliate,
        quote_id=who.quote_id,
        symbol=stage.context.symbols[0],
        side="long",
        quantity=Decimal("0.004"),
        mark_price=price,
        take_profit=price + 3250,
        stop_loss=price - 3250 if stop_loss else None,
        salt=salt,
    )


def stored(stage: Stage, request: TpslRequest) -> str:
    return stage.run(lambda coh: coh.submit(request))


def cancel_of(stage: Stage, who: Trader, coh_id: str, leg: str) -> Callable[[Any], Any]:
    message, signature = flow.build_tpsl_delete(
        stage.context.tpsl_domain(),
        who.session,
        virtual_account=who.va,
        coh_quote_id=coh_id,
        conditional_order_type=leg,
    )
    domain = stage.context.tpsl_domain()
    return lambda coh: coh.cancel(domain, message, signature, who.session.address)


def a_salt() -> int:
    return random.getrandbits(128)


def leg_state(stage: Stage, who: Trader, coh_id: str, leg: str) -> str:
    (row,) = [
        r
        for r in stage.rows(party_a_address=who.va, conditional_order_type=leg)
        if r["coh_quote_id"] == coh_id
    ]
    return row["state"]


def two_users_sharing_a_salt(stage: Stage) -> tuple[Trader, int, str]:
    """Two traders; the other one's order with salt S is stored: (me, S, the other's id)."""
    me, other = trader(stage), trader(stage)
    salt = a_salt()
    return me, salt, stored(stage, order(stage, other, salt))


# ------------------------------------------------------------------------------ submit


@pytest.mark.parametrize("fault", EXECUTED_FAULTS)
def test_a_submit_whose_reply_was_lost_reconciles_to_its_own_order_not_the_other_users(
    stage: Stage, fault: str
) -> None:
    me, salt, others_id = two_users_sharing_a_salt(stage)
    mine = order(stage, me, salt)
    stage.arm("tpsl", fault)
    before = stage.requests_seen("tpsl")
    got = stage.run(lambda coh: coh.submit(mine))
    rows = stage.rows(party_a_address=me.va)
    assert got != others_id, f"{fault}: reconciled to the other user's order {others_id}"
    assert [r["coh_quote_id"] for r in rows] == [got], f"{fault}: my rows {rows} vs {got}"
    assert stage.requests_seen("tpsl") - before == 1, f"{fault}: the submit was re-posted"


def test_a_submit_lost_on_the_way_is_unknown_never_the_other_users_order_sharing_its_salt(
    stage: Stage,
) -> None:
    me, salt, others_id = two_users_sharing_a_salt(stage)
    mine = order(stage, me, salt)
    before = stage.requests_seen("tpsl")
    with pytest.raises(AmbiguousSubmission) as raised:
        stage.run(lambda coh: coh.submit(mine), lose=("POST", ORDERS))
    assert raised.value.salts == (salt,), raised.value.salts
    assert all(r["coh_quote_id"] != others_id for r in raised.value.seen), raised.value.seen
    assert "not re-posted" in str(raised.value), str(raised.value)
    assert stage.requests_seen("tpsl") == before, "the lost submit was re-posted"
    assert stage.rows(party_a_address=me.va) == [], "nothing of mine was stored"


@pytest.mark.parametrize("fault", REFUSED_FAULTS)
def test_a_submit_refused_before_execution_is_retried_and_stored_once(
    stage: Stage, fault: str
) -> None:
    me = trader(stage)
    mine = order(stage, me, a_salt())
    stage.arm("tpsl", fault)
    before = stage.requests_seen("tpsl")
    got = stage.run(lambda coh: coh.submit(mine))
    assert [r["coh_quote_id"] for r in stage.rows(party_a_address=me.va)] == [got]
    assert stage.requests_seen("tpsl") - before == 2, f"{fault}: one refusal, one post"


def test_a_submit_lost_on_the_way_is_unknown_beside_an_earlier_identical_order_of_the_same_va(
    stage: Stage,
) -> None:
    """Same VA, quote, legs and triggers, another salt: only the signed digest tells them
    apart, so the earlier order is never taken for the lost one."""
    me = trader(stage)
    earlier = stored(stage, order(stage, me, a_salt()))
    again = order(stage, me, a_salt())
    with pytest.raises(AmbiguousSubmission) as raised:
        stage.run(lambda coh: coh.submit(again), lose=("POST", ORDERS))
    assert [r["coh_quote_id"] for r in stage.rows(party_a_address=me.va)] == [earlier]
    assert raised.value.salts == (again.order.salt,), raised.value.salts


def test_against_a_coh_without_identity_rows_that_fit_are_unknown_not_a_success(
    stage: Stage,
) -> None:
    """A real COH's published row carries no signer or digest (Trading-SDK tpsl-handler.ts
    ConditionalOrderResponseSchema) and ignores the mock's salt filter: an earlier identical
    order of the same VA fits the lost one's legs, and reconciliation must say unknown."""
    me = trader(stage)
    earlier = stored(stage, order(stage, me, a_salt()))
    again = order(stage, me, a_salt())
    with pytest.raises(AmbiguousSubmission) as raised:
        stage.run(lambda coh: coh.submit(again), lose=("POST", ORDERS), published_only=True)
    assert [r["coh_quote_id"] for r in raised.value.seen] == [earlier], raised.value.seen
    assert "unknown" in str(raised.value), str(raised.value)


def test_against_a_coh_without_identity_even_an_executed_submit_is_unknown(stage: Stage) -> None:
    me = trader(stage)
    mine = order(stage, me, a_salt())
    stage.arm("tpsl", "reply_lost")
    with pytest.raises(AmbiguousSubmission) as raised:
        stage.run(lambda coh: coh.submit(mine), published_only=True)
    (row,) = stage.rows(party_a_address=me.va)
    assert [r["coh_quote_id"] for r in raised.value.seen] == [row["coh_quote_id"]]


# ------------------------------------------------------------------------------ cancel


def half_cancelled(stage: Stage) -> tuple[Trader, str]:
    """A trader's two-leg order whose take-profit was cancelled: (trader, its coh id)."""
    me = trader(stage)
    coh_id = stored(stage, order(stage, me, a_salt(), stop_loss=True))
    assert stage.run(cancel_of(stage, me, coh_id, "take_profit")) == coh_id
    return me, coh_id


@pytest.mark.parametrize("fault", EXECUTED_FAULTS)
def test_a_cancel_whose_reply_was_lost_reconciles_to_this_cancel(stage: Stage, fault: str) -> None:
    me, coh_id = half_cancelled(stage)
    stage.arm("tpsl_cancel", fault)
    before = stage.requests_seen("tpsl_cancel")
    got = stage.run(cancel_of(stage, me, coh_id, "stop_loss"))
    assert got == coh_id
    assert leg_state(stage, me, coh_id, "stop_loss") == "canceled"
    assert stage.requests_seen("tpsl_cancel") - before == 1, f"{fault}: the cancel was re-sent"


def test_a_stop_loss_cancel_lost_on_the_way_is_not_the_earlier_take_profit_cancel(
    stage: Stage,
) -> None:
    me, coh_id = half_cancelled(stage)
    before = stage.requests_seen("tpsl_cancel")
    with pytest.raises(AmbiguousSubmission) as raised:
        stage.run(cancel_of(stage, me, coh_id, "stop_loss"), lose=("DELETE", ORDERS))
    assert "not re-sent" in str(raised.value), str(raised.value)
    assert stage.requests_seen("tpsl_cancel") == before, "the lost cancel was re-sent"
    assert leg_state(stage, me, coh_id, "stop_loss") == "new", "the stop-loss is still live"


def test_a_cancel_lost_on_the_way_is_not_done_because_another_cancel_did_it(
    stage: Stage,
) -> None:
    """The stop-loss was cancelled by ANOTHER signed cancel (its own salt): the order is
    canceled, but this cancel never ran, so it is unknown, not done."""
    me, coh_id = half_cancelled(stage)
    assert stage.run(cancel_of(stage, me, coh_id, "stop_loss")) == coh_id
    with pytest.raises(AmbiguousSubmission) as raised:
        stage.run(cancel_of(stage, me, coh_id, "stop_loss"), lose=("DELETE", ORDERS))
    assert any(r["coh_quote_id"] == coh_id for r in raised.value.seen), raised.value.seen


@pytest.mark.parametrize("fault", REFUSED_FAULTS)
def test_a_cancel_refused_before_execution_is_retried_and_runs_once(
    stage: Stage, fault: str
) -> None:
    me, coh_id = half_cancelled(stage)
    stage.arm("tpsl_cancel", fault)
    before = stage.requests_seen("tpsl_cancel")
    assert stage.run(cancel_of(stage, me, coh_id, "stop_loss")) == coh_id
    assert leg_state(stage, me, coh_id, "stop_loss") == "canceled"
    assert stage.requests_seen("tpsl_cancel") - before == 2, f"{fault}: one refusal, one send"
