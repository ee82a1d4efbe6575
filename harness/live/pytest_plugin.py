"""pytest plugin for live smoke runs: the `live` marker, `--live`, `--live-trade`, the profile.

`@pytest.mark.live` tests are skipped unless `--live` is given and the profile has what stage 1
needs; the skip reason names the missing settings. `@pytest.mark.live(trade=True)` tests spend
funds and also need `--live-trade` (and stage 2's settings). The `live_profile` fixture is the
profile (`--live-profile NAME`, `--live-config FILE`, else SYMMIO_PROFILE / SYMMIO_CONFIG, else
`default` of ./symmio-harness.toml), with the SYMMIO_* variables applied.
"""

from __future__ import annotations

import pytest

from .config import Profile, SettingsError, load_profile

MARKER = (
    "live(trade=False): a live smoke test against the configured deployment; skipped unless "
    "--live (and, with trade=True, --live-trade) is given and the profile is complete"
)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("symmio-live", "symmio-harness live smoke runs")
    group.addoption("--live", action="store_true", help="Run @pytest.mark.live tests.")
    group.addoption(
        "--live-trade",
        action="store_true",
        help="Also run the live tests that spend funds (implies --live).",
    )
    group.addoption("--live-profile", metavar="NAME", help="Profile of the live config file.")
    group.addoption("--live-config", metavar="FILE", help="Live config file (TOML).")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER)


def _profile(config: pytest.Config) -> Profile:
    return load_profile(config.getoption("--live-profile"), config.getoption("--live-config"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    live_items = [i for i in items if i.get_closest_marker("live") is not None]
    if not live_items:
        return
    trade_allowed = config.getoption("--live-trade")
    run_live = config.getoption("--live") or trade_allowed
    try:
        profile: Profile | None = _profile(config)
        problem = ""
    except SettingsError as exc:
        profile, problem = None, str(exc)
    for item in live_items:
        marker = item.get_closest_marker("live")
        trade = bool(marker.kwargs.get("trade", False)) if marker else False
        stage = 2 if trade else 1
        missing = profile.missing(stage) if profile is not None else []
        settings = problem or (f"missing settings: {', '.join(missing)}" if missing else "")
        if not run_live:
            flag = "--live-trade" if trade else "--live"
            reason = f"live test: run with {flag}" + (f"; {settings}" if settings else "")
        elif trade and not trade_allowed:
            reason = "live test that spends funds: run with --live-trade"
        elif settings:
            reason = f"live test: {settings}"
        else:
            continue
        item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def live_profile(pytestconfig: pytest.Config) -> Profile:
    """The live settings: the --live-profile of --live-config, then the SYMMIO_* variables.

    A test using it is skipped, saying why, when they are unusable."""
    try:
        return _profile(pytestconfig)
    except SettingsError as exc:
        pytest.skip(f"live settings: {exc}")
