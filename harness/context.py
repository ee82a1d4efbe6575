"""The context file: where the contracts are and what the frontend's user set up.

A JSON object with `chain_id`, `instant_layer`, `account_layer`, `symmio_core` and, optionally,
`hedger`, `affiliate`, `sub_account`, `virtual_account`, `session_key` (an address), `symbols`
(`[{id, name, price_precision, quantity_precision}]`) and `conditional_order_domain`
(`{name, version, chain_id?, verifying_contract?}`), `retired_instant_layers` (addresses),
`gasless_gateway` (an address) and `recorded_at` (the unix time a capture was recorded, the
clock `validate` judges it by unless `--now`); `symmio-harness serve` also gives `rpc_url`
(its JSON-RPC URL), `collateral` and `tpsl_bot` (addresses), `test_accounts` (the funded
addresses), `price_url` (the price service's base URL, under which `/api/v1/price` and
`/api/v1/prices/{names}` answer) and `price_ws_url` (its mark-price websocket). The TP/SL
rules that judge an order against the market read `mark_prices`
(`{"<symbol id>": "<mark>"}`), `coh_limits` (the four limits the COH serves at
`/api/v5/configs/`, under their served names) and `open_quantities` (`{"<quote id>":
"<open quantity>"}`, chain state: the mock COH passes it live). `demo --record` writes it; the
validator reads it, and each optional key switches on the rules that need it, even when it says
"none": `retired_instant_layers: []` (nothing retired) and `gasless_gateway` the zero address
(the deployment has no GaslessGateway) let those rules run, and find nothing to name.

v0.8.6 (real-world.md §2): `contracts_version` ("0.8.5" or "0.8.6"; absent means v0.8.5) says
which generation the bodies are judged as; each symbol may carry `min_open_solver_fee_cap` and
`min_close_solver_fee_cap` (decimal strings, as the solver's `contract-symbols` serves them);
`owner` is the account owner who signs grant operations and `gasless_layer` the GaslessLayer
that relays them.

Deployment profiles (issue 18): `serve` on a profile other than the local default names it
in `deployment` (and its `contracts_version`):
`{name, solver: {kind, url}, notifications: {protocol, url}, prices: {kind}, coh: {url} | null}`
(`harness.deployments`' kinds; URLs under the host the client reached; `coh` null where the
deployment has no COH); the price service's URLs stay `price_url` / `price_ws_url`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from . import deployments
from .deployments import Notifications, PriceFeed, SolverKind
from .eip712 import default_conditional_order_domain
from .errors import ContextError
from .model import Domain
from .protocol import BY_VERSION, CURRENT, Protocol, generation
from .wire import Reader

REQUIRED_KEYS = ("chain_id", "instant_layer", "account_layer", "symmio_core")
OPTIONAL_KEYS = (
    "hedger",
    "affiliate",
    "sub_account",
    "virtual_account",
    "session_key",
    "symbols",
    "conditional_order_domain",
    "retired_instant_layers",
    "gasless_gateway",
    "recorded_at",
    "rpc_url",
    "collateral",
    "tpsl_bot",
    "test_accounts",
    "price_url",
    "price_ws_url",
    "mark_prices",
    "coh_limits",
    "open_quantities",
    "contracts_version",
    "owner",
    "gasless_layer",
    "deployment",
    "gasless_url",
)
#: the URL keys and the schemes each accepts (read and written the same way)
URL_KEYS: dict[str, tuple[str, ...]] = {
    "rpc_url": ("http://", "https://"),
    "price_url": ("http://", "https://"),
    "price_ws_url": ("ws://", "wss://"),
    "gasless_url": ("http://", "https://"),
}
#: the optional keys holding one address each (read and written the same way)
ADDRESS_KEYS = (
    "hedger",
    "affiliate",
    "sub_account",
    "virtual_account",
    "session_key",
    "gasless_gateway",
    "collateral",
    "tpsl_bot",
    "owner",
    "gasless_layer",
)
#: per-symbol keys a context may add to {id, name, price_precision, quantity_precision}: the
#: v0.8.6 fee-cap minimums, as `contract-symbols` serves them (decimal strings, default "0")
SYMBOL_FEE_CAP_KEYS = ("min_open_solver_fee_cap", "min_close_solver_fee_cap")
MAX_CONTEXT_BYTES = 1 << 20


@dataclass(frozen=True, slots=True)
class Symbol:
    id: int
    name: str
    price_precision: int
    quantity_precision: int
    #: v0.8.6: the least SolverFeeCaps a quote on this symbol must allow (18-decimal ratios as
    #: decimals, e.g. 0.0006); "0" (no minimum) when the solver serves none (real-world.md §2.2)
    min_open_solver_fee_cap: Decimal = Decimal(0)
    min_close_solver_fee_cap: Decimal = Decimal(0)


#: The limits the COH serves at `GET /api/v5/configs/` (spec §4 "COH"), by their served names.
COH_LIMIT_NAMES = (
    "MaxRequestTimeDeltaSeconds",
    "MinPriceDistancePercent",
    "MinProfitStopLossSpreadPercent",
    "MaxActiveOrdersPerUser",
)


@dataclass(frozen=True, slots=True)
class CohLimits:
    """The four COH limits (`ConfigResponseSchema` of the COH's OpenAPI: every value a number).
    Percentages are percent (0.1 = 0.1 %), as the SDK's `validateTpSl` reads them."""

    max_request_time_delta_seconds: int
    min_price_distance_percent: Decimal
    min_profit_stop_loss_spread_percent: Decimal
    max_active_orders_per_user: int

    def served(self) -> dict[str, int | Decimal]:
        """The limits under their served names."""
        return dict(
            zip(
                COH_LIMIT_NAMES,
                (
                    self.max_request_time_delta_seconds,
                    self.min_price_distance_percent,
                    self.min_profit_stop_loss_spread_percent,
                    self.max_active_orders_per_user,
                ),
                strict=True,
            )
        )

    def to_json(self) -> dict[str, Any]:
        """Whole numbers as JSON numbers, percentages as decimal strings (never a float)."""
        return {
            name: value if isinstance(value, int) else format(value, "f")
            for name, value in self.served().items()
        }

    @classmethod
    def from_served(cls, served: dict[str, Any]) -> CohLimits:
        """From `/configs/` values (numbers, or decimal strings); ContextError if unusable."""
        r = Reader()
        limits = _read_coh_limits(r, served, "coh_limits")
        if limits is None or r.problems:
            raise ContextError(r.problems)
        return limits


@dataclass(frozen=True, slots=True)
class ConditionalOrderDomainConfig:
    """The TP/SL domain as configured; missing chain_id / verifying_contract take the defaults."""

    name: str
    version: str
    chain_id: int | None = None
    verifying_contract: str | None = None


@dataclass(frozen=True)
class ServedDeployment:
    """`deployment`: the profile the services run and where each of its services answers."""

    name: str
    solver_kind: str
    solver_url: str
    notifications_protocol: str
    notifications_url: str
    price_feed: str
    coh_url: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "solver": {"kind": self.solver_kind, "url": self.solver_url},
            "notifications": {
                "protocol": self.notifications_protocol,
                "url": self.notifications_url,
            },
            "prices": {"kind": self.price_feed},
            "coh": None if self.coh_url is None else {"url": self.coh_url},
        }


