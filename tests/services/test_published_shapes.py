"""Every published route against the mock's OpenAPI document (harness.services.openapi).

One scenario drives every published route with requests shaped exactly as the real services
publish them (SignedOperation uints as JSON integers, the `{"operations": [...]}` close, every
search filter with nulls); then, per route: the 2xx body validates against the schema the
document states for it (draft 2020-12), and the published request was accepted without a
warnings header.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator

from harness import flow, wire
from harness.keys import LocalKey
from harness.services import Services
from harness.services.openapi import DOCUMENT_PATH, document, published_operations, render
from harness.services.published import (
    ERROR_CATEGORIES,
    INFO_HEADER,
    WARNINGS_HEADER,
    read_harness_list,
)

from .conftest import BASE, User, close_plan, make_services, open_plan

DOC = document()
PUBLISHED = published_operations(DOC)
#: the published routes whose request has a body shaped by the publisher
WITH_BODY = [(m, p) for m, p in PUBLISHED if "requestBody" in DOC["paths"][p][m.lower()]]
UINT_KEYS = ("maxUses", "nonce", "deadline", "offset", "length")


def as_published(value: Any) -> Any:
    """The canonical body with every SignedOperation uint a JSON integer (Trading-SDK
    enigma-solver.ts: `maxUses`, `nonce`, `deadline`, flex `offset`/`length` are numbers)."""
    if isinstance(value, dict):
        return {
            k: int(v) if k in UINT_KEYS and isinstance(v, str) else as_published(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [as_published(v) for v in value]
    return value


Samples = dict[tuple[str, str], list[httpx.Response]]


@pytest.fixture(scope="module")
def samples() -> Iterator[Samples]:
    """Every published route, called as published, on one fresh deployment."""
    got: Samples = {}

    def keep(method: str, path: str, response: httpx.Response) -> httpx.Response:
        got.setdefault((method, path), []).append(response)
        return response

    for services, http in make_services():
        _drive(services, http, keep)
        yield got


def _drive(services: Services, http: Any, keep: Any) -> None:
    s, c = "/solver/api", "/coh/api/v5"
    backend = services.backend
    session = LocalKey.generate()
    user = User(session, backend.onboard(session.address).sub_account)
    plan = open_plan(services, user)
    opened = keep(
        "POST",
        f"{s}/instant_trade/instant_open",
        http.post(
            f"{s}/instant_trade/instant_open",
            json=as_published(wire.instant_open_to_wire(plan.body)),
        ),
    )
    assert opened.status_code == 200, opened.text
    temp = opened.json()["temp_quote_id"]
    status = keep(
        "GET", f"{s}/temp_quote_status/{{tempQuoteId}}", http.get(f"{s}/temp_quote_status/{temp}")
    ).json()
    va, quote_id = status["party_a_account"], status["quote_id"]
    keep("GET", f"{s}/instant_quote_id/{{tempQuoteId}}", http.get(f"{s}/instant_quote_id/{temp}"))
    # a failed open: its status carries the error fields
    stranger = LocalKey.generate()
    refused = http.post(
        f"{s}/instant_trade/instant_open",
        json=wire.instant_open_to_wire(open_plan(services, User(stranger, user.sub_account)).body),
    )
    assert refused.status_code == 422, refused.text
    failed = refused.json()["temp_quote_id"]
    keep(
        "GET", f"{s}/temp_quote_status/{{tempQuoteId}}", http.get(f"{s}/temp_quote_status/{failed}")
    )
    name = backend.markets[1].symbol.name
    keep(
        "GET",
        f"{s}/get_locked_params/{{symbol}}",
        http.get(f"{s}/get_locked_params/{name}", params={"leverage": 10}),
    )
    for path in (
        "contract-symbols",
        "instant_trade/eip712-config",
        "error_codes",
        "error_codes/detailed",
    ):
        keep("GET", f"{s}/{path}", http.get(f"{s}/{path}"))
    for path in ("signing-spec", "signing-spec-del", "configs/"):
        keep("GET", f"{c}/{path}", http.get(f"{c}/{path}"))
    p = "/prices"
    keep("GET", f"{p}/api/v1/price", http.get(f"{p}/api/v1/price"))
    keep("GET", f"{p}/health", http.get(f"{p}/health"))
    keep(
        "GET",
        f"{p}/api/v1/prices/{{names}}",
        http.get(f"{p}/api/v1/prices/{name},NOSUCHSYMBOL"),
    )
    order = flow.build_tpsl(
        backend.context.tpsl_domain(),
        session,
        sub_account=user.sub_account,
        virtual_account=va,
        affiliate=backend.system.affiliate,
        quote_id=quote_id,
        symbol=backend.markets[1].symbol,
        side="long",
        quantity=plan.quantity,
        mark_price=backend.prices[1],
        take_profit=Decimal("68250.5"),
    )
    stored = keep("POST", f"{c}/", http.post(f"{c}/", json=wire.tpsl_to_wire(order)))
    assert stored.status_code == 200, stored.text
    coh_id = stored.json()["coh_quote_id"]
    search = {
        "party_a_address": va,
        "symbol_id": order.order.symbol_id,
        "state": ["new"],
        "order_type": order.order.take_profit.order_type,
        "conditional_order_type": "take_profit",
        "conditional_price_type": order.order.take_profit.conditional_price_type,
        "start": 0,
        "size": 10,
    }
    keep("POST", f"{c}/search/", http.post(f"{c}/search/", json=search))
    nulls = dict.fromkeys(search)
    keep("POST", f"{c}/search/", http.post(f"{c}/search/", json=nulls))
    keep("GET", f"{c}/", http.get(f"{c}/", params={"quote_id": quote_id, "coh_quote_id": coh_id}))
    message, signature = flow.build_tpsl_delete(
        backend.context.tpsl_domain(),
        session,
        virtual_account=va,
        coh_quote_id=coh_id,
        conditional_order_type="take_profit",
    )
    delete_body = {
        "typedData": {
            "types": http.get(f"{c}/signing-spec-del").json()["types"],
            "primaryType": "CancelConditionalOrder",
            "domain": wire.domain_to_wire(backend.context.tpsl_domain()),
            "message": {
                "virtualAccount": message.virtual_account,
                "salt": message.salt,
                "cohQuoteId": message.coh_quote_id,
                "conditionalOrderType": message.conditional_order_type,
            },
        },
        "signature": "0x" + signature.hex(),
        "signer": session.address,
    }
    deleted = keep("DELETE", f"{c}/", http.request("DELETE", f"{c}/", json=delete_body))
    assert deleted.status_code == 200, deleted.text
    close = close_plan(services, user, va, quote_id, str(plan.quantity))
    published_close = {"operations": as_published(wire.instant_close_to_wire(close.body))}
    closed = keep(
        "POST",
        f"{s}/instant_trade/instant_close",
        http.post(f"{s}/instant_trade/instant_close", json=published_close),
    )
    assert closed.status_code == 200, closed.text


def _schema_of(method: str, path: str) -> dict[str, Any] | None:
    ok = DOC["paths"][path][method.lower()]["responses"]["200"]
    return ok.get("content", {}).get("application/json", {}).get("schema")


def test_the_committed_openapi_document_equals_a_fresh_generation() -> None:
    committed = DOCUMENT_PATH.read_text(encoding="utf-8")
    assert committed == render(), (
        "schemas/openapi.json is stale: python -m harness.services.openapi --write"
    )


@pytest.mark.parametrize("name", sorted(DOC["components"]["schemas"]))
def test_every_schema_of_the_document_is_valid_draft_2020_12(name: str) -> None:
    Draft202012Validator.check_schema(DOC["components"]["schemas"][name])


def test_every_published_schema_cites_its_source() -> None:
    uncited = [n for n, s in DOC["components"]["schemas"].items() if "x-source" not in s]
    assert not uncited, f"schemas without x-source: {uncited}"


def test_the_scenario_calls_every_published_route(samples: Samples) -> None:
    missing = sorted(set(PUBLISHED) - set(samples))
    assert not missing, f"published routes the scenario never called: {missing}"


@pytest.mark.parametrize(("method", "path"), PUBLISHED, ids=[f"{m} {p}" for m, p in PUBLISHED])
def test_the_2xx_body_validates_against_the_published_schema(
    samples: Samples, method: str, path: str
) -> None:
    schema = _schema_of(method, path)
    for response in samples[(method, path)]:
        assert response.status_code == 200, (response.status_code, response.text[:300])
        if schema is None:
            assert response.content == b"", f"published as void, answered {response.text[:200]!r}"
            continue
        checker = Draft202012Validator({**schema, "components": DOC["components"]})
        body = json.loads(response.text)
        problems = [f"{list(e.absolute_path)}: {e.message}" for e in checker.iter_errors(body)]
        assert not problems, f"{method} {path}: {problems}"


@pytest.mark.parametrize(("method", "path"), WITH_BODY, ids=[f"{m} {p}" for m, p in WITH_BODY])
def test_a_request_shaped_as_published_is_accepted_without_a_warning(
    samples: Samples, method: str, path: str
) -> None:
    for response in samples[(method, path)]:
        assert response.status_code == 200, response.text[:300]
        noted = read_harness_list(response.headers, WARNINGS_HEADER)
        assert WARNINGS_HEADER not in response.headers, f"{method} {path} warned: {noted}"


def test_the_close_names_the_form_it_saw_as_information(samples: Samples) -> None:
    (closed,) = samples[("POST", "/solver/api/instant_trade/instant_close")]
    info = read_harness_list(closed.headers, INFO_HEADER)
    assert "close.form" in {i["rule_id"] for i in info}, info


def test_the_failed_open_status_carries_the_error_fields_and_the_opened_one_none(
    samples: Samples,
) -> None:
    opened, failed = (
        r.json() for r in samples[("GET", "/solver/api/temp_quote_status/{tempQuoteId}")]
    )
    errors = {"error_code", "error_category", "error_message", "error_detail"}
    assert not errors & set(opened), f"absent, not null, when the open succeeded: {opened}"
    assert errors <= set(failed) and failed["error_category"] in ERROR_CATEGORIES, failed


def test_the_published_bodies_carry_no_harness_keys(samples: Samples) -> None:
    harness_only = {"warnings", "tx_hash", "rule_ids", "findings", "va_address", "salt"}
    for (method, path), responses in samples.items():
        for response in responses:
            if not response.content:
                continue
            text = json.dumps(response.json())
            leaked = sorted(k for k in harness_only if f'"{k}":' in text)
            assert not leaked, f"{method} {path} carries {leaked}"


def test_openapi_json_is_served_by_the_serve_app() -> None:
    for _, http in make_services():
        got = http.get(f"{BASE}/openapi.json")
        assert got.status_code == 200 and got.json() == json.loads(render()), got.text[:200]
