"""The price service (Enigma's lowcap-price; real-world spec §4 "Price service"): the two REST
reads, the mark-price websocket, the price URLs in `/context`, in-process; and over a loopback
`serve`: a small client configured from `GET /context` reads its marks from the websocket before
an open, a TP/SL and a close, and sees a `/coh/mock/price` move arrive."""

from __future__ import annotations

import asyncio
import json
import queue
import threading
import time
import warnings
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

with warnings.catch_warnings():  # Starlette 1.x nudges towards httpx2; httpx 0.28 is pinned
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from harness.context import Symbol
from harness.services import Services, SymbolMarket, embedded_backend
from harness.services.price_client import PriceReadError, fetch_marks, mark_of, parse_price_frame
from harness.services.prices import MAX_NAMES, MAX_QUEUED, PriceClient
from harness.services.published import dumps, json_number

from .conftest import BASE

LOWCAP = "TIBBIR::A4..00_SFLOW"


def make_stack(tick_seconds: float, symbols: tuple[Symbol, ...] = ()) -> Iterator[TestClient]:
    markets = [SymbolMarket(s) for s in symbols] or None
    services = Services(embedded_backend(markets), price_tick_seconds=tick_seconds)
    with TestClient(services.app, base_url=BASE) as http:
        yield http


@pytest.fixture(scope="module")
def quiet_http() -> Iterator[TestClient]:
    """A price websocket that pushes only on connect and on moves (its tick is an hour away);
    a lowcap market next to BTCUSDT."""
    yield from make_stack(3600.0, (Symbol(1, "BTCUSDT", 1, 3), Symbol(2, LOWCAP, 6, 0)))


def receive_within(ws: Any, seconds: float = 10.0) -> str:
    """The next text frame of a TestClient websocket, or a failure after `seconds` (its own
    receive has no timeout; the reading thread is a daemon)."""
    got: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: got.put(ws.receive_text()), daemon=True).start()
    try:
        return got.get(timeout=seconds)
    except queue.Empty:
        raise AssertionError(f"no websocket frame within {seconds} s") from None


def decimal_json(text: str) -> Any:
    """JSON with every non-integer number read exactly, as a Decimal."""
    return json.loads(text, parse_float=Decimal)


def assert_price_data(row: Any, name: str, mark: Decimal) -> None:
    assert set(row) == {"name", "markPrice", "time"}, f"PriceData keys: {sorted(row)}"
    assert row["name"] == name, f"name {row['name']!r}, expected {name!r}"
    assert isinstance(row["markPrice"], Decimal | int), f"markPrice not a number: {row!r}"
    assert Decimal(row["markPrice"]) == mark, f"markPrice {row['markPrice']}, expected {mark}"
    now_ms = time.time_ns() // 1_000_000
    assert type(row["time"]) is int, f"time is not an integer: {row['time']!r}"
    assert now_ms - 600_000 < row["time"] <= now_ms, f"time {row['time']} is not unix ms of now"


# ------------------------------------------------------------------ REST


def test_price_route_lists_every_symbol_with_a_number_mark_and_ms_time(quiet_http) -> None:
    response = quiet_http.get(f"{BASE}/prices/api/v1/price")
    assert response.status_code == 200 and response.headers["content-type"].startswith(
        "application/json"
    )
    rows = decimal_json(response.text)
    assert isinstance(rows, list) and len(rows) == 2, f"expected a 2-row array: {rows!r}"
    assert_price_data(rows[0], "BTCUSDT", Decimal("65000.5"))
    assert_price_data(rows[1], LOWCAP, Decimal("65000.5"))  # the array carries the full name


def test_prices_by_names_is_a_map_keyed_by_the_requested_names(quiet_http) -> None:
    response = quiet_http.get(f"{BASE}/prices/api/v1/prices/BTCUSDT,{LOWCAP}")
    assert response.status_code == 200
    found = decimal_json(response.text)
    assert list(found) == ["BTCUSDT", LOWCAP], f"keys: {list(found)}"
    assert_price_data(found["BTCUSDT"], "BTCUSDT", Decimal("65000.5"))
    # the key is authoritative; the inner name of a lowcap market is its ticker (SDK)
    assert_price_data(found[LOWCAP], "TIBBIR", Decimal("65000.5"))


def test_prices_by_names_leaves_an_unknown_name_out_of_the_map(quiet_http) -> None:
    response = quiet_http.get(f"{BASE}/prices/api/v1/prices/NOPEUSDT,BTCUSDT")
    assert response.status_code == 200, response.text
    assert list(decimal_json(response.text)) == ["BTCUSDT"]
    response = quiet_http.get(f"{BASE}/prices/api/v1/prices/NOPEUSDT")
    assert (response.status_code, response.json()) == (200, {})


def test_prices_by_names_refuses_more_than_50_names_naming_the_parameter(quiet_http) -> None:
    names = ",".join(["BTCUSDT"] * (MAX_NAMES + 1))
    response = quiet_http.get(f"{BASE}/prices/api/v1/prices/{names}")
    assert response.status_code == 400
    assert "names: at most 50 names" in response.json()["error_detail"], response.text


def test_health_answers_ok(quiet_http) -> None:
    response = quiet_http.get(f"{BASE}/prices/health")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


@pytest.mark.parametrize(
    ("mark", "text"),
    [
        (Decimal("0.10691489650882736"), "0.10691489650882736"),  # more digits than a float holds
        (Decimal("6.8E+4"), "68000"),  # never an exponent
        (Decimal("68300.0"), "68300.0"),
        (Decimal("1E-9"), "0.000000001"),
    ],
)
def test_mark_price_is_written_from_the_decimal_exact_text(mark: Decimal, text: str) -> None:
    assert json_number(mark) == text
    body = dumps([{"name": "X", "markPrice": mark, "time": 1}])
    assert body == f'[{{"name":"X","markPrice":{text},"time":1}}]'
    assert decimal_json(body)[0]["markPrice"] == mark


