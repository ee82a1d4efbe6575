"""The packaged fixtures, tested as a team would use them: a separate project (pytester) whose
tests use symmio_chain, symmio_user, symmio_services, mock_solver and mock_coh (on the local,
Arbitrum and Base profiles), under
--strict-markers, with the mock solver's base URL configured in its ini file."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

PROJECT = Path(__file__).parent / "plugin_project" / "user_project_tests.py"


@pytest.mark.subprocess
@pytest.mark.slow
def test_a_separate_project_uses_the_packaged_fixtures(pytester: pytest.Pytester) -> None:
    pytester.makeini(
        """
        [pytest]
        addopts = --strict-markers
        symmio_mock_solver_url = https://solver.team.test
        """
    )
    pytester.makepyfile(test_user_project=PROJECT.read_text())
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", "-rs", timeout=300)
    result.assert_outcomes(passed=12, skipped=1)
    result.stdout.fnmatch_lines(["*live test: run with --live; missing settings: SYMMIO_RPC_URL*"])