@dataclass(frozen=True)
class Context:
    chain_id: int
    instant_layer: str
    account_layer: str
    symmio_core: str
    hedger: str | None = None
    affiliate: str | None = None
    sub_account: str | None = None
    virtual_account: str | None = None
    session_key: str | None = None
    symbols: tuple[Symbol, ...] | None = None
    conditional_order_domain: ConditionalOrderDomainConfig | None = None
    #: InstantLayers replaced by `instant_layer` (nothing migrates: their ops never execute)
    retired_instant_layers: tuple[str, ...] | None = None
    #: the GaslessGateway contract, to recognise its wallet operations by their signature
    gasless_gateway: str | None = None
    #: unix time the capture was recorded (`demo --record`): the clock `validate` judges it by
    recorded_at: int | None = None
    #: where `serve` takes JSON-RPC calls, its collateral token, TP/SL bot and funded accounts
    rpc_url: str | None = None
    collateral: str | None = None
    tpsl_bot: str | None = None
    test_accounts: tuple[str, ...] | None = None
    #: the price service `serve` runs: its REST base URL and its mark-price websocket
    price_url: str | None = None
    price_ws_url: str | None = None
    #: the mark of each symbol (id, mark) the TP/SL market rules judge triggers against
    mark_prices: tuple[tuple[int, Decimal], ...] | None = None
    #: the COH's served limits (`/api/v5/configs/`)
    coh_limits: CohLimits | None = None
    #: the open quantity of each position (quote id, quantity): chain state
    open_quantities: tuple[tuple[int, Decimal], ...] | None = None
    #: the protocol generation of the contracts ("0.8.5", "0.8.6"); absent: v0.8.5
    contracts_version: str | None = None
    #: the account owner (v0.8.6 grant operations are signed by it) and the GaslessLayer that
    #: relays owner-signed operations (v0.8.6)
    owner: str | None = None
    gasless_layer: str | None = None
    #: the deployment profile `serve` runs (issue 18)
    deployment: ServedDeployment | None = None
    #: the gasless relay `serve` runs on v0.8.6 (the proxy root the SDK's `gasless.url` takes)
    gasless_url: str | None = None
    _symbols_by_id: dict[int, Symbol] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "_symbols_by_id", {s.id: s for s in self.symbols or ()})

    @property
    def generation(self) -> type[Protocol]:
        """The protocol generation the context names (v0.8.5 when it names none)."""
        if self.contracts_version is None:
            return CURRENT
        return generation(self.contracts_version)

    def symbol(self, symbol_id: int) -> Symbol | None:
        return self._symbols_by_id.get(symbol_id)

    def mark_price(self, symbol_id: int) -> Decimal | None:
        return dict(self.mark_prices or ()).get(symbol_id)

    def open_quantity(self, quote_id: int) -> Decimal | None:
        return dict(self.open_quantities or ()).get(quote_id)

    def tpsl_domain(self) -> Domain:
        """The ConditionalOrder domain: configured fields, else the documented defaults."""
        default = default_conditional_order_domain(self.chain_id, self.instant_layer)
        cfg = self.conditional_order_domain
        if cfg is None:
            return default
        return Domain(
            cfg.name,
            cfg.version,
            cfg.chain_id if cfg.chain_id is not None else default.chain_id,
            cfg.verifying_contract or default.verifying_contract,
        )

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "chain_id": self.chain_id,
            "instant_layer": self.instant_layer,
            "account_layer": self.account_layer,
            "symmio_core": self.symmio_core,
        }
        for key in ADDRESS_KEYS:
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.retired_instant_layers is not None:
            out["retired_instant_layers"] = list(self.retired_instant_layers)
        if self.recorded_at is not None:
            out["recorded_at"] = self.recorded_at
        if self.contracts_version is not None:
            out["contracts_version"] = self.contracts_version
        for key in URL_KEYS:
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.test_accounts is not None:
            out["test_accounts"] = list(self.test_accounts)
        if self.symbols is not None:
            out["symbols"] = [_symbol_json(s) for s in self.symbols]
        if self.conditional_order_domain is not None:
            cfg = self.conditional_order_domain
            dom: dict[str, Any] = {"name": cfg.name, "version": cfg.version}
            if cfg.chain_id is not None:
                dom["chain_id"] = cfg.chain_id
            if cfg.verifying_contract is not None:
                dom["verifying_contract"] = cfg.verifying_contract
            out["conditional_order_domain"] = dom
        for key in ("mark_prices", "open_quantities"):
            pairs = getattr(self, key)
            if pairs is not None:
                out[key] = {str(k): format(v, "f") for k, v in pairs}
        if self.coh_limits is not None:
            out["coh_limits"] = self.coh_limits.to_json()
        if self.deployment is not None:
            out["deployment"] = self.deployment.to_json()
        return out


