"""The context file: strict reading with paths, round trip, TP/SL domain defaults."""

from __future__ import annotations

import json

import pytest

from harness.context import (
    Context,
    context_from_json,
    describe_error,
    dump_context,
    load_context,
)
from harness.demo import example_context
from harness.errors import ContextError

BASE = example_context().to_json()


def test_round_trip(tmp_path) -> None:
    path = tmp_path / "context.json"
    dump_context(example_context(), path)
    assert load_context(path) == example_context()


def test_tpsl_domain_defaults_to_the_documented_one() -> None:
    ctx = context_from_json(BASE)
    domain = ctx.tpsl_domain()
    assert (domain.name, domain.version, domain.chain_id, domain.verifying_contract) == (
        "ConditionalOrder",
        "1",
        ctx.chain_id,
        ctx.instant_layer,
    )


def test_tpsl_domain_is_configurable() -> None:
    data = {
        **BASE,
        "conditional_order_domain": {
            "name": "SymmioConditionalOrder",
            "version": "2",
            "verifying_contract": BASE["hedger"],
        },
    }
    domain = context_from_json(data).tpsl_domain()
    assert (domain.name, domain.version, domain.verifying_contract) == (
        "SymmioConditionalOrder",
        "2",
        BASE["hedger"],
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"chain_id": "31337"}, "chain_id: expected a JSON number"),
        ({"instant_layer": BASE["instant_layer"].lower()}, "instant_layer: address is not EIP-55"),
        (
            {"symbols": [{"id": 1, "name": "X", "price_precision": 19, "quantity_precision": 1}]},
            "symbols[0].price_precision: 19 is out of range",
        ),
        ({"surprise": 1}, "surprise: unknown key"),
        ({"conditional_order_domain": {"version": "1"}}, "conditional_order_domain.name: required"),
        ({"price_url": "ws://127.0.0.1:1/prices"}, "price_url: expected an http\\(s\\) URL"),
        (
            {"price_ws_url": "http://127.0.0.1:1/prices/ws"},
            "price_ws_url: expected a ws\\(s\\) URL",
        ),
        ({"rpc_url": "ws://127.0.0.1:1"}, "rpc_url: expected an http\\(s\\) URL"),
    ],
)
def test_each_problem_names_its_key(change: dict, message: str) -> None:
    with pytest.raises(ContextError, match=message.replace("[", r"\[").replace("]", r"\]")):
        context_from_json({**BASE, **change})


def test_missing_required_key() -> None:
    data = dict(BASE)
    del data["symmio_core"]
    with pytest.raises(ContextError, match="symmio_core: required key is missing"):
        context_from_json(data)


def test_unreadable_and_non_json_files(tmp_path) -> None:
    with pytest.raises(ContextError) as absent:
        load_context(tmp_path / "absent.json")
    assert describe_error(absent.value) == "not found", "a missing file is said in words"
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ContextError, match="not JSON"):
        load_context(bad)


def test_symbol_lookup() -> None:
    ctx: Context = context_from_json(BASE)
    assert ctx.symbol(1) is not None and ctx.symbol(1).name == "BTCUSDT"
    assert ctx.symbol(2) is None
    assert json.loads(json.dumps(ctx.to_json())) == BASE


def test_the_price_service_urls_round_trip() -> None:
    urls = {
        "price_url": "http://127.0.0.1:8000/prices",
        "price_ws_url": "ws://127.0.0.1:8000/prices/ws",
    }
    ctx = context_from_json({**BASE, **urls})
    assert (ctx.price_url, ctx.price_ws_url) == (urls["price_url"], urls["price_ws_url"])
    assert {k: ctx.to_json()[k] for k in urls} == urls
