"""`symmio-harness live check` and `pytest --live` end to end: settings errors, an unreachable
node, our system deployed on anvil (all pass), a bare anvil (every contract check fails), and the
user key never shown."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from web3 import Web3

from harness.anvil import Anvil
from harness.chain import Chain, deploy_system
from harness.keys import LocalKey

from ..anvil_needed import NO_ANVIL, needs_anvil

pytest_plugins = ["pytester"]

USER_KEY = LocalKey(b"\x42" * 32)
HEX_KEY = USER_KEY.export_private_key()[2:]


def cli(env: dict[str, str], *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SYMMIO_")}
    return subprocess.run(
        [str(Path(sys.executable).with_name("symmio-harness")), "live", "check", *args],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
    )


@pytest.fixture(scope="module")
def anvil_system() -> Iterator[tuple[Anvil, dict[str, str]]]:
    if NO_ANVIL:
        pytest.skip(NO_ANVIL)
    with Anvil() as node:
        system = deploy_system(Chain(Web3(Web3.HTTPProvider(node.rpc_url))))
        env = {
            "SYMMIO_RPC_URL": node.rpc_url,
            "SYMMIO_CHAIN_ID": str(node.chain_id),
            "SYMMIO_INSTANT_LAYER": system.instant_layer.address,
            "SYMMIO_ACCOUNT_LAYER": system.account_layer.address,
            "SYMMIO_SYMMIO_CORE": system.core.address,
            "SYMMIO_USER_KEY": USER_KEY.export_private_key(),
        }
        yield node, env


pytestmark = pytest.mark.subprocess


def test_missing_settings_exit_2_naming_them() -> None:
    done = cli({})
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "live check: profile 'default' lacks SYMMIO_RPC_URL, SYMMIO_CHAIN_ID, "
        "SYMMIO_INSTANT_LAYER, SYMMIO_ACCOUNT_LAYER, SYMMIO_SYMMIO_CORE"
    )


@pytest.mark.anvil
@needs_anvil
def test_live_check_passes_against_our_system_on_anvil(anvil_system, tmp_path: Path) -> None:
    _node, env = anvil_system
    done = cli(env, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "16 passed, 0 failed, 4 skipped" in done.stdout
    as_json = cli(env, "--format", "json", cwd=tmp_path)
    report = json.loads(as_json.stdout)
    assert {c["status"] for c in report["checks"]} == {"pass", "skip"}
    for text in (done.stdout, done.stderr, as_json.stdout, as_json.stderr):
        assert HEX_KEY not in text.lower()
    assert list(tmp_path.iterdir()) == []  # nothing written


@pytest.mark.anvil
@needs_anvil
def test_live_check_exits_1_against_a_bare_anvil(anvil_system) -> None:
    _node, env = anvil_system
    nobody = "0x" + "cd" * 20
    bare = {**env, "SYMMIO_INSTANT_LAYER": nobody, "SYMMIO_SYMMIO_CORE": nobody}
    done = cli(bare)
    assert done.returncode == 1
    assert "no code at 0xCdCDCdCdcdcdcdCdcDcDCdcDcDCdCdcdCdcDCDcD" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr


@pytest.mark.anvil
@needs_anvil
def test_pytest_live_runs_the_smoke_test_and_skips_without_the_flag(
    anvil_system, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    _node, env = anvil_system
    smoke = Path(__file__).with_name("test_smoke.py").read_text()
    pytester.makepyfile(test_user_smoke=smoke)
    for key in [k for k in os.environ if k.startswith("SYMMIO_")]:
        monkeypatch.delenv(key)
    skipped = pytester.runpytest_subprocess("-rs", "-p", "no:cacheprovider")
    skipped.assert_outcomes(skipped=2)
    skipped.stdout.fnmatch_lines(["*run with --live; missing settings: SYMMIO_RPC_URL*"])
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    passed = pytester.runpytest_subprocess("--live", "-p", "no:cacheprovider", "-rs")
    passed.assert_outcomes(passed=1, skipped=1)  # stage 2 spends funds: only with --live-trade
    passed.stdout.fnmatch_lines(["*live test that spends funds: run with --live-trade*"])
    assert HEX_KEY not in passed.stdout.str().lower()