def deployment_context(profile: deployments.Profile) -> Context:
    """The context of a real deployment of the registry (`validate --deployment NAME` without a
    context file): its chain, contracts, PartyB, affiliate, collateral, retired layers, contracts
    version and, where it has a COH, the COH's domain (its wallet as verifyingContract)."""
    if profile.chain_id is None or profile.instant_layer is None:
        raise ContextError(f"deployment {profile.name}: a local profile has no addresses")
    coh = profile.coh
    return Context(
        chain_id=profile.chain_id,
        **profile.address_settings(),
        retired_instant_layers=tuple(a.address for a in profile.retired),
        contracts_version=profile.generation.version,
        conditional_order_domain=(
            ConditionalOrderDomainConfig(
                coh.domain_name, coh.domain_version, profile.chain_id, coh.wallet
            )
            if coh is not None and coh.wallet is not None
            else None
        ),
    )


def _symbol_json(s: Symbol) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": s.id,
        "name": s.name,
        "price_precision": s.price_precision,
        "quantity_precision": s.quantity_precision,
    }
    for key in SYMBOL_FEE_CAP_KEYS:
        if getattr(s, key) != 0:
            out[key] = format(getattr(s, key), "f")
    return out


def context_from_json(data: Any) -> Context:
    """Strict reading; ContextError lists every problem with its key path."""
    r = Reader()
    obj = r.object(data, "", REQUIRED_KEYS, OPTIONAL_KEYS)
    if obj is None:
        raise ContextError(r.problems)
    chain_id = r.json_int(obj["chain_id"], "chain_id", 1, (1 << 256) - 1, "chain id")
    addresses = {
        key: r.address(obj[key], key) for key in (*REQUIRED_KEYS[1:], *ADDRESS_KEYS) if key in obj
    }
    lists = {
        key: _read_addresses(r, obj[key], key)
        for key in ("retired_instant_layers", "test_accounts")
        if key in obj
    }
    urls: dict[str, str | None] = {}
    for key, schemes in URL_KEYS.items():
        if key not in obj:
            continue
        urls[key] = r.string(obj[key], key)
        if urls[key] is not None and not urls[key].startswith(schemes):  # type: ignore[union-attr]
            rule = "context." + key.replace("_", "-")
            kind = "an http(s)" if schemes[0] == "http://" else "a ws(s)"
            r.add(key, rule, f"expected {kind} URL, got {urls[key]!r}")
    recorded_at = (
        r.json_int(obj["recorded_at"], "recorded_at", 0, (1 << 64) - 1, "unix time")
        if "recorded_at" in obj
        else None
    )
    symbols = _read_symbols(r, obj["symbols"]) if "symbols" in obj else None
    domain = (
        _read_domain_config(r, obj["conditional_order_domain"])
        if ("conditional_order_domain" in obj)
        else None
    )
    marks = (
        _read_amounts(r, obj["mark_prices"], "mark_prices", "symbol id")
        if "mark_prices" in obj
        else None
    )
    open_quantities = (
        _read_amounts(r, obj["open_quantities"], "open_quantities", "quote id")
        if "open_quantities" in obj
        else None
    )
    limits = _read_coh_limits(r, obj["coh_limits"], "coh_limits") if "coh_limits" in obj else None
    version = _read_version(r, obj["contracts_version"]) if "contracts_version" in obj else None
    served = _read_deployment(r, obj["deployment"]) if "deployment" in obj else None
    # Warnings (a chain id given as a string) are still refused: a context is our own format.
    if r.problems:
        raise ContextError(r.problems)
    assert chain_id is not None
    return Context(
        chain_id=chain_id,
        symbols=symbols,
        conditional_order_domain=domain,
        recorded_at=recorded_at,
        **urls,  # type: ignore[arg-type]
        mark_prices=marks,
        coh_limits=limits,
        open_quantities=open_quantities,
        contracts_version=version,
        deployment=served,
        **lists,  # type: ignore[arg-type]
        **addresses,  # type: ignore[arg-type]
    )


