"""The services cannot be crashed or tricked: one strict bounded reader for every body and
frame, the size cap enforced while reading, strict decimals, TP/SL at most once, advertised
limits enforced, no internals in any answer, chain work off the event loop."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from decimal import Decimal

import pytest

from harness import flow, wire
from harness.model import parse_coh_quote_id
from harness.services import Services, SolverClient
from harness.services.coh import CONFIGS
from harness.services.plumbing import MAX_BODY_BYTES

from .conftest import BASE, User, make_services, opened_position, subscribe

DEEP = b"[" * 100_000 + b"]" * 100_000
JSON = {"content-type": "application/json"}

BODY_ROUTES = [
    ("POST", "/solver/api/instant_trade/instant_open"),
    ("POST", "/solver/api/instant_trade/instant_close"),
    ("POST", "/coh/api/v5/"),
    ("DELETE", "/coh/api/v5/"),
    ("POST", "/coh/api/v5/search/"),
    ("POST", "/coh/mock/price"),
    ("POST", "/mock/onboard"),
    ("POST", "/mock/faults"),
]


@pytest.fixture
def stack() -> Iterator:
    """Its own chain per test: these tests move the mark price and store orders."""
    yield from make_services()


def tpsl(services: Services, user: User, va: str, quote_id: int, quantity: str, **legs):
    backend = services.backend
    return flow.build_tpsl(
        backend.context.tpsl_domain(),
        user.session,
        sub_account=user.sub_account,
        virtual_account=va,
        affiliate=backend.system.affiliate,
        quote_id=quote_id,
        symbol=backend.markets[1].symbol,
        side="long",
        quantity=Decimal(quantity),
        mark_price=backend.prices[1],
        **legs,
    )


def assert_refused(response, status: int, code: int, *words: str) -> dict:
    assert response.status_code == status, (response.status_code, response.text[:300])
    body = response.json()
    assert body["code"] == code, body
    said = f"{body['error_message']}: {body['error_detail']}"
    for word in words:
        assert word in said, (word, said)
    assert "<class" not in response.text and "Traceback" not in response.text
    return body


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES)
def test_deep_nesting_is_a_clean_refusal_on_every_body_route(http, method, path) -> None:
    response = http.request(method, path, content=DEEP, headers=JSON)
    assert_refused(response, 400, 3001, "nested deeper than 64 levels")


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES)
def test_a_non_json_content_type_is_415(http, method, path) -> None:
    response = http.request(method, path, content=b"{}", headers={"content-type": "text/plain"})
    assert_refused(response, 415, 3006, "Content-Type", "text/plain")
    missing = http.request(method, path, content=b"{}")
    assert_refused(missing, 415, 3006, "Content-Type: missing")


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES)
def test_duplicate_keys_are_refused_on_every_body_route(http, method, path) -> None:
    body = b'{"signer": "not-an-address", "signer": "0x0000000000000000000000000000000000000001"}'
    response = http.request(method, path, content=body, headers=JSON)
    assert_refused(response, 400, 3007, 'key "signer" appears more than once')


def test_the_size_cap_is_enforced_while_the_body_streams_in(services: Services) -> None:
    """Driven at the ASGI level, so the count of chunks the app pulled is exact: a 200 MiB
    chunked body is refused once the cap is crossed, not after reading it all."""
    chunk = b" " * 65536
    pulled = 0
    sent: list[dict] = []

    async def receive() -> dict:
        nonlocal pulled
        pulled += 1
        return {"type": "http.request", "body": chunk, "more_body": pulled < 3200}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/coh/mock/price",
        "raw_path": b"/coh/mock/price",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"content-type", b"application/json"), (b"transfer-encoding", b"chunked")],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    asyncio.run(services.app(scope, receive, send))
    assert sent[0]["status"] == 413, sent[0]
    body = json.loads(b"".join(m.get("body", b"") for m in sent[1:]))
    assert body["code"] == 3005 and f"the limit is {MAX_BODY_BYTES:,}" in body["error_detail"]
    assert pulled <= MAX_BODY_BYTES // len(chunk) + 2, f"{pulled} chunks were read"


def test_a_declared_length_over_the_cap_is_413_before_reading(http) -> None:
    response = http.post(
        "/coh/mock/price",
        content=b"{}",
        headers={**JSON, "content-length": str(200 * 1024 * 1024)},
    )
    assert_refused(response, 413, 3005, "Content-Length 209,715,200")


@pytest.mark.parametrize(
    "price",
    [
        "65_000.5",
        "+65000.5",
        "-65000.5",
        "0.1e1",
        "1e999",
        " 65000.5",
        "65000.",
        ".5",
        "65\u0660000.5",  # an Arabic-Indic zero
        "65\uff10000.5",  # a fullwidth zero
        "NaN",
        "Infinity",
        "",
    ],
)
def test_mock_price_takes_only_strict_decimal_strings(services: Services, http, price) -> None:
    before = dict(services.backend.prices)
    response = http.post("/coh/mock/price", json={"symbol_id": 1, "price": price})
    assert_refused(response, 400, 3002, "price: expected a decimal string of ASCII digits")
    assert services.backend.prices == before


@pytest.mark.parametrize("price", [65000.5, 65000, None, ["65000.5"]])
def test_mock_price_refuses_a_non_string_naming_the_field(http, price) -> None:
    response = http.post("/coh/mock/price", json={"symbol_id": 1, "price": price})
    assert_refused(response, 400, 3002, "price: expected a decimal string")


def test_a_number_out_of_range_leaks_no_internals(http) -> None:
    response = http.post(
        "/coh/mock/price", content=b'{"symbol_id": 1, "price": 1e999}', headers=JSON
    )
    assert_refused(response, 400, 3001, "out of range")


def test_a_websocket_frame_is_read_by_the_same_bounded_reader(http) -> None:
    with http.websocket_connect("/solver/api/ws/notifications") as ws:
        ws.send_text(DEEP.decode())
        assert ws.receive_json() == {
            "error": "the body is 200,000 bytes; the limit is 65,536 bytes"
        }
        ws.send_text("[" * 9 + "]" * 9)
        assert ws.receive_json() == {"error": "JSON nested deeper than 8 levels"}
        ws.send_text('{"channel_patterns": [], "channel_patterns": []}')
        assert "appears more than once" in ws.receive_json()["error"]
        subscribe(ws, "*")  # still usable afterwards


def test_a_tpsl_order_posted_twice_is_stored_once_and_refused_as_a_replay(
    services: Services, http, solver: SolverClient, user: User
) -> None:
    va, quote_id = opened_position(services, solver, user)
    body = wire.tpsl_to_wire(
        tpsl(services, user, va, quote_id, "0.004", take_profit=Decimal("68250.5"))
    )
    assert http.post("/coh/api/v5/", json=body).status_code == 200
    for _ in range(11):
        again = http.post("/coh/api/v5/", json=body)
        assert_refused(again, 409, 3013, "replay")
    rows = http.post("/coh/api/v5/search/", json={"party_a_address": va}).json()["data"]
    assert len(rows) == 1, rows
    # the same salt under a fresh signature is a replay too
    order = tpsl(services, user, va, quote_id, "0.004", take_profit=Decimal("68250.5"))
    resigned = tpsl(
        services, user, va, quote_id, "0.005", take_profit=Decimal("68250.5"), salt=order.order.salt
    )
    http.post("/coh/api/v5/", json=wire.tpsl_to_wire(order))
    assert_refused(http.post("/coh/api/v5/", json=wire.tpsl_to_wire(resigned)), 409, 3013, "salt")
    # a trigger executes at most the order's own quantity
    system = services.backend.system
    total = system.quote(quote_id)["quantity"]
    http.post("/coh/mock/price", json={"symbol_id": 1, "price": "68300.0"})
    closed = system.quote(quote_id)["closedAmount"]
    assert closed == 8 * 10**15, (closed, total)  # two stored orders of 0.004, not 12 of them


def test_max_active_orders_per_user_is_enforced(
    services: Services, http, solver: SolverClient, user: User
) -> None:
    va, quote_id = opened_position(services, solver, user)
    limit = CONFIGS["MaxActiveOrdersPerUser"]
    for i in range(limit):
        order = tpsl(services, user, va, quote_id, "0.001", take_profit=Decimal("68250.5"))
        response = http.post("/coh/api/v5/", json=wire.tpsl_to_wire(order))
        assert response.status_code == 200, (i, response.text)
    extra = tpsl(services, user, va, quote_id, "0.001", take_profit=Decimal("68250.5"))
    refused = http.post("/coh/api/v5/", json=wire.tpsl_to_wire(extra))
    assert_refused(refused, 422, 3014, f"MaxActiveOrdersPerUser is {limit}", f"{limit} active")


def test_a_tpsl_amount_beyond_the_precision_is_the_coh_error_407(
    services: Services, http, solver: SolverClient, user: User
) -> None:
    va, quote_id = opened_position(services, solver, user)
    body = wire.tpsl_to_wire(
        tpsl(services, user, va, quote_id, "0.004", take_profit=Decimal("68250.5"))
    )
    body["typedData"]["message"]["takeProfit"]["quantity"] = "0.0045"
    response = http.post("/coh/api/v5/", json=body)
    refused = assert_refused(
        response, 400, 407, "provided values do not meet the required precision"
    )
    assert "tpsl.precision" in refused["rule_ids"]


def test_a_stored_order_is_confirmed_on_the_coh_websocket_as_new(
    services: Services, http, solver: SolverClient, user: User
) -> None:
    va, quote_id = opened_position(services, solver, user)
    order = tpsl(services, user, va, quote_id, "0.004", take_profit=Decimal("68250.5"))
    with http.websocket_connect("/coh/api/v5/ws") as ws:
        subscribe(ws, va)  # the VA's subscribers get the sub-account's reports too (mock)
        coh_id = http.post("/coh/api/v5/", json=wire.tpsl_to_wire(order)).json()["coh_quote_id"]
        frame = ws.receive_json()
    assert (frame["address"], frame["type"], frame["primary_identifier"]) == (
        user.sub_account,
        "report",
        quote_id,
    )
    number = coh_id if isinstance(coh_id, int) else parse_coh_quote_id(coh_id)
    assert parse_coh_quote_id(frame["data"]["coh_quote_id"]) == number, frame
    assert (frame["data"]["state"], frame["data"]["successful"]) == ("new", True)


def test_chain_work_runs_on_the_one_chain_thread_not_the_event_loop(
    services: Services, http, solver: SolverClient, user: User, monkeypatch
) -> None:
    system = services.backend.system
    threads: list[str] = []
    original = system.instant_open

    def recording(*args, **kwargs):
        threads.append(threading.current_thread().name)
        return original(*args, **kwargs)

    monkeypatch.setattr(system, "instant_open", recording)
    opened_position(services, solver, user)
    assert len(threads) == 1 and threads[0].startswith("symmio-chain"), threads


def test_search_takes_every_published_filter_and_null_as_no_filter(
    services: Services, http, solver: SolverClient, user: User
) -> None:
    va, quote_id = opened_position(services, solver, user)
    order = tpsl(services, user, va, quote_id, "0.004", take_profit=Decimal("68250.5"))
    http.post("/coh/api/v5/", json=wire.tpsl_to_wire(order))
    query = {
        "party_a_address": va,
        "symbol_id": 1,
        "state": ["new"],
        "order_type": order.order.take_profit.order_type,
        "conditional_order_type": "take_profit",
        "conditional_price_type": None,
        "start": None,
        "size": None,
    }
    found = http.post("/coh/api/v5/search/", json=query)
    assert found.status_code == 200, found.text
    assert [r["quote_id"] for r in found.json()["data"]] == [quote_id], found.text
    assert json.loads(found.text)["data"][0]["quantity"] == 0.004  # a JSON number


def test_search_refuses_an_unknown_filter_naming_it(http) -> None:
    bad = http.post("/coh/api/v5/search/", json={"sallt": "1"})
    assert_refused(bad, 400, 3002, "sallt: unknown search key")


def test_the_mock_search_by_salt_tells_an_order_from_an_identical_one(
    services: Services, http, solver: SolverClient, user: User
) -> None:
    va, quote_id = opened_position(services, solver, user)
    orders = [
        tpsl(services, user, va, quote_id, "0.004", take_profit=Decimal("68250.5"))
        for _ in range(2)
    ]
    ids = [
        http.post("/coh/api/v5/", json=wire.tpsl_to_wire(o)).json()["coh_quote_id"] for o in orders
    ]
    found = http.post("/coh/api/v5/search/", json={"salt": str(orders[1].order.salt)}).json()
    assert [r["coh_quote_id"] for r in found["data"]] == [ids[1]], (ids, found)
    bad = http.post("/coh/api/v5/search/", json={"salt": "+1"})
    assert_refused(bad, 400, 3002, "salt")


def test_unknown_path_and_base_are_plain_404s(http) -> None:
    assert http.get(f"{BASE}/nowhere").status_code == 404


@pytest.mark.parametrize("raw", ["-1_0", "-\u0663", "- 1", "-01", "1", "-1e2"])
def test_temp_quote_ids_in_paths_are_strict(http, raw: str) -> None:
    response = http.get(f"/solver/api/temp_quote_status/{raw}")
    assert_refused(response, 400, 3002, "tempQuoteId: expected a negative integer")


@pytest.mark.parametrize("raw", ["\u0663", "1_0", "+3", "03"])
def test_leverage_is_strict(http, raw: str) -> None:
    response = http.get("/solver/api/get_locked_params/BTCUSDT", params={"leverage": raw})
    assert_refused(response, 400, 3002, "leverage: expected a whole number")


def test_a_subscriber_that_never_reads_keeps_a_bounded_queue() -> None:
    from harness.services.notifications import MAX_QUEUED, Subscriber

    async def flood() -> Subscriber:
        subscriber = Subscriber(asyncio.get_running_loop(), asyncio.Queue(MAX_QUEUED))
        for i in range(MAX_QUEUED + 25):
            subscriber.put({"n": i})
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        return subscriber

    subscriber = asyncio.run(flood())
    assert (subscriber.queue.qsize(), subscriber.dropped) == (MAX_QUEUED, 25)


def test_get_orders_needs_a_quote_id_or_a_coh_quote_id(http) -> None:
    bad = http.get("/coh/api/v5/")
    assert_refused(bad, 400, 3002, "quote_id, coh_quote_id: give at least one")
    wrong = http.get("/coh/api/v5/", params={"coh_quote_id": "7"})
    assert_refused(wrong, 400, 3002, "coh_quote_id: expected a coh-prefixed id")


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/solver/api/nope", 404, 3008),
        ("GET", "/coh/api/v5/nope", 404, 3008),
        ("GET", "/nope", 404, 3008),
        ("PUT", "/coh/api/v5/", 405, 3009),
    ],
)
def test_an_unknown_route_or_method_is_the_services_error_body(
    http, method: str, path: str, status: int, code: int
) -> None:
    assert_refused(http.request(method, path), status, code, path)
