"""Fixtures for the on-chain tests: one embedded chain per test process, states kept as snapshots.

Three session-scoped states are built once per process (so pytest-xdist workers never share a
chain) and restored before every test that asks for them, whatever the previous test did:

- `deployed`: the system deployed and wired, the user's, session key's and a stranger's keys
  able to send, nothing else;
- `onboarded`: steps 1-5 done (sub-account, 1,000 mUSDC deposited, bound to the PartyB, the
  session key's and the TP/SL bot's delegations);
- `opened`: plus one instant open (quote 1 OPENED on the sub-account's first VA).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest

from harness.chain import Chain, System, deploy_system
from harness.context import Symbol
from harness.protocol import V0_8_6

from .scenario import DEPOSIT_UNITS, FILL_PRICE, Scenario, key_for


def _deployed_with(chain: Chain | None = None, **deploy: Any) -> Scenario:
    """A fresh chain (or `chain`, fresh) with the mocks deployed (`deploy`: deploy_system's
    options) and the scenario's keys funded, snapshotted."""
    chain = chain if chain is not None else Chain()
    hedger = key_for("hedger")
    system = deploy_system(chain, hedger=hedger, **deploy)
    user, session, stranger = key_for("user"), key_for("session"), key_for("stranger")
    for key in (user, session, stranger):
        chain.add_key(key)
    return Scenario(system, user, session, key_for("tpsl bot"), hedger, stranger, chain.snapshot())


def _onboarded_from(deployed: Scenario, owner: Any) -> Scenario:
    """Steps 1-5 for the scenario's user (`owner`: its address, or its key where the
    generation grants by operation), snapshotted."""
    base = deployed.restore()
    expiry = base.chain.now() + 30 * 24 * 3600
    onboarded = base.system.onboard(
        owner,
        base.session.address,
        base.bot.address,
        deposit_units=DEPOSIT_UNITS,
        expiry=expiry,
    )
    return replace(
        base, sub_account=onboarded.sub_account, expiry=expiry, snapshot=base.chain.snapshot()
    )


@pytest.fixture(scope="session")
def _deployed_state() -> Scenario:
    return _deployed_with()


@pytest.fixture(scope="session")
def _onboarded_state(_deployed_state: Scenario) -> Scenario:
    return _onboarded_from(_deployed_state, _deployed_state.user.address)


def _opened_from(onboarded: Scenario) -> Scenario:
    """The onboarded scenario with one position opened (FILL_PRICE), snapshotted."""
    base = onboarded.restore()
    opened = base.system.instant_open(base.open_plan().body, opened_price=FILL_PRICE)
    return replace(
        base,
        virtual_account=opened.virtual_account,
        quote_id=opened.quote_id,
        snapshot=base.chain.snapshot(),
    )


@pytest.fixture(scope="session")
def _opened_state(_onboarded_state: Scenario) -> Scenario:
    return _opened_from(_onboarded_state)


@pytest.fixture
def deployed(_deployed_state: Scenario) -> Iterator[Scenario]:
    yield _deployed_state.restore()


@pytest.fixture
def onboarded(_onboarded_state: Scenario) -> Iterator[Scenario]:
    yield _onboarded_state.restore()


@pytest.fixture
def opened(_opened_state: Scenario) -> Iterator[Scenario]:
    yield _opened_state.restore()


@pytest.fixture(scope="session")
def read_only_system(_deployed_state: Scenario) -> System:
    """For view-only checks (hashing): no snapshot restore, the contracts' code never changes."""
    return _deployed_state.system


# --- v0.8.6: the same states on the v0.8.6 mocks (onboarded with a grant operation relayed by
# the GaslessLayer, opened with the capped sendQuote). The symbol serves fee-cap minimums.

SYMBOL_086 = Symbol(1, "BTCUSDT", 1, 3, Decimal("0.0006"), Decimal("0.0004"))


@pytest.fixture(scope="session")
def _deployed086_state() -> Scenario:
    return _deployed_with(generation=V0_8_6, symbols=(SYMBOL_086,))


@pytest.fixture(scope="session")
def _onboarded086_state(_deployed086_state: Scenario) -> Scenario:
    return _onboarded_from(_deployed086_state, _deployed086_state.user)


@pytest.fixture(scope="session")
def _opened086_state(_onboarded086_state: Scenario) -> Scenario:
    return _opened_from(_onboarded086_state)


@pytest.fixture
def deployed086(_deployed086_state: Scenario) -> Iterator[Scenario]:
    yield _deployed086_state.restore()


@pytest.fixture
def onboarded086(_onboarded086_state: Scenario) -> Iterator[Scenario]:
    yield _onboarded086_state.restore()


@pytest.fixture
def opened086(_opened086_state: Scenario) -> Iterator[Scenario]:
    yield _opened086_state.restore()
