"""The live smoke run itself: against the deployment the profile names (skipped unless
`--live` and a complete profile; stage 2 also needs `--live-trade`)."""

from __future__ import annotations

import pytest

from harness.live.config import Profile
from harness.live.readonly import FAIL, ReadOnlyRun
from harness.live.trade import TradeRun


@pytest.mark.live
def test_stage_1_read_only_checks_pass(live_profile: Profile) -> None:
    checks = ReadOnlyRun(live_profile).run()
    failed = [f"{c.id}: {c.detail}" for c in checks if c.status == FAIL]
    assert failed == [], "read-only checks failed:\n" + "\n".join(failed)


@pytest.mark.live(trade=True)
def test_stage_2_trades_the_smallest_position_on_rails_and_cleans_up(
    live_profile: Profile,
) -> None:
    report = TradeRun(live_profile, live_profile.user_key()).run()
    assert report.closed, report.steps
    failed = [c for c in report.cleanup if "FAILED" in c]
    assert failed == [], "cleanup failed:\n" + "\n".join(failed)
    assert report.ledger.gas_wei <= live_profile.trade.gas_budget_wei