def test_a_float_never_reaches_a_price_body() -> None:
    with pytest.raises(TypeError):
        dumps({"markPrice": 1.5})


def test_context_gives_the_price_service_and_websocket_urls(quiet_http) -> None:
    described = quiet_http.get(f"{BASE}/context").json()
    assert described["price_url"] == f"{BASE}/prices"
    assert described["price_ws_url"] == "ws://testserver/prices/ws"


def test_contract_symbols_rows_carry_no_mark_price(quiet_http) -> None:
    rows = quiet_http.get(f"{BASE}/solver/api/contract-symbols").json()["symbols"]
    assert all("mark_price" not in row for row in rows), "marks come from the price service"


# ------------------------------------------------------------------ websocket


def test_websocket_pushes_a_full_snapshot_on_connect(quiet_http) -> None:
    with quiet_http.websocket_connect("/prices/ws") as ws:
        rows = decimal_json(receive_within(ws))
    assert [r["name"] for r in rows] == ["BTCUSDT", LOWCAP]
    assert_price_data(rows[0], "BTCUSDT", Decimal("65000.5"))


def test_websocket_pushes_a_snapshot_on_every_mark_move() -> None:
    for http in make_stack(3600.0):
        with http.websocket_connect("/prices/ws") as ws:
            receive_within(ws)  # the snapshot on connect
            for price in ("66000.5", "66000.6"):
                moved = http.post(f"{BASE}/coh/mock/price", json={"symbol_id": 1, "price": price})
                assert moved.status_code == 200, moved.text
                (row,) = decimal_json(receive_within(ws))
                assert row["markPrice"] == Decimal(price), f"after the move to {price}: {row}"


def test_websocket_pushes_a_snapshot_every_tick_without_a_move() -> None:
    for http in make_stack(0.05):
        with http.websocket_connect("/prices/ws") as ws:
            frames = [decimal_json(receive_within(ws)) for _ in range(3)]  # connect + 2 ticks
    assert frames[0] == frames[1] == frames[2], "a tick repeats the unchanged snapshot"


def test_a_client_that_does_not_read_keeps_at_most_the_newest_snapshots() -> None:
    loop = asyncio.new_event_loop()
    try:
        client = PriceClient(loop, asyncio.Queue(MAX_QUEUED))
        for i in range(MAX_QUEUED + 10):
            client.offer(f"[{i}]")
        assert client.queue.qsize() == MAX_QUEUED and client.dropped == 10
        assert client.queue.get_nowait() == "[10]", "the oldest snapshots are the ones dropped"
    finally:
        loop.close()


# ------------------------------------------------------------------ the client side


def test_fetch_marks_reads_each_requested_name_exactly(quiet_http) -> None:
    marks = fetch_marks(f"{BASE}/prices", ["BTCUSDT", LOWCAP, "NOPEUSDT"], client=quiet_http)
    assert marks == {"BTCUSDT": Decimal("65000.5"), LOWCAP: Decimal("65000.5")}


def test_mark_of_an_unknown_name_says_the_service_has_none(quiet_http) -> None:
    with pytest.raises(PriceReadError, match="gives no mark for NOPEUSDT"):
        mark_of(f"{BASE}/prices", "NOPEUSDT", client=quiet_http)


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        ('{"name":"X"}', "expected a JSON list"),
        (
            '[{"name":"X","markPrice":"1.5","time":1}]',
            r"price frame\[0\].markPrice: expected a JSON number",
        ),
        (
            '[{"markPrice":1.5,"time":1}]',
            r"price frame\[0\].name: expected the contract-symbols name",
        ),
        ('[{"name":"X","markPrice":0,"time":1}]', "expected a positive number"),
    ],
)
def test_a_price_frame_not_as_published_names_the_path(frame: str, message: str) -> None:
    with pytest.raises(PriceReadError, match=message):
        parse_price_frame(frame)


def test_a_price_frame_reads_marks_exactly_by_name() -> None:
    frame = (
        '[{"name":"A","markPrice":0.10691489650882736,"time":1},'
        '{"name":"B","markPrice":7,"time":1}]'
    )
    assert parse_price_frame(frame) == {"A": Decimal("0.10691489650882736"), "B": Decimal(7)}


def test_a_stalled_client_never_holds_up_the_others() -> None:
    services = Services(embedded_backend(), price_tick_seconds=3600.0)
    stalled_loop = asyncio.new_event_loop()  # never runs: its client never takes a frame
    stalled = PriceClient(stalled_loop, asyncio.Queue(MAX_QUEUED))
    services.prices.add(stalled)
    try:
        with (
            TestClient(services.app, base_url=BASE) as http,
            http.websocket_connect("/prices/ws") as ws,
        ):
            receive_within(ws)  # the snapshot on connect
            started = time.monotonic()
            for i in range(MAX_QUEUED * 2):
                services.backend.prices[1] = Decimal(66000 + i)  # publishes to both clients
            assert time.monotonic() - started < 5, "moving the mark waited on a client"
            last = Decimal(66000 + MAX_QUEUED * 2 - 1)
            for _ in range(MAX_QUEUED * 2):
                (row,) = decimal_json(receive_within(ws))
                if row["markPrice"] == last:
                    break
            assert row["markPrice"] == last, "the reading client missed the newest mark"
    finally:
        services.prices.remove(stalled)
        stalled_loop.close()
