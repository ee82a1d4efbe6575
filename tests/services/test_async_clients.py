"""The async twins on httpx.AsyncClient (in-process, httpx.ASGITransport): retries of 429/503,
reconciliation of an ambiguous open through an async usage-count read, AmbiguousSubmission
for a TP/SL whose salt is not found."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import httpx

from harness import flow
from harness.keys import LocalKey
from harness.services import (
    AmbiguousSubmission,
    AsyncCohClient,
    AsyncSolverClient,
    Reconciled,
    Retry,
    Services,
    embedded_backend,
)
from harness.services.faults import Armed

from .conftest import User, open_plan


class LosesTpslPosts(httpx.AsyncBaseTransport):
    """Forwards to the app, except that a TP/SL POST times out before reaching it (the client
    cannot know whether it arrived)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path == "/coh/api/v5/":
            raise httpx.ReadTimeout("lost on the way", request=request)
        return await self.inner.handle_async_request(request)


RETRY = Retry(attempts=3, backoff=0.0, max_wait=0.0, reconcile_reads=2, settle=0.0)


def test_async_clients_retry_reconcile_and_raise_when_they_cannot_tell() -> None:
    services = Services(embedded_backend())
    backend = services.backend
    session = LocalKey.generate()
    user = User(session, backend.onboard(session.address).sub_account)
    plan = open_plan(services, user)
    system = backend.system

    async def usage(digest: bytes) -> int:
        return system.usage_count(digest)

    async def scenario() -> tuple[object, AmbiguousSubmission, int, int]:
        transport = LosesTpslPosts(httpx.ASGITransport(app=services.app))
        async with httpx.AsyncClient(transport=transport, base_url="http://asgi") as http:
            solver = AsyncSolverClient(
                "http://asgi/solver", client=http, usage_count=usage, retry=RETRY
            )
            coh = AsyncCohClient("http://asgi/coh", client=http, retry=RETRY)
            backend.faults.arm("instant_open", Armed("rate_limited", 1, retry_after=0))
            backend.faults.arm("instant_open", Armed("error_after_execute", 1))
            reconciled = await solver.instant_open(plan.body)
            status = backend.faults.describe()
            order = flow.build_tpsl(
                backend.context.tpsl_domain(),
                session,
                sub_account=user.sub_account,
                virtual_account=user.sub_account,
                affiliate=system.affiliate,
                quote_id=1,
                symbol=backend.markets[1].symbol,
                side="long",
                quantity=Decimal("0.004"),
                mark_price=Decimal("65000.5"),
                take_profit=Decimal("68250.5"),
            )
            try:
                await coh.submit(order)
            except AmbiguousSubmission as exc:
                ambiguous = exc
            else:
                raise AssertionError("a TP/SL that never arrived was reported stored")
            return reconciled, ambiguous, status["requests"]["instant_open"], order.order.salt

    reconciled, ambiguous, open_requests, salt = asyncio.run(scenario())
    assert isinstance(reconciled, Reconciled) and reconciled.kind == "instant_open"
    assert open_requests == 2  # one 429, then one post: never re-posted after the 500
    assert [system.usage_count(bytes.fromhex(d[2:])) for d in reconciled.digests] == [1, 1]
    assert ambiguous.salts == (salt,) and "not re-posted" in str(ambiguous)
    assert backend.faults.describe()["requests"].get("tpsl", 0) == 0  # nothing was re-sent
