"""The live smoke run itself: against the deployment the profile names (skipped unless
`--live` and a complete profile; stage 2 also needs `--live-trade`)."""

from __future__ import annotations

import pytest

from harness.live.config import Profile
from harness.live.readonly import FAIL, ReadOnlyRun


@pytest.mark.live
def test_stage_1_read_only_checks_pass(live_profile: Profile) -> None:
    checks = ReadOnlyRun(live_profile).run()
    failed = [f"{c.id}: {c.detail}" for c in checks if c.status == FAIL]
    assert failed == [], "read-only checks failed:\n" + "\n".join(failed)
