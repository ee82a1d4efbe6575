"""Fault injection on `serve` (loopback) and the at-most-once clients against it: reads and
429/503 retried within bounds, an ambiguous submission never re-posted but reconciled (the
InstantLayer's usage count of each digest, the COH's search by salt), or AmbiguousSubmission."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest

from harness import eip712, flow, wire
from harness.keys import LocalKey
from harness.pricing import LockedParamsPct
from harness.primitives import to_hex
from harness.services import (
    AmbiguousSubmission,
    AsyncSolverClient,
    CohClient,
    OpenAccepted,
    Reconciled,
    Retry,
    ServiceError,
    SolverClient,
)
from harness.services.backend import DEFAULT_LOCKED_PARAMS
from harness.services.client import served_usage_count
from harness.services.launch import ServeProcess
from harness.services.notify_client import NotificationFailed, Notifications, SyncNotifications

pytestmark = [pytest.mark.server, pytest.mark.subprocess]

FAST = Retry(attempts=4, backoff=0.01, max_wait=1.0, reconcile_reads=3, settle=0.2)


@pytest.fixture(scope="module")
def served() -> Iterator[ServeProcess]:
    with ServeProcess() as process:
        yield process


OPENED: list = []


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while OPENED:
        OPENED.pop().close()


def kept(client):
    OPENED.append(client)
    return client


@pytest.fixture
def http(served: ServeProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=served.base, timeout=30) as client:
        client.delete("/mock/faults")
        yield client
        client.delete("/mock/faults")


def arm(http: httpx.Client, route: str, fault: str, count: int = 1, **extra) -> None:
    got = http.post("/mock/faults", json={"route": route, "fault": fault, "count": count, **extra})
    assert got.status_code == 200, got.text


def requests_seen(http: httpx.Client, route: str) -> int:
    return http.get("/mock/faults").json()["requests"].get(route, 0)


def onboard(http: httpx.Client) -> tuple[LocalKey, str]:
    session = LocalKey.generate()
    got = http.post("/mock/onboard", json={"session_key": session.address}).json()
    return session, got["sub_account"]


def open_plan(served: ServeProcess, session: LocalKey, sub_account: str) -> flow.OpenPlan:
    return flow.build_instant_open(
        served.context,
        session,
        sub_account=sub_account,
        symbol=served.context.symbols[0],
        side="long",
        quantity=Decimal("0.015"),
        leverage=10,
        mark_price=Decimal("65000.5"),
        locked_params=LockedParamsPct.from_response({**DEFAULT_LOCKED_PARAMS, "leverage": "10"}),
        trading_fee=Decimal("0.0006"),
        deadline=int(time.time()) + 3600,
    )


def digests(served: ServeProcess, plan: flow.OpenPlan) -> tuple[bytes, ...]:
    domain = eip712.instant_layer_domain(served.context.chain_id, served.context.instant_layer)
    body = plan.body
    return tuple(
        eip712.digest(domain, w.signed_operation) for w in (body.add_margin, body.send_quote)
    )


def solver(served: ServeProcess, **kwargs) -> SolverClient:
    return kept(
        SolverClient(
            f"{served.base}/solver",
            usage_count=served_usage_count(served.base),
            retry=FAST,
            **kwargs,
        )
    )


def test_faults_route_reads_its_body_strictly(http: httpx.Client) -> None:
    for body, word in [
        ({"route": "instant_open", "fault": "boom", "count": 1}, "fault: expected one of"),
        ({"route": "nowhere", "fault": "reply_lost", "count": 1}, "route: expected one of"),
        ({"route": "tpsl", "fault": "reply_lost", "count": 0}, "count: expected"),
        ({"route": "tpsl", "fault": "reply_lost", "count": True}, "count: expected"),
        ({"route": "tpsl", "fault": "reply_lost"}, "count: required"),
        ({"route": "tpsl", "fault": "reply_lost", "count": 1, "x": 1}, "x: unknown key"),
    ]:
        got = http.post("/mock/faults", json=body)
        assert got.status_code == 400 and word in got.json()["error_detail"], (body, got.text)
    dup = http.post(
        "/mock/faults",
        content=b'{"route":"tpsl","route":"instant_open","fault":"reply_lost","count":1}',
        headers={"content-type": "application/json"},
    )
    assert dup.status_code == 400 and dup.json()["code"] == 3007
    assert http.get("/mock/faults").json()["armed"] == {}


def test_rate_limited_and_unavailable_are_retried_honouring_retry_after(
    served: ServeProcess, http: httpx.Client
) -> None:
    session, sub = onboard(http)
    plan = open_plan(served, session, sub)
    arm(http, "instant_open", "rate_limited", 1, retry_after=0)
    arm(http, "instant_open", "unavailable", 1, retry_after=0)
    waits: list[float] = []
    client = solver(served)
    client.sleep = waits.append
    before = requests_seen(http, "instant_open")
    accepted = client.instant_open(plan.body)
    assert isinstance(accepted, OpenAccepted) and accepted.temp_quote_id < 0
    assert waits == [0.0, 0.0]  # Retry-After: 0, twice
    assert requests_seen(http, "instant_open") - before == 3
    usage = served_usage_count(served.base)
    assert [usage(d) for d in digests(served, plan)] == [1, 1]


def test_retries_are_bounded_and_the_last_refusal_is_raised(
    served: ServeProcess, http: httpx.Client
) -> None:
    session, sub = onboard(http)
    plan = open_plan(served, session, sub)
    arm(http, "instant_open", "unavailable", 10, retry_after=0)
    client = solver(served)
    client.sleep = lambda _s: None
    with pytest.raises(ServiceError) as caught:
        client.instant_open(plan.body)
    assert not isinstance(caught.value, AmbiguousSubmission)
    assert (caught.value.http_status, caught.value.code) == (503, 3021)
    assert caught.value.retry_after == 0
    usage = served_usage_count(served.base)
    assert [usage(d) for d in digests(served, plan)] == [0, 0]  # never executed


@pytest.mark.parametrize("fault", ["error_after_execute", "reply_lost", "timeout_after_accept"])
def test_an_ambiguous_open_is_not_reposted_but_reconciled_on_chain(
    served: ServeProcess, http: httpx.Client, fault: str
) -> None:
    session, sub = onboard(http)
    plan = open_plan(served, session, sub)
    arm(http, "instant_open", fault, 1, delay_seconds=2)
    before = requests_seen(http, "instant_open")
    got = solver(served, timeout=0.8).instant_open(plan.body)
    assert isinstance(got, Reconciled), got
    assert got.digests == tuple(to_hex(d) for d in digests(served, plan))
    assert requests_seen(http, "instant_open") - before == 1  # never re-posted


def test_without_a_chain_read_an_ambiguous_open_raises_with_its_digests(
    served: ServeProcess, http: httpx.Client
) -> None:
    session, sub = onboard(http)
    plan = open_plan(served, session, sub)
    arm(http, "instant_open", "reply_lost")
    client = kept(SolverClient(f"{served.base}/solver", retry=FAST))
    with pytest.raises(AmbiguousSubmission) as caught:
        client.instant_open(plan.body)
    assert caught.value.digests == tuple(to_hex(d) for d in digests(served, plan))
    assert "not re-posted" in str(caught.value)


def test_a_lost_tpsl_reply_is_reconciled_through_the_published_search_and_stored_once(
    served: ServeProcess, http: httpx.Client
) -> None:
    session, sub = onboard(http)
    plain = kept(SolverClient(f"{served.base}/solver"))
    accepted = plain.instant_open(open_plan(served, session, sub).body)
    status = plain.temp_quote_status(accepted.temp_quote_id)
    order = flow.build_tpsl(
        served.context.tpsl_domain(),
        session,
        sub_account=sub,
        virtual_account=status["party_a_account"],
        affiliate=served.context.affiliate,
        quote_id=status["quote_id"],
        symbol=served.context.symbols[0],
        side="long",
        quantity=Decimal("0.004"),
        mark_price=Decimal("65000.5"),
        take_profit=Decimal("68250.5"),
    )
    arm(http, "tpsl", "reply_lost")
    coh = kept(CohClient(f"{served.base}/coh", retry=FAST))
    ws_url = served.base.replace("http://", "ws://") + "/coh/api/v5/ws"
    with SyncNotifications(ws_url) as ws:
        ws.subscribe(status["party_a_account"])
        coh_id = coh.submit(order)
        placed = ws.wait_order_new(coh_id, timeout=10)
    assert placed["state"] == "new", placed
    assert placed["conditional_order_type"] == "take_profit", placed
    assert placed["coh_quote_id"] == coh_id, placed
    rows = coh.search(party_a_address=status["party_a_account"])
    assert [r["coh_quote_id"] for r in rows] == [coh_id], "stored once, under the reconciled id"
    # posted again by a careless caller: refused as a replay (a refusal is answered as such even
    # when a fault is armed: nothing executed), still stored once
    arm(http, "tpsl", "error_after_execute")
    with pytest.raises(ServiceError) as caught:
        coh.submit(wire.tpsl_to_wire(order))
    assert not isinstance(caught.value, AmbiguousSubmission)
    assert (caught.value.http_status, caught.value.code) == (409, 3013)
    assert "replay" in str(caught.value)
    assert len(coh.search(party_a_address=status["party_a_account"])) == 1


def test_a_lost_cancel_reply_is_reconciled_by_the_orders_state_and_sent_once(
    served: ServeProcess, http: httpx.Client
) -> None:
    session, sub = onboard(http)
    plain = kept(SolverClient(f"{served.base}/solver"))
    accepted = plain.instant_open(open_plan(served, session, sub).body)
    status = plain.temp_quote_status(accepted.temp_quote_id)
    va = status["party_a_account"]
    order = flow.build_tpsl(
        served.context.tpsl_domain(),
        session,
        sub_account=sub,
        virtual_account=va,
        affiliate=served.context.affiliate,
        quote_id=status["quote_id"],
        symbol=served.context.symbols[0],
        side="long",
        quantity=Decimal("0.004"),
        mark_price=Decimal("65000.5"),
        take_profit=Decimal("68250.5"),
    )
    coh = kept(CohClient(f"{served.base}/coh", retry=FAST))
    coh_id = coh.submit(order)
    message, signature = flow.build_tpsl_delete(
        served.context.tpsl_domain(),
        session,
        virtual_account=va,
        coh_quote_id=coh_id,
        conditional_order_type="take_profit",
    )
    arm(http, "tpsl_cancel", "reply_lost")
    before = requests_seen(http, "tpsl_cancel")
    ws_url = served.base.replace("http://", "ws://") + "/coh/api/v5/ws"
    with SyncNotifications(ws_url) as ws:
        ws.subscribe(sub)
        cancelled = coh.cancel(served.context.tpsl_domain(), message, signature, session.address)
        report = ws.wait_order_canceled(cancelled, timeout=10)
    assert cancelled == message.coh_quote_id and report["state"] == "canceled", report
    assert requests_seen(http, "tpsl_cancel") - before == 1  # reconciled, never re-sent
    with pytest.raises(ServiceError) as caught:  # the same signed cancel again: a replay
        coh.cancel(served.context.tpsl_domain(), message, signature, session.address)
    assert (caught.value.http_status, caught.value.code) == (409, 3013), caught.value


def test_notifications_client_waits_for_the_open_and_types_failures(
    served: ServeProcess, http: httpx.Client
) -> None:
    session, sub = onboard(http)
    plan = open_plan(served, session, sub)
    ws_url = served.base.replace("http://", "ws://") + "/solver/api/ws/notifications"

    async def scenario() -> tuple[dict, NotificationFailed]:
        async with (
            Notifications(ws_url) as ws,
            AsyncSolverClient(f"{served.base}/solver", retry=FAST) as client,
        ):
            await ws.subscribe(sub)
            accepted = await client.instant_open(plan.body)
            opened = await ws.wait_open(accepted.temp_quote_id, timeout=10)
            try:  # the same body again: the chain refuses (MaxUsesExceeded)
                await client.instant_open(plan.body)
            except ServiceError as exc:
                temp = exc.body["temp_quote_id"]
            with pytest.raises(NotificationFailed) as failed:
                await ws.wait_open(temp, timeout=10)
            return opened, failed.value

    opened, failed = asyncio.run(scenario())
    assert opened["action_status"] == "success" and opened["quote_id"] > 0
    assert opened["va_address"].startswith("0x")
    assert failed.action == "SendQuoteTransaction" and failed.code == 3010
    assert "MaxUses" in (failed.failure_message or ""), failed.failure_message
