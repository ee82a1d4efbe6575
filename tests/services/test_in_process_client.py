"""The in-process client (`client=in_process_client(services)`) behaves like a socket under
`timeout_after_accept` (issue 19): the read timeout fires after the app accepted, so the open is
reconciled on chain (`Reconciled`), never reported as a plain `OpenAccepted`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from harness.keys import LocalKey
from harness.services import (
    OpenAccepted,
    Reconciled,
    Retry,
    Services,
    SolverClient,
    embedded_backend,
)
from harness.services.faults import Armed
from harness.services.server import IN_PROCESS_BASE, in_process_client

from .conftest import User, open_plan

FAST = Retry(attempts=4, backoff=0.01, max_wait=1.0, reconcile_reads=3, settle=0.2)


@pytest.fixture
def services() -> Iterator[Services]:
    yield Services(embedded_backend())


def test_in_process_timeout_after_accept_is_reconciled_like_a_socket(services):
    session = LocalKey.generate()
    user = User(session, services.backend.onboard(session.address).sub_account)
    plan = open_plan(services, user)
    services.backend.faults.arm("instant_open", Armed("timeout_after_accept", 1, delay_seconds=2))
    with in_process_client(services, timeout=0.8) as http:
        solver = SolverClient(
            f"{IN_PROCESS_BASE}/solver",
            client=http,
            usage_count=services.backend.system.usage_count,
            retry=FAST,
        )
        got = solver.instant_open(plan.body)
    assert isinstance(got, Reconciled), f"expected Reconciled (as over a socket), got {got!r}"
    assert services.backend.faults.describe()["requests"]["instant_open"] == 1, "re-posted"


def test_in_process_client_answers_normally_within_its_timeout(services):
    session = LocalKey.generate()
    user = User(session, services.backend.onboard(session.address).sub_account)
    with in_process_client(services, timeout=30) as http:
        solver = SolverClient(f"{IN_PROCESS_BASE}/solver", client=http, retry=FAST)
        got = solver.instant_open(open_plan(services, user).body)
    assert isinstance(got, OpenAccepted), got
