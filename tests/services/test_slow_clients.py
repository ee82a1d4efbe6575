"""Slow clients are cut off (issue 19): a request head that stops half way is closed within the
head deadline; a body that stalls is answered 408 within the body deadline. Raw sockets on
loopback against uvicorn run with `serve`'s configuration (shortened deadlines)."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from harness.services import Services, embedded_backend, plumbing
from harness.services.server import (
    KEEP_ALIVE_SECONDS,
    MAX_CONCURRENT_CONNECTIONS,
    server_config,
)

DEADLINE = 1.0
#: how long the test waits for the server to act, beyond the deadline
SLACK = 4.0

pytestmark = [pytest.mark.server]


@pytest.fixture(scope="module")
def listening() -> Iterator[tuple[str, int]]:
    import uvicorn

    saved = plumbing.BODY_READ_TIMEOUT_SECONDS
    plumbing.BODY_READ_TIMEOUT_SECONDS = DEADLINE
    services = Services(embedded_backend())
    server = uvicorn.Server(server_config(services.app, "127.0.0.1", 0, header_timeout=DEADLINE))
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    start = time.monotonic()
    while not server.started and time.monotonic() - start < 20:
        time.sleep(0.05)
    assert server.started, "the server did not start"
    yield "127.0.0.1", server.servers[0].sockets[0].getsockname()[1]
    server.should_exit = True
    thread.join(10)
    plumbing.BODY_READ_TIMEOUT_SECONDS = saved


def read_until_closed(sock: socket.socket, within: float) -> tuple[bytes, float]:
    sock.settimeout(within)
    start = time.monotonic()
    got = b""
    try:
        while chunk := sock.recv(4096):
            got += chunk
    except TimeoutError:
        pytest.fail(f"the connection was still open after {within} s; read {got[:80]!r}")
    except ConnectionResetError:
        pass
    return got, time.monotonic() - start


def test_a_half_sent_request_head_is_closed_within_the_head_deadline(listening):
    with socket.create_connection(listening) as sock:
        sock.sendall(b"GET /context HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        _, took = read_until_closed(sock, DEADLINE + SLACK)
    assert took <= DEADLINE + SLACK, f"closed after {took:.1f} s"


def test_a_stalled_body_is_answered_408_within_the_body_deadline(listening):
    with socket.create_connection(listening) as sock:
        sock.sendall(
            b"POST /mock/onboard HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"sess'
        )
        got, took = read_until_closed(sock, DEADLINE + SLACK)
    assert got.startswith(b"HTTP/1.1 408"), f"expected 408, got {got[:120]!r}"
    assert took <= DEADLINE + SLACK, f"answered after {took:.1f} s"


def test_server_limits_are_bounded():
    assert 0 < KEEP_ALIVE_SECONDS <= 30 and 0 < MAX_CONCURRENT_CONNECTIONS <= 10_000
