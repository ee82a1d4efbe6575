"""Live-run settings: a named profile of `symmio-harness.toml`, then environment variables.

```toml
[profiles.testnet]
deployment = "arbitrum"            # SYMMIO_DEPLOYMENT: a real deployment of the registry
                                   # (`symmio-harness deployments`); its addresses, services
                                   # and contracts version are the defaults of every key below
rpc_url = "https://..."            # SYMMIO_RPC_URL
chain_id = 999                     # SYMMIO_CHAIN_ID
instant_layer = "0x..."            # SYMMIO_INSTANT_LAYER
account_layer = "0x..."            # SYMMIO_ACCOUNT_LAYER
symmio_core = "0x..."              # SYMMIO_SYMMIO_CORE
collateral = "0x..."               # SYMMIO_COLLATERAL      (stage 2)
hedger = "0x..."                   # SYMMIO_HEDGER          (stage 2: the PartyB to bind to)
affiliate = "0x..."                # SYMMIO_AFFILIATE       (stage 2)
tpsl_bot = "0x..."                 # SYMMIO_TPSL_BOT        (stage 2: the COH's bot, optional)
solver_base = "https://.../solver" # SYMMIO_SOLVER_BASE
tpsl_base = "https://.../coh"      # SYMMIO_TPSL_BASE
price_base = "https://..."         # SYMMIO_PRICE_BASE      (stage 2: the mark-price service)
notifications_url = "wss://..."    # SYMMIO_NOTIFICATIONS_URL (default {solver}/api/ws/...)
app_name = "my-frontend"           # SYMMIO_APP_NAME
retired_instant_layers = []
keystore = "path/to/keystore.json" # SYMMIO_KEYSTORE; password in SYMMIO_KEYSTORE_PASSWORD

[profiles.testnet.trade]           # stage 2 rails
allowed_chain_ids = [999]
max_notional = "25"                # collateral units, per position
gas_budget_wei = "20000000000000000"
```

The user's key comes from `SYMMIO_USER_KEY` (0x-hex) or the keystore; it is only ever held in a
`LocalKey` (repr hides it) and never printed, logged or written. Every problem is one
`SettingsError` line naming the setting and the rule.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from .. import deployments
from ..errors import HarnessError
from ..keys import LocalKey
from ..primitives import eip55
from ..protocol import CURRENT, Protocol

DEFAULT_FILE = "symmio-harness.toml"
#: setting -> environment variable
ENV = {
    "rpc_url": "SYMMIO_RPC_URL",
    "chain_id": "SYMMIO_CHAIN_ID",
    "instant_layer": "SYMMIO_INSTANT_LAYER",
    "account_layer": "SYMMIO_ACCOUNT_LAYER",
    "symmio_core": "SYMMIO_SYMMIO_CORE",
    "collateral": "SYMMIO_COLLATERAL",
    "hedger": "SYMMIO_HEDGER",
    "affiliate": "SYMMIO_AFFILIATE",
    "tpsl_bot": "SYMMIO_TPSL_BOT",
    "solver_base": "SYMMIO_SOLVER_BASE",
    "tpsl_base": "SYMMIO_TPSL_BASE",
    "price_base": "SYMMIO_PRICE_BASE",
    "notifications_url": "SYMMIO_NOTIFICATIONS_URL",
    "app_name": "SYMMIO_APP_NAME",
    "keystore": "SYMMIO_KEYSTORE",
    "deployment": "SYMMIO_DEPLOYMENT",
}
USER_KEY_ENV = "SYMMIO_USER_KEY"
KEYSTORE_PASSWORD_ENV = "SYMMIO_KEYSTORE_PASSWORD"
PROFILE_ENV = "SYMMIO_PROFILE"
CONFIG_ENV = "SYMMIO_CONFIG"
#: what stage 1 cannot do without
STAGE1_REQUIRED = ("rpc_url", "chain_id", "instant_layer", "account_layer", "symmio_core")
#: and stage 2 on top
STAGE2_REQUIRED = ("collateral", "hedger", "affiliate", "solver_base", "tpsl_base", "price_base")
ADDRESS_KEYS = (
    "instant_layer",
    "account_layer",
    "symmio_core",
    "collateral",
    "hedger",
    "affiliate",
)
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_UINT = re.compile(r"[0-9]+")
_DECIMAL = re.compile(r"[0-9]+(\.[0-9]+)?")


class SettingsError(HarnessError):
    """A live setting is missing or unusable (one line: the setting and the rule)."""


@dataclass(frozen=True)
class TradeRails:
    """Stage 2's safety rails."""

    allowed_chain_ids: tuple[int, ...] = ()
    max_notional: Decimal = Decimal(0)
    gas_budget_wei: int = 0