def _read_deployment(r: Reader, value: Any) -> ServedDeployment | None:
    """`deployment`, strictly: every key present, the kinds the registry knows."""
    keys = ("name", "solver", "notifications", "prices", "coh")
    obj = r.object(value, "deployment", keys)
    if obj is None:
        return None
    solver = r.object(obj["solver"], "deployment.solver", ("kind", "url"))
    notes = r.object(obj["notifications"], "deployment.notifications", ("protocol", "url"))
    prices = r.object(obj["prices"], "deployment.prices", ("kind",))
    coh = None
    if obj["coh"] is not None:
        got = r.object(obj["coh"], "deployment.coh", ("url",))
        coh = r.string(got["url"], "deployment.coh.url") if got is not None else None
    name = r.string(obj["name"], "deployment.name")
    if solver is None or notes is None or prices is None or name is None:
        return None
    kinds = (
        ("deployment.solver.kind", solver["kind"], SolverKind),
        ("deployment.notifications.protocol", notes["protocol"], Notifications),
        ("deployment.prices.kind", prices["kind"], PriceFeed),
    )
    read: list[str] = []
    for path, raw, known in kinds:
        text = r.string(raw, path)
        if text is not None and text not in {k.value for k in known}:
            r.add(
                path,
                "context.deployment",
                f"expected one of {[k.value for k in known]}, got {text!r}",
            )
        read.append(text or "")
    solver_url = r.string(solver["url"], "deployment.solver.url")
    notes_url = r.string(notes["url"], "deployment.notifications.url")
    if solver_url is None or notes_url is None:
        return None
    return ServedDeployment(name, read[0], solver_url, read[1], notes_url, read[2], coh)


