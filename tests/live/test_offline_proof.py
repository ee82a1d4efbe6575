"""The offline proof of the live smoke run: both stages, through `pytest --live --live-trade`
as a user runs them, against `serve --chain anvil` (a profile built from its /context), with a
fresh user key that never shows up in any output or file."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from web3 import Web3

from harness.keys import LocalKey
from harness.live.config import ENV, USER_KEY_ENV
from harness.services.launch import ServeProcess

from ..anvil_needed import needs_anvil

pytest_plugins = ["pytester"]
SMOKE = Path(__file__).with_name("test_smoke.py")
ERC20_TRANSFER = bytes.fromhex("a9059cbb")


def fund(rpc_url: str, donor: str, to: str, token: str, units: int) -> None:
    """ETH and test collateral from one of anvil's unlocked dev accounts."""
    w3 = Web3(Web3.HTTPProvider(rpc_url))
    w3.eth.wait_for_transaction_receipt(
        w3.eth.send_transaction({"from": donor, "to": to, "value": 10**18, "gas": 21_000})
    )
    data = ERC20_TRANSFER + bytes(12) + bytes.fromhex(to[2:]) + units.to_bytes(32, "big")
    tx = {"from": donor, "to": token, "data": data, "gas": 100_000}
    assert w3.eth.wait_for_transaction_receipt(w3.eth.send_transaction(tx)).status == 1


@pytest.mark.anvil
@pytest.mark.server
@pytest.mark.subprocess
@pytest.mark.slow
@needs_anvil
def test_both_stages_pass_against_serve_chain_anvil(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = LocalKey.generate()
    secret = user.export_private_key()[2:]
    with ServeProcess(120, args=("--chain", "anvil", "--quiet")) as serve:
        ctx = httpx.get(f"{serve.base}/context", timeout=10).json()
        fund(ctx["rpc_url"], ctx["test_accounts"][-1], user.address, ctx["collateral"], 500 * 10**6)
        from_context = (
            "rpc_url", "chain_id", "instant_layer", "account_layer", "symmio_core",
            "collateral", "hedger", "affiliate", "tpsl_bot",
        )  # fmt: skip
        env = {ENV[key]: str(ctx[key]) for key in from_context}
        env[ENV["solver_base"]] = f"{serve.base}/solver"
        env[ENV["tpsl_base"]] = f"{serve.base}/coh"
        env[ENV["price_base"]] = ctx["price_url"]
        env[USER_KEY_ENV] = user.export_private_key()
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        pytester.makefile(
            ".toml",
            **{
                "symmio-harness": """
[profiles.default.trade]
allowed_chain_ids = [31337]
max_notional = "1000"
gas_budget_wei = "100000000000000000"
"""
            },
        )
        pytester.makepyfile(test_user_smoke=SMOKE.read_text())
        result = pytester.runpytest_subprocess(
            "--live", "--live-trade", "-p", "no:cacheprovider", "-s"
        )
    result.assert_outcomes(passed=2)
    output = result.stdout.str() + result.stderr.str()
    assert "dry run (nothing spent yet)" in output and "spend ledger:" in output
    assert "cleanup: initiate revocation of" in output
    assert secret not in output.lower()
    for path in Path(pytester.path).rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes().lower(), f"the key is in {path}"