@dataclass(frozen=True)
class Profile:
    name: str
    rpc_url: str | None = None
    chain_id: int | None = None
    instant_layer: str | None = None
    account_layer: str | None = None
    symmio_core: str | None = None
    collateral: str | None = None
    hedger: str | None = None
    affiliate: str | None = None
    tpsl_bot: str | None = None
    solver_base: str | None = None
    tpsl_base: str | None = None
    #: the price service (Enigma's lowcap-price; `price_url` of serve's GET /context): the marks
    price_base: str | None = None
    notifications_url: str | None = None
    app_name: str = "symmio-harness"
    keystore: str | None = None
    retired_instant_layers: tuple[str, ...] = ()
    trade: TradeRails = field(default_factory=TradeRails)
    #: where the user key will come from ("SYMMIO_USER_KEY", "keystore PATH"), never the key
    key_source: str | None = None
    #: the registry deployment the settings default from (`harness.deployments`), if named
    deployment: str | None = None

    @property
    def generation(self) -> type[Protocol]:
        """The contracts generation the profile expects: its deployment's, else v0.8.5."""
        if self.deployment is None:
            return CURRENT
        return deployments.profile(self.deployment).generation

    def missing(self, stage: int = 1) -> list[str]:
        """The environment variables of the settings a stage needs and this profile lacks."""
        needed = STAGE1_REQUIRED + (STAGE2_REQUIRED if stage >= 2 else ())
        gaps = [ENV[k] for k in needed if getattr(self, k) is None]
        if stage >= 2 and self.key_source is None:
            gaps.append(f"{USER_KEY_ENV} (or {ENV['keystore']})")
        return gaps

    def user_key(self, environ: Mapping[str, str] | None = None) -> LocalKey:
        """The user's key, from SYMMIO_USER_KEY or the keystore. Never print it."""
        env = os.environ if environ is None else environ
        raw = env.get(USER_KEY_ENV)
        if raw:
            try:
                return LocalKey(raw.strip())
            except ValueError:
                raise SettingsError(f"{USER_KEY_ENV}: not a 32-byte hex private key") from None
        if self.keystore is None:
            raise SettingsError(f"no user key: set {USER_KEY_ENV} or {ENV['keystore']}")
        password = env.get(KEYSTORE_PASSWORD_ENV)
        if password is None:
            raise SettingsError(f"{KEYSTORE_PASSWORD_ENV}: needed to decrypt {self.keystore}")
        from eth_account import Account

        try:
            text = Path(self.keystore).read_text(encoding="utf-8")
            secret = Account.decrypt(text, password)
        except OSError as exc:
            raise SettingsError(f"keystore {self.keystore}: {exc.strerror or exc}") from None
        except ValueError:
            raise SettingsError(
                f"keystore {self.keystore}: cannot decrypt (wrong password or not a keystore)"
            ) from None
        return LocalKey(bytes(secret))


def _address(value: Any, where: str) -> str:
    if not isinstance(value, str) or not _ADDRESS.fullmatch(value):
        raise SettingsError(f"{where}: expected 0x and 40 hex digits, got {value!r}")
    return eip55(value)


def _uint(value: Any, where: str) -> int:
    if type(value) is int and value >= 0:
        return value
    if isinstance(value, str) and _UINT.fullmatch(value):
        return int(value)
    raise SettingsError(f"{where}: expected a non-negative integer, got {value!r}")


def _decimal(value: Any, where: str) -> Decimal:
    if isinstance(value, str) and _DECIMAL.fullmatch(value):
        try:
            return Decimal(value)
        except InvalidOperation:  # pragma: no cover - the pattern only admits plain decimals
            pass
    raise SettingsError(f'{where}: expected a decimal string like "25" or "0.5", got {value!r}')


def _url(value: Any, where: str, schemes: str = "https?") -> str:
    if not isinstance(value, str) or not re.fullmatch(rf"({schemes})://\S+", value):
        kind = "an http(s)" if schemes == "https?" else "a ws(s)"
        raise SettingsError(f"{where}: expected {kind} URL, got {value!r}")
    return value.rstrip("/")


def _read(setting: str, value: Any, where: str) -> Any:
    if setting == "chain_id":
        return _uint(value, where)
    if setting in ADDRESS_KEYS:
        return _address(value, where)
    if setting in ("rpc_url", "solver_base", "tpsl_base", "price_base"):
        return _url(value, where)
    if setting == "notifications_url":
        return _url(value, where, "wss?")
    if setting == "deployment":
        real = [n for n, p in deployments.REGISTRY.items() if p.chain_id is not None]
        if value not in real:
            raise SettingsError(f"{where}: expected one of {', '.join(real)}, got {value!r}")
        return value
    if not isinstance(value, str) or not value:
        raise SettingsError(f"{where}: expected a non-empty string, got {value!r}")
    return value


