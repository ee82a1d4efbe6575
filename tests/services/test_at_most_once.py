"""A hypothesis state machine drives the at-most-once clients against random fault sequences on
`serve` (loopback) and checks on chain, after every step, that each operation executed at most
once, that a client never re-posted after an ambiguous failure, and that every outcome the client
reported agrees with the chain (executed / refused) or is an honest AmbiguousSubmission."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

import httpx
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from harness import eip712, flow
from harness.keys import LocalKey
from harness.pricing import LockedParamsPct
from harness.services import (
    AmbiguousSubmission,
    CohClient,
    Reconciled,
    Retry,
    ServiceError,
    SolverClient,
)
from harness.services.backend import DEFAULT_LOCKED_PARAMS
from harness.services.client import served_usage_count
from harness.services.faults import BEFORE_EXECUTION, FAULTS
from harness.services.launch import ServeProcess

pytestmark = [pytest.mark.server, pytest.mark.subprocess, pytest.mark.slow]

RETRY = Retry(attempts=3, backoff=0.01, max_wait=0.2, reconcile_reads=4, settle=0.25)


@dataclass
class Intent:
    kind: str  # open / tpsl
    outcome: str  # executed / refused / ambiguous
    digests: tuple[bytes, ...] = ()
    salt: int = 0


@pytest.fixture(scope="module")
def served() -> Iterator[ServeProcess]:
    with ServeProcess() as process:
        yield process


def test_clients_execute_every_operation_at_most_once_under_random_faults(
    served: ServeProcess,
) -> None:
    base = served.base
    context = served.context
    domain = eip712.instant_layer_domain(context.chain_id, context.instant_layer)
    usage = served_usage_count(base)

    class AtMostOnce(RuleBasedStateMachine):
        @initialize()
        def start(self) -> None:
            self.http = httpx.Client(base_url=base, timeout=30)
            self.http.delete("/mock/faults")
            self.session = LocalKey.generate()
            self.sub = self.http.post(
                "/mock/onboard", json={"session_key": self.session.address}
            ).json()["sub_account"]
            self.solver = SolverClient(
                f"{base}/solver", usage_count=usage, retry=RETRY, timeout=0.6
            )
            self.solver.sleep = lambda _s: None
            self.coh = CohClient(f"{base}/coh", retry=RETRY, timeout=0.6)
            self.coh.sleep = lambda _s: None
            self.intents: list[Intent] = []
            self.positions: list[tuple[str, int]] = []
            state = self.http.get("/mock/faults").json()
            self.base_requests = dict(state["requests"])
            self.base_fired = len(state["fired"])

        def teardown(self) -> None:
            if hasattr(self, "http"):
                time.sleep(1.1)  # let a delayed (timeout_after_accept) answer finish
                self.http.delete("/mock/faults")
                self.http.close()
                self.solver.close()
                self.coh.close()

        @rule(
            route=st.sampled_from(["instant_open", "tpsl"]),
            fault=st.sampled_from(FAULTS),
            count=st.integers(1, 2),
        )
        def arm(self, route: str, fault: str, count: int) -> None:
            got = self.http.post(
                "/mock/faults",
                json={
                    "route": route,
                    "fault": fault,
                    "count": count,
                    "retry_after": 0,
                    "delay_seconds": 1,
                },
            )
            assert got.status_code == 200, got.text

        @rule()
        def open(self) -> None:
            plan = flow.build_instant_open(
                context,
                self.session,
                sub_account=self.sub,
                symbol=context.symbols[0],
                side="long",
                quantity=Decimal("0.015"),
                leverage=10,
                mark_price=Decimal("65000.5"),
                locked_params=LockedParamsPct.from_response(
                    {**DEFAULT_LOCKED_PARAMS, "leverage": "10"}
                ),
                trading_fee=Decimal("0.0006"),
                deadline=int(time.time()) + 3600,
            )
            ops = (plan.body.add_margin.signed_operation, plan.body.send_quote.signed_operation)
            digests = tuple(eip712.digest(domain, op) for op in ops)
            try:
                got = self.solver.instant_open(plan.body)
            except AmbiguousSubmission:
                outcome = "ambiguous"
            except ServiceError:
                outcome = "refused"
            else:
                outcome = "executed"
                if not isinstance(got, Reconciled):
                    status = httpx.get(
                        f"{base}/solver/api/temp_quote_status/{got.temp_quote_id}", timeout=10
                    ).json()
                    self.positions.append((status["party_a_account"], status["quote_id"]))
            self.intents.append(Intent("open", outcome, digests))

        @rule(data=st.data())
        def tpsl(self, data: st.DataObject) -> None:
            if not self.positions:
                return
            va, quote_id = data.draw(st.sampled_from(self.positions))
            order = flow.build_tpsl(
                context.tpsl_domain(),
                self.session,
                sub_account=self.sub,
                virtual_account=va,
                affiliate=context.affiliate,
                quote_id=quote_id,
                symbol=context.symbols[0],
                side="long",
                quantity=Decimal("0.001"),
                mark_price=Decimal("65000.5"),
                take_profit=Decimal("90000.5"),
            )
            try:
                self.coh.submit(order)
            except AmbiguousSubmission:
                outcome = "ambiguous"
            except ServiceError:
                outcome = "refused"
            else:
                outcome = "executed"
            self.intents.append(Intent("tpsl", outcome, salt=order.order.salt))

        @invariant()
        def each_operation_ran_at_most_once_and_as_reported(self) -> None:
            if not hasattr(self, "intents"):
                return
            for intent in self.intents:
                if intent.kind == "open":
                    counts = [usage(d) for d in intent.digests]
                    assert all(c <= 1 for c in counts) and len(set(counts)) == 1, counts
                    if intent.outcome == "executed":
                        assert counts == [1, 1], (intent, counts)
                    if intent.outcome == "refused":
                        assert counts == [0, 0], (intent, counts)
                else:
                    rows = self.http.post(
                        "/coh/api/v5/search/", json={"salt": str(intent.salt)}
                    ).json()["data"]
                    assert len(rows) <= 1, rows
                    if intent.outcome == "executed":
                        assert len(rows) == 1, intent
                    if intent.outcome == "refused":
                        assert rows == [], intent

        @invariant()
        def no_submission_was_reposted_after_an_ambiguous_failure(self) -> None:
            if not hasattr(self, "intents"):
                return
            state = self.http.get("/mock/faults").json()
            fired = state["fired"][self.base_fired :]
            for route, kind in (("instant_open", "open"), ("tpsl", "tpsl")):
                seen = state["requests"].get(route, 0) - self.base_requests.get(route, 0)
                refused_by_fault = sum(1 for r, f in fired if r == route and f in BEFORE_EXECUTION)
                intents = sum(1 for i in self.intents if i.kind == kind)
                # past the fault gate, each submission reached the service at most once (all
                # of them did, unless one was refused by faults on every attempt)
                refused = sum(1 for i in self.intents if i.kind == kind and i.outcome == "refused")
                reached = seen - refused_by_fault
                assert intents - refused <= reached <= intents, (route, seen, fired, intents)

    AtMostOnce.TestCase.settings = settings(
        max_examples=4,
        stateful_step_count=6,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    AtMostOnce.TestCase().runTest()
