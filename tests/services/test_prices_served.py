"""The price service on a loopback `serve` (a child process, port 0, the embedded chain): a small
client configured from `GET /context` reads its marks from the price websocket before an open, a
TP/SL and a close, and sees a `/coh/mock/price` move pushed; a websocket on a path nothing
serves is refused with HTTP 404 at the handshake, never 403."""

from __future__ import annotations

import base64
import os
import socket
import time
from collections.abc import Iterator
from decimal import Decimal
from urllib.parse import urlsplit

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

from harness import flow
from harness.context import Context, context_from_json
from harness.keys import LocalKey
from harness.services import CohClient, SolverClient
from harness.services.launch import ServeProcess
from harness.services.price_client import mark_of, parse_price_frame

pytestmark = [pytest.mark.server, pytest.mark.subprocess]

#: the steady tick is far away: every frame after the first is a mark move's push
TICK_SECONDS = "600"
WAIT_SECONDS = 10.0


@pytest.fixture(scope="module")
def served() -> Iterator[ServeProcess]:
    with ServeProcess(args=("--quiet", "--price-tick", TICK_SECONDS)) as process:
        yield process


class MarkFeed:
    """What a trading bot keeps from the price websocket: the newest full snapshot, by the
    contract-symbols `name`, each mark read exactly (a JSON number, as a Decimal)."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.marks: dict[str, Decimal] = {}
        self.frames = 0

    def _take(self, text: str | bytes) -> None:
        self.marks = parse_price_frame(text)
        self.frames += 1

    def mark(self, name: str) -> Decimal:
        """The newest mark of `name`: every frame already arrived is read first (waiting for the
        first one when none came yet)."""
        if not self.marks:
            self._take(self.ws.recv(timeout=WAIT_SECONDS))
        while True:
            try:
                self._take(self.ws.recv(timeout=0))
            except TimeoutError:
                return self.marks[name]

    def wait_for(self, name: str, price: Decimal) -> None:
        deadline = time.monotonic() + WAIT_SECONDS
        while self.marks.get(name) != price:
            left = deadline - time.monotonic()
            assert left > 0, f"no snapshot with {name} at {price}; last {self.marks}"
            self._take(self.ws.recv(timeout=left))


def served_context(base: str) -> Context:
    return context_from_json(httpx.get(f"{base}/context", timeout=WAIT_SECONDS).json())


def test_a_bot_reads_its_marks_from_the_price_websocket_before_open_tpsl_and_close(
    served: ServeProcess,
) -> None:
    base = served.base
    context = served_context(base)
    assert context.price_ws_url is not None and context.symbols
    symbol = context.symbols[0]
    with (
        connect(context.price_ws_url, open_timeout=WAIT_SECONDS) as ws,
        SolverClient(f"{base}/solver") as solver,
        CohClient(f"{base}/coh") as coh,
    ):
        feed = MarkFeed(ws)
        session = LocalKey.generate()
        sub = httpx.post(
            f"{base}/mock/onboard", json={"session_key": session.address}, timeout=WAIT_SECONDS
        ).json()["sub_account"]
        deadline = int(time.time()) + 3600

        mark = feed.mark(symbol.name)  # before the open
        assert context.price_url is not None
        assert mark_of(context.price_url, symbol.name) == mark, "websocket and REST marks differ"
        opened = flow.build_instant_open(
            context,
            session,
            sub_account=sub,
            symbol=symbol,
            side="long",
            quantity=Decimal("0.015"),
            leverage=10,
            mark_price=mark,
            locked_params=solver.locked_params(symbol.name, 10),
            trading_fee=Decimal("0.0006"),
            deadline=deadline,
        )
        status = solver.temp_quote_status(solver.instant_open(opened.body).temp_quote_id)
        va, quote_id = status["party_a_account"], status["quote_id"]

        mark = feed.mark(symbol.name)  # before the TP/SL
        step = Decimal(1).scaleb(-symbol.price_precision)
        coh.submit(
            flow.build_tpsl(
                coh.signing_spec(),
                session,
                sub_account=sub,
                virtual_account=va,
                affiliate=context.affiliate,
                quote_id=quote_id,
                symbol=symbol,
                side="long",
                quantity=Decimal("0.015"),
                mark_price=mark,
                take_profit=(mark * Decimal("1.05")).quantize(step),
                stop_loss=(mark * Decimal("0.95")).quantize(step),
            )
        )

        moved_to = mark + 100  # between the triggers: nothing closes
        frames = feed.frames
        answer = httpx.post(
            f"{base}/coh/mock/price",
            json={"symbol_id": symbol.id, "price": str(moved_to)},
            timeout=WAIT_SECONDS,
        )
        assert answer.status_code == 200 and answer.json()["triggered"] == [], answer.text
        feed.wait_for(symbol.name, moved_to)  # pushed by the move (the tick is 10 min away)
        assert feed.frames > frames

        mark = feed.mark(symbol.name)  # before the close
        assert mark == moved_to, f"the bot closes at {mark}, the mark moved to {moved_to}"
        closed = flow.build_instant_close(
            context,
            session,
            virtual_account=va,
            quote_id=quote_id,
            symbol=symbol,
            side="long",
            quantity=Decimal("0.010"),
            mark_price=mark,
            deadline=deadline,
        )
        solver.instant_close(closed.body)  # a refusal raises ServiceError


def handshake_status(base: str, path: str) -> int:
    """The HTTP status a websocket handshake on `path` gets, over a raw socket."""
    url = urlsplit(base)
    assert url.hostname is not None and url.port is not None
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {url.hostname}:{url.port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    with socket.create_connection((url.hostname, url.port), timeout=WAIT_SECONDS) as sock:
        sock.sendall(request.encode())
        status_line = sock.makefile("rb").readline().decode()
    assert status_line.startswith("HTTP/1.1 "), f"not an HTTP answer: {status_line!r}"
    return int(status_line.split()[1])


@pytest.mark.parametrize(
    "path",
    [
        "/nope",
        "/ws",
        "/prices/nope",
        "/prices/api/v1/price",  # an HTTP route, no websocket
        "/solver/api/ws/nope",
        "/coh/api/v5/nope",
        "/context",
    ],
)
def test_a_websocket_on_a_path_nothing_serves_is_refused_with_404(
    served: ServeProcess, path: str
) -> None:
    status = handshake_status(served.base, path)
    assert status == 404, f"websocket handshake on {path}: HTTP {status}, expected 404"


def test_the_price_websocket_path_is_accepted_with_101(served: ServeProcess) -> None:
    assert handshake_status(served.base, "/prices/ws") == 101


def test_the_websockets_client_sees_404_naming_the_path(served: ServeProcess) -> None:
    ws_base = "ws" + served.base[4:]
    with pytest.raises(InvalidStatus) as refused:
        connect(f"{ws_base}/solver/api/ws/nope", open_timeout=WAIT_SECONDS)
    response = refused.value.response
    assert response.status_code == 404, f"HTTP {response.status_code}, expected 404"
    assert b"/solver/api/ws/nope" in response.body


def test_the_banner_and_context_name_the_same_price_urls(served: ServeProcess) -> None:
    base, ws_base = served.base, "ws" + served.base[4:]
    text = "\n".join(served.lines)
    assert f"price service base URL: {base}/prices  (/api/v1/price" in text, text
    assert f"price websocket:        {ws_base}/prices/ws" in text, text
    described = served_context(base)
    assert (described.price_url, described.price_ws_url) == (
        f"{base}/prices",
        f"{ws_base}/prices/ws",
    )
    assert (served.context.price_url, served.context.price_ws_url) == (
        described.price_url,
        described.price_ws_url,
    ), "the banner's context file line and GET /context differ"