def _read_addresses(r: Reader, value: Any, key: str) -> tuple[str, ...] | None:
    items = r.array(value, key)
    if items is None:
        return None
    read = [r.address(a, f"{key}[{i}]") for i, a in enumerate(items)]
    return tuple(a for a in read if a is not None)


def _read_symbols(r: Reader, value: Any) -> tuple[Symbol, ...] | None:
    items = r.array(value, "symbols")
    if items is None:
        return None
    out: list[Symbol] = []
    seen: set[int] = set()
    for i, item in enumerate(items):
        path = f"symbols[{i}]"
        obj = r.object(
            item, path, ("id", "name", "price_precision", "quantity_precision"), SYMBOL_FEE_CAP_KEYS
        )
        if obj is None:
            continue
        sid = r.json_int(obj["id"], f"{path}.id", 0, (1 << 256) - 1, "symbol id")
        name = r.string(obj["name"], f"{path}.name")
        pp = r.json_int(obj["price_precision"], f"{path}.price_precision", 0, 18, "precision 0..18")
        qp = r.json_int(
            obj["quantity_precision"], f"{path}.quantity_precision", 0, 18, "precision 0..18"
        )
        if sid is not None and sid in seen:
            r.add(f"{path}.id", "context.duplicate-symbol", f"symbol id {sid} is listed twice")
        caps = {
            key: _fee_cap(r, obj[key], f"{path}.{key}") for key in obj if key in SYMBOL_FEE_CAP_KEYS
        }
        if None in (sid, name, pp, qp) or None in caps.values():
            continue
        seen.add(sid)  # type: ignore[arg-type]
        out.append(Symbol(sid, name, pp, qp, **caps))  # type: ignore[arg-type]
    return tuple(out)


def _fee_cap(r: Reader, value: Any, path: str) -> Decimal | None:
    """A fee-cap minimum as `contract-symbols` serves it: a decimal string, at most 18 decimals
    (SolverFeeCaps are 18-decimal ratios)."""
    text = r.decimal_text(value, path)
    if text is None:
        return None
    number = Decimal(text)
    if number.as_tuple().exponent < -18:  # type: ignore[operator]
        r.add(path, "context.fee-cap", f"expected at most 18 decimals, got {text!r}")
        return None
    return number


def _read_version(r: Reader, value: Any) -> str | None:
    text = r.string(value, "contracts_version")
    if text is None:
        return None
    if text not in BY_VERSION:
        known = ", ".join(f'"{v}"' for v in BY_VERSION)
        r.add(
            "contracts_version",
            "context.contracts-version",
            f"expected one of {known}, got {text!r}",
        )
        return None
    return text


