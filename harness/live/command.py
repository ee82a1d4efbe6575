"""`symmio-harness live check`: stage 1 from the command line.

Exit 0: every check passed (skips allowed); 1: a check failed; 2: the settings are unusable or
an endpoint did not answer (one line saying which).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TextIO

from .config import SettingsError, load_profile
from .readonly import FAIL, PASS, Check, ReadOnlyRun, Unreachable

MARK = {PASS: "ok", FAIL: "FAIL", "skip": "skip"}


def table(checks: list[Check]) -> str:
    width = max(len(c.id) for c in checks)
    lines = [f"{MARK[c.status]:<4}  {c.id:<{width}}  {c.detail}" for c in checks]
    passed = sum(c.status == PASS for c in checks)
    failed = sum(c.status == FAIL for c in checks)
    skipped = len(checks) - passed - failed
    lines.append(f"{passed} passed, {failed} failed, {skipped} skipped")
    return "\n".join(lines) + "\n"


def check_command(
    profile_name: str | None,
    config: Path | None,
    fmt: str,
    out: TextIO,
    err: TextIO,
) -> int:
    try:
        profile = load_profile(profile_name, config)
        missing = profile.missing(stage=1)
        if missing:
            raise SettingsError(f"profile {profile.name!r} lacks {', '.join(missing)}")
        checks = ReadOnlyRun(profile).run()
    except (SettingsError, Unreachable) as exc:
        err.write(f"live check: {exc}\n")
        return 2
    if fmt == "json":
        report = {"profile": profile.name, "checks": [c.to_json() for c in checks]}
        out.write(json.dumps(report, indent=2) + "\n")
    else:
        out.write(f"live check, profile {profile.name!r}, {profile.rpc_url}\n")
        out.write(table(checks))
    return 1 if any(c.status == FAIL for c in checks) else 0
