"""Stage 2's rails, each shown refusing before (more) is spent, and cleanup that always runs;
against `serve --chain anvil` with fresh, funded users whose keys never show."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal

import httpx
import pytest
from web3 import Web3

from harness.keys import LocalKey
from harness.live.config import Profile, TradeRails, profile_from_context
from harness.live.trade import RailRefused, TradeRun
from harness.services.launch import ServeProcess

from ..anvil_needed import needs_anvil
from .test_offline_proof import fund

pytestmark = [pytest.mark.anvil, pytest.mark.server, pytest.mark.subprocess, needs_anvil]

RAILS = TradeRails(allowed_chain_ids=(31337,), max_notional=Decimal(1000), gas_budget_wei=10**17)


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[ServeProcess, dict]]:
    with ServeProcess(120, args=("--chain", "anvil", "--quiet")) as serve:
        yield serve, httpx.get(f"{serve.base}/context", timeout=10).json()


def profile(served, **changes) -> Profile:
    serve, ctx = served
    base = profile_from_context(
        ctx,
        solver_base=f"{serve.base}/solver",
        tpsl_base=f"{serve.base}/coh",
        trade=RAILS,
        key_source="test",
    )
    return replace(base, **changes)


def funded_user(served, collateral_units: int = 200 * 10**6) -> LocalKey:
    _, ctx = served
    user = LocalKey.generate()
    fund(ctx["rpc_url"], ctx["test_accounts"][0], user.address, ctx["collateral"], collateral_units)
    return user


def nonce(served, user: LocalKey) -> int:
    return Web3(Web3.HTTPProvider(served[1]["rpc_url"])).eth.get_transaction_count(user.address)


def run(served, user: LocalKey, **changes):
    lines: list[str] = []
    return TradeRun(profile(served, **changes), user, out=lines.append, timeout=30), lines


def test_a_chain_id_outside_the_allowlist_trades_nothing(served) -> None:
    user = funded_user(served)
    trade, _ = run(served, user, trade=replace(RAILS, allowed_chain_ids=()))
    with pytest.raises(RailRefused, match=r"chain id 31337 is not in trade.allowed_chain_ids"):
        trade.run()
    assert nonce(served, user) == 0


def test_a_notional_above_the_maximum_trades_nothing(served) -> None:
    user = funded_user(served)
    trade, _ = run(served, user, trade=replace(RAILS, max_notional=Decimal(1)))
    with pytest.raises(RailRefused, match=r"above trade.max_notional 1"):
        trade.run()
    assert nonce(served, user) == 0


def test_the_dry_run_stops_a_user_who_cannot_cover_the_deposit(served) -> None:
    user = funded_user(served, collateral_units=1)
    trade, lines = run(served, user)
    with pytest.raises(RailRefused, match=r"the user holds 0.000001 collateral, the run needs"):
        trade.run()
    assert lines[0].startswith("dry run (nothing spent yet): user ")
    assert nonce(served, user) == 0


def test_the_gas_budget_stops_the_run_and_cleanup_still_runs(served) -> None:
    user = funded_user(served)
    trade, lines = run(served, user, trade=replace(RAILS, gas_budget_wei=1))
    with pytest.raises(RailRefused, match=r"passed the budget"):
        trade.run()
    assert len(trade.ledger.transactions) == 1  # createSubAccounts, then nothing more is sent
    assert any(line.startswith("spend ledger:") for line in lines)


def test_a_failed_open_still_revokes_the_test_delegations(served) -> None:
    serve, _ = served
    user = funded_user(served)
    httpx.post(
        f"{serve.base}/mock/faults",
        json={"route": "instant_open", "fault": "unavailable", "count": 10},
        timeout=10,
    ).raise_for_status()
    trade, _ = run(served, user)
    try:
        with pytest.raises(Exception, match="503"):
            trade.run()
    finally:
        httpx.delete(f"{serve.base}/mock/faults", timeout=10)
    assert trade.report.quote_id is None
    revoked = [c for c in trade.report.cleanup if c.startswith("initiate revocation of")]
    assert len(revoked) == 2 and all(c.endswith(": done") for c in revoked), trade.report.cleanup


def test_a_whole_run_closes_cancels_and_revokes(served) -> None:
    user = funded_user(served)
    trade, lines = run(served, user)
    report = trade.run()
    assert report.closed and report.quote_id is not None
    assert [c.split(":")[0].split(" of ")[0] for c in report.cleanup] == [
        "cancel the TP/SL order",
        "initiate revocation",  # the session key's delegation
        "initiate revocation",  # the TP/SL bot's
    ]
    assert all(c.endswith(": done") for c in report.cleanup)
    assert report.ledger.gas_wei == sum(s.wei for s in report.ledger.transactions) > 0
    assert user.export_private_key()[2:] not in "\n".join(lines).lower()