def _read_amounts(
    r: Reader, value: Any, path: str, key_name: str
) -> tuple[tuple[int, Decimal], ...] | None:
    """`{"<id>": "<positive decimal>"}` (ids as decimal strings: JSON keys are strings)."""
    if not isinstance(value, dict):
        r.add(path, "json.type", "expected an object keyed by " + key_name)
        return None
    out: list[tuple[int, Decimal]] = []
    for key, amount in value.items():
        where = f"{path}.{key}"
        if not (isinstance(key, str) and key.isascii() and key.isdigit() and len(key) <= 78):
            r.add(where, "context.amount", f"expected a {key_name} (decimal digits) as the key")
            continue
        text = r.decimal_text(amount, where)
        if text is None:
            continue
        if Decimal(text) <= 0:
            r.add(where, "context.amount", f"expected an amount greater than zero, got {text!r}")
            continue
        out.append((int(key), Decimal(text)))
    return tuple(sorted(out))


def _limit_number(r: Reader, value: Any, path: str) -> Decimal | None:
    """A served limit: a JSON number (as `/configs/` serves it) or a decimal string, >= 0."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        r.add(path, "json.type", "expected a number")
        return None
    try:
        number = Decimal(value if isinstance(value, int | str) else repr(value))
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite() or number < 0:
        r.add(path, "context.limit", f"expected a number >= 0, got {value!r}")
        return None
    return number


def _read_coh_limits(r: Reader, value: Any, path: str) -> CohLimits | None:
    obj = r.object(value, path, COH_LIMIT_NAMES)
    if obj is None:
        return None
    read = [_limit_number(r, obj[name], f"{path}.{name}") for name in COH_LIMIT_NAMES]
    whole = (COH_LIMIT_NAMES[0], COH_LIMIT_NAMES[3])
    for name, number in zip(COH_LIMIT_NAMES, read, strict=True):
        if number is not None and name in whole and number != number.to_integral_value():
            r.add(f"{path}.{name}", "context.limit", f"expected a whole number, got {number}")
            return None
    if any(number is None for number in read):
        return None
    seconds, distance, spread, active = read
    return CohLimits(int(seconds), distance, spread, int(active))  # type: ignore[arg-type]


def _read_domain_config(r: Reader, value: Any) -> ConditionalOrderDomainConfig | None:
    path = "conditional_order_domain"
    obj = r.object(value, path, ("name", "version"), ("chain_id", "verifying_contract"))
    if obj is None:
        return None
    name = r.string(obj["name"], f"{path}.name")
    version = r.string(obj["version"], f"{path}.version")
    chain_id = (
        r.json_int(obj["chain_id"], f"{path}.chain_id", 0, (1 << 256) - 1, "chain id")
        if "chain_id" in obj
        else None
    )
    contract = (
        r.address(obj["verifying_contract"], f"{path}.verifying_contract")
        if "verifying_contract" in obj
        else None
    )
    if name is None or version is None:
        return None
    return ConditionalOrderDomainConfig(name, version, chain_id, contract)


def load_context(path: str | Path) -> Context:
    """Read a context file. ContextError (one line per problem) for anything unusable; the
    messages do not repeat the file's name (the caller says which file: `describe_error`)."""
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > MAX_CONTEXT_BYTES:
            raise ContextError(f"is {size:,} bytes; the limit is {MAX_CONTEXT_BYTES >> 20} MiB")
        text = p.read_text(encoding="utf-8")
    except ContextError:
        raise
    except UnicodeDecodeError:
        raise ContextError("not UTF-8 text") from None
    except OSError as exc:
        raise ContextError(_unreadable(exc)) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ContextError(
            f"not JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
        ) from None
    return context_from_json(data)


def _unreadable(exc: OSError) -> str:
    """Why a file cannot be read, in words (never Python's `[Errno N] ...: 'path'` repr)."""
    if isinstance(exc, FileNotFoundError):
        return "not found"
    if isinstance(exc, IsADirectoryError):
        return "is a directory, not a file"
    if isinstance(exc, PermissionError):
        return "cannot read it (permission denied)"
    return f"cannot read it ({(exc.strerror or type(exc).__name__).lower()})"


def describe_error(error: ContextError) -> str:
    """A ContextError as one line: each problem as `key.path: message` (no `(body)` for the file
    as a whole), joined by "; "."""
    return "; ".join(f"{p.path}: {p.message}" if p.path else p.message for p in error.problems)


def dump_context(context: Context, path: str | Path) -> None:
    Path(path).write_text(json.dumps(context.to_json(), indent=2) + "\n", encoding="utf-8")
