"""A body is judged before (and outside) the chain worker: a refusal that no clock can change is
answered while the worker is busy, the chain's clock still decides every deadline, and an open's
answer holds what the chain holds although the solver no longer reads the quote back."""

from __future__ import annotations

import inspect
import re
from decimal import Decimal

from harness import pricing, wire
from harness.keys import LocalKey
from harness.services import Services, SolverClient
from harness.services.backend import CLOCK_MARGIN_SECONDS
from harness.services.plumbing import CLOCK_RULES
from harness.services.server import in_process_client
from harness.validator.checks import REGISTRY

from .conftest import User, close_plan, make_services, open_plan, opened_position, subscribe

OPEN = "/solver/api/instant_trade/instant_open"
CLOSE = "/solver/api/instant_trade/instant_close"
#: seconds a refusal may take while the chain worker is held (it needs no chain at all)
REFUSED_WITHIN = 5.0


def test_clock_rules_are_exactly_the_checks_that_read_the_clock() -> None:
    reading = {
        rule_id
        for rule_id, check in REGISTRY.checks.items()
        if check.fn is not None and "env.now" in inspect.getsource(check.fn)
    }
    assert reading == CLOCK_RULES, (
        f"checks reading env.now {sorted(reading)} differ from plumbing.CLOCK_RULES "
        f"{sorted(CLOCK_RULES)}: an early acceptance would stand on a clock rule not re-judged"
    )


def test_a_forged_open_is_refused_while_the_chain_worker_is_busy(
    services: Services, user: User
) -> None:
    body = wire.instant_open_to_wire(open_plan(services, user).body)
    header = body["sendQuote"]["signedOperation"]["replayAttackHeader"]
    header["salt"] = header["salt"][:-1] + ("1" if header["salt"][-1] != "1" else "2")
    # the test thread holds the backend's lock: the chain worker blocks on any chain work
    with in_process_client(services, timeout=REFUSED_WITHIN) as http, services.backend.lock:
        response = http.post(OPEN, json=body)
    assert response.status_code == 400, response.text
    assert "sig.signer" in response.json()["rule_ids"], response.json()


def test_a_close_breaking_a_rule_is_refused_while_the_chain_worker_is_busy(
    services: Services, solver: SolverClient, user: User
) -> None:
    va, quote_id = opened_position(services, solver, user)
    body = wire.instant_close_to_wire(close_plan(services, user, va, quote_id).body)
    body[0]["signedOperation"]["maxUses"] = "x"
    with in_process_client(services, timeout=REFUSED_WITHIN) as http, services.backend.lock:
        response = http.post(CLOSE, json=body)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == 3000, response.json()


def test_an_expired_open_is_refused_by_the_chain_clock_naming_the_deadline_rule(
    services: Services, http, user: User
) -> None:
    now = services.backend.now()
    body = wire.instant_open_to_wire(open_plan(services, user, deadline=now - 1).body)
    response = http.post(OPEN, json=body)
    assert response.status_code == 400, response.text
    assert "deadline.expired" in response.json()["rule_ids"], response.json()
    named = [int(n) for n in re.findall(r"now \((\d+)\)", response.json()["error_detail"])]
    assert named and all(now <= n < now + CLOCK_MARGIN_SECONDS for n in named), (
        f"the refusal names the clock {named}: expected the chain's ({now}), not the early one"
    )


def test_an_open_expiring_within_the_early_clock_margin_is_accepted_at_the_chain_clock(
    services: Services, http, user: User
) -> None:
    deadline = services.backend.now() + CLOCK_MARGIN_SECONDS // 2
    body = wire.instant_open_to_wire(open_plan(services, user, deadline=deadline).body)
    response = http.post(OPEN, json=body)
    assert response.status_code == 200, (
        f"a deadline {CLOCK_MARGIN_SECONDS // 2} s ahead of the chain is valid; the early "
        f"judgment's clock runs ahead, so the worker must judge it again: {response.text}"
    )


def test_an_early_acceptance_does_not_stand_once_the_chain_clock_passed_the_deadline() -> None:
    for services, http in make_services():
        backend = services.backend
        session_user = _onboarded(services)
        body = wire.instant_open_to_wire(
            open_plan(
                services, session_user, deadline=backend.now() + 3 * CLOCK_MARGIN_SECONDS
            ).body
        )
        # the chain moves on without the backend reading its clock (a test, a frontend's node
        # call): the early clock is now behind the chain's
        backend.chain.advance(6 * CLOCK_MARGIN_SECONDS)
        response = http.post(OPEN, json=body)
        assert response.status_code == 400, response.text
        assert "deadline.expired" in response.json()["rule_ids"], response.json()


def _onboarded(services: Services) -> User:
    session = LocalKey.generate()
    return User(session, services.backend.onboard(session.address).sub_account)


def test_an_open_answers_what_the_chain_holds_for_the_quote(
    services: Services, http, solver: SolverClient, user: User
) -> None:
    with http.websocket_connect("/solver/api/ws/notifications") as ws:
        subscribe(ws, user.sub_account)
        accepted = solver.instant_open(open_plan(services, user).body)
        frame = ws.receive_json()["data"]
    status = solver.temp_quote_status(accepted.temp_quote_id)
    quote = services.backend.system.quote(status["quote_id"])
    told = (
        Decimal(status["opened_price"]),
        Decimal(status["quantity"]),
        Decimal(frame["avg_price_open"]),
        Decimal(frame["filled_amount_open"]),
        frame["counterparty_address"],
    )
    held = (
        _amount(quote["openedPrice"]),
        _amount(quote["quantity"]),
        _amount(quote["openedPrice"]),
        _amount(quote["quantity"]),
        quote["partyB"],
    )
    assert told == held, f"the answer says {told}, the chain holds {held}"


def _amount(wei: int) -> Decimal:
    return pricing.from_wei(wei)
