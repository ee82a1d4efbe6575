"""Live profiles: the TOML file, SYMMIO_* variables over it, and errors that name the setting."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from eth_account import Account

from harness import deployments
from harness.keys import LocalKey
from harness.live.config import SettingsError, load_profile, profile_from_context
from harness.protocol import V0_8_6

ADDR = "0x" + "ab" * 20
KEY = LocalKey(b"\x07" * 32)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "symmio-harness.toml"
    path.write_text(text)
    return path


def test_a_profile_reads_the_file_and_the_environment_wins(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        f"""
[profiles.testnet]
rpc_url = "http://127.0.0.1:8545"
chain_id = 999
instant_layer = "{ADDR}"
account_layer = "{ADDR}"
symmio_core = "{ADDR}"
retired_instant_layers = ["{ADDR}"]
[profiles.testnet.trade]
allowed_chain_ids = [999]
max_notional = "25"
gas_budget_wei = "1000"
""",
    )
    env = {"SYMMIO_CHAIN_ID": "31337", "SYMMIO_APP_NAME": "mine"}
    p = load_profile("testnet", path, env)
    assert (p.chain_id, p.app_name, p.rpc_url) == (31337, "mine", "http://127.0.0.1:8545")
    assert p.instant_layer == "0xABaBaBaBABabABabAbAbABAbABabababaBaBABaB"
    assert p.trade.max_notional == Decimal(25) and p.trade.allowed_chain_ids == (999,)
    assert p.missing(1) == []
    assert "SYMMIO_COLLATERAL" in p.missing(2) and p.key_source is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[profiles.default]\nchain_id = "x"',
            "profiles.default.chain_id: expected a non-negative integer",
        ),
        (
            '[profiles.default]\ninstant_layer = "0x12"',
            "profiles.default.instant_layer: expected 0x and 40 hex",
        ),
        (
            '[profiles.default]\nrpc_url = "ftp://x"',
            "profiles.default.rpc_url: expected an http(s) URL",
        ),
        ('[profiles.default]\ncolour = "red"', "profiles.default.colour: not a setting"),
        (
            '[profiles.default.trade]\nmax_notional = "1e3"',
            "trade.max_notional: expected a decimal string",
        ),
        ("[profiles.default", "not TOML"),
    ],
)
def test_a_bad_setting_is_one_line_naming_it(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_profile(None, write(tmp_path, text), {})
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_an_unknown_profile_lists_the_known_ones(tmp_path: Path) -> None:
    path = write(tmp_path, "[profiles.a]\n[profiles.b]\n")
    with pytest.raises(SettingsError, match=r"no profile 'c' \(profiles: a, b\)"):
        load_profile("c", path, {})


def test_a_bad_environment_value_names_the_variable() -> None:
    with pytest.raises(SettingsError, match="^SYMMIO_SYMMIO_CORE: expected 0x and 40 hex"):
        load_profile(None, None, {"SYMMIO_SYMMIO_CORE": "nope"})


def test_the_user_key_comes_from_the_environment_and_stays_hidden() -> None:
    env = {"SYMMIO_USER_KEY": KEY.export_private_key()}
    profile = load_profile(None, None, env)
    assert profile.key_source == "SYMMIO_USER_KEY"
    key = profile.user_key(env)
    assert key.address == KEY.address
    assert KEY.export_private_key()[2:] not in repr(profile) + repr(key)


def test_the_user_key_comes_from_an_encrypted_keystore(tmp_path: Path) -> None:
    store = tmp_path / "key.json"
    store.write_text(json.dumps(Account.encrypt(KEY.export_private_key(), "pw", iterations=2)))
    profile = load_profile(None, None, {"SYMMIO_KEYSTORE": str(store)})
    assert profile.user_key({"SYMMIO_KEYSTORE_PASSWORD": "pw"}).address == KEY.address
    with pytest.raises(SettingsError, match="cannot decrypt"):
        profile.user_key({"SYMMIO_KEYSTORE_PASSWORD": "wrong"})
    with pytest.raises(SettingsError, match="SYMMIO_KEYSTORE_PASSWORD: needed"):
        profile.user_key({})


def test_a_profile_from_a_serve_context() -> None:
    context = {
        "chain_id": 31337,
        "instant_layer": ADDR,
        "account_layer": ADDR,
        "symmio_core": ADDR,
        "rpc_url": "http://127.0.0.1:8545",
        "collateral": ADDR,
        "hedger": ADDR,
    }
    p = profile_from_context(context, solver_base="http://127.0.0.1:1/solver")
    assert p.missing(1) == [] and p.solver_base == "http://127.0.0.1:1/solver"


def test_the_notifications_url_is_a_websocket_url() -> None:
    p = load_profile(None, None, {"SYMMIO_NOTIFICATIONS_URL": "wss://solver.example/ws"})
    assert p.notifications_url == "wss://solver.example/ws"
    with pytest.raises(SettingsError, match="^SYMMIO_NOTIFICATIONS_URL: expected a ws"):
        load_profile(None, None, {"SYMMIO_NOTIFICATIONS_URL": "https://solver.example/ws"})


def test_a_serve_context_gives_the_price_service_for_stage_2() -> None:
    context = {"chain_id": 31337, "price_url": "http://127.0.0.1:1/prices"}
    assert profile_from_context(context).price_base == "http://127.0.0.1:1/prices"
    assert "SYMMIO_PRICE_BASE" in profile_from_context({"chain_id": 31337}).missing(2)


def test_the_price_base_must_be_an_http_url() -> None:
    with pytest.raises(SettingsError, match="^SYMMIO_PRICE_BASE: expected an http"):
        load_profile(None, None, {"SYMMIO_PRICE_BASE": "wss://prices.example/ws"})


def test_a_named_deployment_defaults_every_address_from_the_registry(tmp_path: Path) -> None:
    path = write(tmp_path, '[profiles.arb]\ndeployment = "arbitrum"\n')
    p = load_profile("arb", path, {})
    real = deployments.ARBITRUM
    assert (p.chain_id, p.instant_layer, p.hedger) == (
        42161,
        real.instant_layer,
        real.address("party_b"),
    )
    assert p.tpsl_base == real.coh.url and p.app_name == real.coh.app_name  # type: ignore[union-attr]
    assert p.retired_instant_layers == tuple(a.address for a in real.retired)
    assert p.generation is V0_8_6


def test_a_setting_given_beside_a_deployment_wins_over_the_registry(tmp_path: Path) -> None:
    path = write(tmp_path, '[profiles.arb]\ndeployment = "arbitrum"\nchain_id = 31337\n')
    p = load_profile("arb", path, {"SYMMIO_SOLVER_BASE": "http://127.0.0.1:9/solver"})
    assert (p.chain_id, p.solver_base) == (31337, "http://127.0.0.1:9/solver")


def test_an_unknown_or_local_deployment_is_refused_by_name() -> None:
    for name in ("optimism", "local"):
        with pytest.raises(SettingsError, match="SYMMIO_DEPLOYMENT: expected one of arbitrum"):
            load_profile(None, None, {"SYMMIO_DEPLOYMENT": name})
