"""Chain work never blocks the event loop: while a price move makes the TP/SL bot close many
orders on chain (one worker thread), requests that need no chain are answered meanwhile."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from harness.anvil import process_alive
from harness.services import loadgen
from harness.services.launch import ServeProcess

pytestmark = [pytest.mark.server, pytest.mark.subprocess, pytest.mark.slow]

ORDERS_PER_POSITION = 10


@pytest.fixture
def served() -> Iterator[ServeProcess]:
    with ServeProcess() as process:
        yield process


def test_reads_are_answered_while_a_price_move_fires_many_bot_closes(served: ServeProcess) -> None:
    context = served.context
    users = loadgen.onboard(served.base, 2)
    stored = loadgen.positions_with_orders(served.base, context, users, ORDERS_PER_POSITION)
    with httpx.Client(base_url=served.base, timeout=60) as http:
        moved: dict = {}

        def move() -> None:
            with httpx.Client(base_url=served.base, timeout=120) as mover:
                moved["answer"] = mover.post(
                    "/coh/mock/price", json={"symbol_id": 1, "price": "68300.0"}
                ).json()
                moved["done"] = time.monotonic()

        mover = threading.Thread(target=move)
        mover.start()
        time.sleep(0.1)  # the move is under way on the chain thread
        answered = []
        for _ in range(5):
            assert http.get("/coh/api/v5/configs/").status_code == 200
            answered.append(time.monotonic())
        mover.join(timeout=120)
    triggered = moved["answer"]["triggered"]
    assert len(triggered) == stored and all(t["state"] == "triggered" for t in triggered)
    assert answered[-1] < moved["done"], (
        f"the reads waited for the {stored} bot closes: answered "
        f"{answered[-1] - moved['done']:+.2f} s after the price move finished"
    )


def test_the_embedded_chain_executes_in_a_child_process_that_ends_with_serve() -> None:
    """py-evm runs in a process of its own (never holding the server's GIL): the opens' CPU is
    spent there, not in the server, and the process ends with serve's SIGTERM."""
    with ServeProcess(args=("--quiet",)) as process:
        kids = process.children()
        chain = [k for k in kids if "spawn_main" in Path(f"/proc/{k}/cmdline").read_text()]
        assert len(chain) == 1, f"serve's children: {kids}"
        users = loadgen.onboard(process.base, 1)
        before = process.cpu_seconds()
        opens = [
            loadgen.Req("open", "POST", loadgen.OPEN, b)
            for b in loadgen.open_bodies(process.context, users, 3)
        ]
        outcomes, _ = loadgen.run(process.base, opens, 1)
        assert [o.status for o in outcomes] == [200, 200, 200], [o.body for o in outcomes]
        server, children = (a - b for a, b in zip(process.cpu_seconds(), before, strict=True))
        assert children > server, (
            f"3 opens: the chain's process spent {children:.2f} s of CPU, the server {server:.2f} s"
        )
    deadline = time.monotonic() + 10
    while any(process_alive(k) for k in kids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [k for k in kids if process_alive(k)], "a child outlived serve's SIGTERM"
