"""Shared fixtures of the validator tests: the generated corpus module and a validating helper."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "subprocess: starts a child process (the CLI, or --jobs worker processes)"
    )
    config.addinivalue_line("markers", "slow: takes more than a second")
