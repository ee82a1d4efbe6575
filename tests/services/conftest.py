"""Fixtures for the mock services: an embedded chain with both apps, run in-process (Starlette's
TestClient: the ASGI app in a thread, no socket), users onboarded by the backend."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

import pytest

with warnings.catch_warnings():  # Starlette 1.x nudges towards httpx2; httpx 0.28 is pinned
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from harness import deployments, flow
from harness.deployments import Profile
from harness.keys import LocalKey
from harness.pricing import LockedParamsPct
from harness.protocol import CURRENT, Protocol
from harness.services import CohClient, Services, SolverClient, embedded_backend
from harness.services.backend import DEFAULT_LOCKED_PARAMS

BASE = "http://testserver"


@dataclass(frozen=True)
class User:
    session: LocalKey
    sub_account: str


def make_services(
    generation: type[Protocol] = CURRENT, profile: Profile = deployments.LOCAL
) -> Iterator[tuple[Services, TestClient]]:
    """Fresh services of `profile` over a fresh embedded chain with the mocks of `generation`,
    and an in-process client."""
    services = Services(embedded_backend(generation=generation), profile=profile)
    with TestClient(services.app, base_url=BASE) as http:
        yield services, http


@pytest.fixture(scope="module")
def stack() -> Iterator[tuple[Services, TestClient]]:
    """Shared by the tests of one module: they never move the mark price."""
    yield from make_services()


@pytest.fixture
def services(stack: tuple[Services, TestClient]) -> Services:
    return stack[0]


@pytest.fixture
def http(stack: tuple[Services, TestClient]) -> TestClient:
    return stack[1]


@pytest.fixture
def solver(http: TestClient) -> SolverClient:
    return SolverClient(f"{BASE}/solver", client=http)


@pytest.fixture
def coh(http: TestClient) -> CohClient:
    return CohClient(f"{BASE}/coh", client=http)


@pytest.fixture
def user(services: Services) -> User:
    session = LocalKey.generate()
    return User(session, services.backend.onboard(session.address).sub_account)


def open_plan(services: Services, user: User, **overrides: object) -> flow.OpenPlan:
    backend = services.backend
    symbol = backend.markets[1].symbol
    args: dict[str, object] = {
        "sub_account": user.sub_account,
        "symbol": symbol,
        "side": "long",
        "quantity": Decimal("0.015"),
        "leverage": 10,
        "mark_price": backend.prices[1],
        "locked_params": LockedParamsPct.from_response({**DEFAULT_LOCKED_PARAMS, "leverage": "10"}),
        "trading_fee": Decimal("0.0006"),
        "deadline": backend.now() + 3600,
    }
    args.update(overrides)
    return flow.build_instant_open(backend.context, user.session, **args)  # type: ignore[arg-type]


def opened_position(services: Services, solver: SolverClient, user: User) -> tuple[str, int]:
    """Open a position through the solver: its virtual account and quote id."""
    temp = solver.instant_open(open_plan(services, user).body).temp_quote_id
    status = solver.temp_quote_status(temp)
    return status["party_a_account"], status["quote_id"]


def close_plan(
    services: Services, user: User, va: str, quote_id: int, quantity: str = "0.010"
) -> flow.ClosePlan:
    backend = services.backend
    return flow.build_instant_close(
        backend.context,
        user.session,
        virtual_account=va,
        quote_id=quote_id,
        symbol=backend.markets[1].symbol,
        side="long",
        quantity=Decimal(quantity),
        mark_price=backend.prices[1],
        deadline=backend.now() + 3600,
    )


def subscribe(ws, address: str) -> None:
    """Subscribe and wait for the acknowledgement (no frame can be missed after it)."""
    pattern = {
        "app_name": "harness-tests",
        "address": address,
        "primary_identifier": "*",
        "secondary_identifier": "*",
    }
    ws.send_json({"channel_patterns": [pattern]})
    ack = ws.receive_json()
    assert ack == {"subscribed": [pattern]}, ack
