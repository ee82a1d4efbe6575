"""`set_mock_price` is a state change, not a read (issue 19): after an ambiguous failure the
client never posts it again (the move would run twice and its triggered list be lost); it raises
AmbiguousSubmission naming what it saw. 429/503 (certainly not run) are still retried."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from harness.services import AmbiguousSubmission, AsyncCohClient, CohClient, Retry
from harness.services.faults import Armed

from .conftest import BASE, make_services

FAST = Retry(attempts=4, backoff=0.01, max_wait=0.05, reconcile_reads=1, settle=0.01)


@pytest.fixture
def stack() -> Iterator:
    yield from make_services()


def price_posts(services) -> int:
    return services.backend.faults.describe()["requests"].get("price", 0)


@pytest.mark.parametrize("fault", ["reply_lost", "error_after_execute"])
def test_sync_set_mock_price_is_never_resent_after_an_ambiguous_failure(services, http, fault):
    services.backend.faults.arm("price", Armed(fault, 1))
    coh = CohClient(f"{BASE}/coh", client=http, retry=FAST)
    with pytest.raises(AmbiguousSubmission) as raised:
        coh.set_mock_price(1, "66000.0")
    assert price_posts(services) == 1, f"{fault}: the price move was posted again"
    assert "not re-sent" in str(raised.value), str(raised.value)
    assert raised.value.request == {"symbol_id": 1, "price": "66000.0"}, raised.value.request


# httpx.ASGITransport cannot show a dropped reply (it asserts the response completed), so the
# async client is shown the 500 after execution; the socket and sync tests cover reply_lost.
@pytest.mark.parametrize("fault", ["error_after_execute"])
def test_async_set_mock_price_is_never_resent_after_an_ambiguous_failure(services, fault):
    services.backend.faults.arm("price", Armed(fault, 1))

    async def move() -> None:
        transport = httpx.ASGITransport(app=services.app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
            coh = AsyncCohClient(f"{BASE}/coh", client=client, retry=FAST)
            await coh.set_mock_price(1, "66000.0")

    with pytest.raises(AmbiguousSubmission):
        asyncio.run(move())
    assert price_posts(services) == 1, f"{fault}: the price move was posted again"


def test_set_mock_price_is_retried_when_it_certainly_did_not_run(services, http):
    services.backend.faults.arm("price", Armed("unavailable", 1, retry_after=0))
    coh = CohClient(f"{BASE}/coh", client=http, retry=FAST)
    got = coh.set_mock_price(1, "66000.0")
    assert got["triggered"] == [] and price_posts(services) == 2, (got, price_posts(services))
