"""The context file: where the contracts are and what the frontend's user set up.

A JSON object with `chain_id`, `instant_layer`, `account_layer`, `symmio_core` and, optionally,
`hedger`, `affiliate`, `sub_account`, `virtual_account`, `session_key` (an address), `symbols`
(`[{id, name, price_precision, quantity_precision}]`) and `conditional_order_domain`
(`{name, version, chain_id?, verifying_contract?}`), `retired_instant_layers` (addresses),
`gasless_gateway` (an address) and `recorded_at` (the unix time a capture was recorded, the
clock `validate` judges it by unless `--now`); `symmio-harness serve` also gives `rpc_url`
(its JSON-RPC URL), `collateral` and `tpsl_bot` (addresses), `test_accounts` (the funded
addresses), `price_url` (the price service's base URL, under which `/api/v1/price` and
`/api/v1/prices/{names}` answer) and `price_ws_url` (its mark-price websocket).
`demo --record` writes it; the validator reads it, and each optional key switches on the rules
that need it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .eip712 import default_conditional_order_domain
from .errors import ContextError
from .model import Domain
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
)
#: the URL keys and the schemes each accepts (read and written the same way)
URL_KEYS: dict[str, tuple[str, ...]] = {
    "rpc_url": ("http://", "https://"),
    "price_url": ("http://", "https://"),
    "price_ws_url": ("ws://", "wss://"),
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
)
MAX_CONTEXT_BYTES = 1 << 20


@dataclass(frozen=True, slots=True)
class Symbol:
    id: int
    name: str
    price_precision: int
    quantity_precision: int


@dataclass(frozen=True, slots=True)
class ConditionalOrderDomainConfig:
    """The TP/SL domain as configured; missing chain_id / verifying_contract take the defaults."""

    name: str
    version: str
    chain_id: int | None = None
    verifying_contract: str | None = None


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
    _symbols_by_id: dict[int, Symbol] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "_symbols_by_id", {s.id: s for s in self.symbols or ()})

    def symbol(self, symbol_id: int) -> Symbol | None:
        return self._symbols_by_id.get(symbol_id)

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
        for key in URL_KEYS:
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.test_accounts is not None:
            out["test_accounts"] = list(self.test_accounts)
        if self.symbols is not None:
            out["symbols"] = [
                {
                    "id": s.id,
                    "name": s.name,
                    "price_precision": s.price_precision,
                    "quantity_precision": s.quantity_precision,
                }
                for s in self.symbols
            ]
        if self.conditional_order_domain is not None:
            cfg = self.conditional_order_domain
            dom: dict[str, Any] = {"name": cfg.name, "version": cfg.version}
            if cfg.chain_id is not None:
                dom["chain_id"] = cfg.chain_id
            if cfg.verifying_contract is not None:
                dom["verifying_contract"] = cfg.verifying_contract
            out["conditional_order_domain"] = dom
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
        **lists,  # type: ignore[arg-type]
        **addresses,  # type: ignore[arg-type]
    )


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
        obj = r.object(item, path, ("id", "name", "price_precision", "quantity_precision"))
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
        if None in (sid, name, pp, qp):
            continue
        seen.add(sid)  # type: ignore[arg-type]
        out.append(Symbol(sid, name, pp, qp))  # type: ignore[arg-type]
    return tuple(out)


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
    """Read a context file. ContextError (one line per problem) for anything unusable."""
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > MAX_CONTEXT_BYTES:
            raise ContextError(f"{p}: context file is {size} bytes; the limit is 1 MiB")
        text = p.read_text(encoding="utf-8")
    except ContextError:
        raise
    except (OSError, UnicodeDecodeError) as exc:
        raise ContextError(
            f"{p}: cannot read the context file ({exc.__class__.__name__}: {exc})"
        ) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ContextError(
            f"{p}: not JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
        ) from None
    return context_from_json(data)


def dump_context(context: Context, path: str | Path) -> None:
    Path(path).write_text(json.dumps(context.to_json(), indent=2) + "\n", encoding="utf-8")