def _read_trade(raw: Any, where: str) -> TradeRails:
    if not isinstance(raw, dict):
        raise SettingsError(f"{where}: expected a table")
    unknown = set(raw) - {"allowed_chain_ids", "max_notional", "gas_budget_wei"}
    if unknown:
        raise SettingsError(f"{where}.{sorted(unknown)[0]}: not a trade setting")
    ids = raw.get("allowed_chain_ids", [])
    if not isinstance(ids, list):
        raise SettingsError(f"{where}.allowed_chain_ids: expected a list of chain ids")
    return TradeRails(
        tuple(_uint(i, f"{where}.allowed_chain_ids[{n}]") for n, i in enumerate(ids)),
        _decimal(raw.get("max_notional", "0"), f"{where}.max_notional"),
        _uint(raw.get("gas_budget_wei", 0), f"{where}.gas_budget_wei"),
    )


def load_profile(
    name: str | None = None,
    path: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Profile:
    """The named profile of the config file (default `symmio-harness.toml`, if present), with
    every SYMMIO_* variable of `environ` applied over it. A profile asked for by name (`name` or
    SYMMIO_PROFILE) needs the config file: without one, a SettingsError says where it looked."""
    env = os.environ if environ is None else environ
    named = name or env.get(PROFILE_ENV)  # a profile the user asked for by name
    name = named or "default"
    file = Path(path or env.get(CONFIG_ENV) or DEFAULT_FILE)
    table: dict[str, Any] = {}
    if file.is_file():
        try:
            document = tomllib.loads(file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise SettingsError(f"{file}: cannot read ({exc})") from None
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError(f"{file}: not TOML ({exc})") from None
        profiles = document.get("profiles", {})
        if name in profiles:
            table = profiles[name]
        elif path is not None or name != "default":
            known = ", ".join(sorted(profiles)) or "none"
            raise SettingsError(f"{file}: no profile {name!r} (profiles: {known})")
    elif path is not None:
        raise SettingsError(f"{file}: no such config file")
    elif named:  # a named profile lives in a config file, and there is none
        raise SettingsError(
            f"no config file found for profile {name!r}: looked for {file.resolve()} "
            f"(name the file with the config option or {CONFIG_ENV})"
        )
    if not isinstance(table, dict):
        raise SettingsError(f"{file}: profiles.{name} is not a table")

    values: dict[str, Any] = {}
    for key, raw in table.items():
        where = f"{file}: profiles.{name}.{key}"
        if key in ENV:
            values[key] = _read(key, raw, where)
        elif key == "retired_instant_layers":
            if not isinstance(raw, list):
                raise SettingsError(f"{where}: expected a list of addresses")
            values[key] = tuple(_address(a, f"{where}[{i}]") for i, a in enumerate(raw))
        elif key == "trade":
            values[key] = _read_trade(raw, where)
        else:
            raise SettingsError(f"{where}: not a setting (known: {', '.join(sorted(ENV))})")
    for key, var in ENV.items():
        if env.get(var):
            values[key] = _read(key, env[var], var)
    if values.get("deployment"):
        values = {**registry_defaults(deployments.profile(values["deployment"])), **values}
    if env.get(USER_KEY_ENV):
        values["key_source"] = USER_KEY_ENV
    elif values.get("keystore"):
        values["key_source"] = f"keystore {values['keystore']}"
    return Profile(name=name, **values)


def registry_defaults(real: deployments.Profile) -> dict[str, Any]:
    """The settings a registry deployment gives a live profile (its chain, addresses, solver,
    COH and retired layers); anything the profile or the environment sets wins."""
    values: dict[str, Any] = {"chain_id": real.chain_id, **real.address_settings()}
    if real.solver_url is not None:
        values["solver_base"] = real.solver_url
    if real.coh is not None and real.coh.url is not None:
        values["tpsl_base"] = real.coh.url
        values["app_name"] = real.coh.app_name
    retired = tuple(a.address for a in real.retired)
    if retired:
        values["retired_instant_layers"] = retired
    return values


def profile_from_context(
    context: Mapping[str, Any], name: str = "serve", **overrides: Any
) -> Profile:
    """A profile for a `symmio-harness serve` deployment, from its GET /context answer."""
    keys = ("rpc_url", "chain_id", "instant_layer", "account_layer", "symmio_core")
    values: dict[str, Any] = {k: _read(k, context[k], f"context.{k}") for k in keys if k in context}
    for key in ("collateral", "hedger", "affiliate", "tpsl_bot"):
        if context.get(key):
            values[key] = _address(context[key], f"context.{key}")
    if context.get("price_url"):
        values["price_base"] = _read("price_base", context["price_url"], "context.price_url")
    values.update(overrides)
    return Profile(name=name, **values)
