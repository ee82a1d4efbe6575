"""A bounded mixed load on a running `serve` (loopback): valid opens (each posted once or
replayed), valid reads, and every kind of bad request, sent by N concurrent clients.

Used by the load test (no 5xx, every valid open executed exactly once, memory bounded) and by
the benchmark (requests per second and p95 latency). Count and time are bounded by the caller.
"""

from __future__ import annotations

import asyncio
import gc
import json
import random
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx

from .. import flow, wire
from ..chain.node import NodeProvider
from ..context import Context
from ..errors import HarnessError
from ..keys import LocalKey
from ..pricing import LockedParamsPct
from .backend import DEFAULT_LOCKED_PARAMS, Backend
from .server import Services, in_process_client

JSON = {"content-type": "application/json"}
BAD_PRICES = ("65_000.5", "+65000.5", "0.1e1", "1e999", "65\u0660000.5", "65\uff10000.5", " 1")
DEEP = b"[" * 100_000 + b"]" * 100_000
OPEN = "/solver/api/instant_trade/instant_open"


@dataclass(frozen=True)
class Req:
    kind: str  # "open" (valid), "read" (valid), or "bad:<what>"
    method: str
    path: str
    content: bytes = b""
    headers: dict[str, str] = field(default_factory=lambda: dict(JSON))
    body_id: int | None = None  # the valid open body it carries (posted once or more)

    @property
    def valid(self) -> bool:
        return not self.kind.startswith("bad:")


@dataclass
class Outcome:
    req: Req
    status: int
    seconds: float
    body: Any = None


@contextmanager
def frozen_heap() -> Iterator[None]:
    """While timing: this process's heap as it is now is frozen (collected first), so the
    collector's full passes walk only what the timed requests make. A full pass over the
    measuring client's own heap (tens of ms after building bodies and positions) would
    otherwise land on whichever request it interrupts and be reported as the server's
    latency."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def onboard(base: str, n_users: int) -> list[tuple[LocalKey, str]]:
    users = []
    with httpx.Client(base_url=base, timeout=60) as http:
        for _ in range(n_users):
            session = LocalKey.generate()
            got = http.post("/mock/onboard", json={"session_key": session.address})
            got.raise_for_status()
            users.append((session, got.json()["sub_account"]))
    return users


def open_bodies(context: Context, users: list[tuple[LocalKey, str]], per_user: int) -> list[bytes]:
    symbol = context.symbols[0]
    locked = LockedParamsPct.from_response({**DEFAULT_LOCKED_PARAMS, "leverage": "10"})
    out = []
    for session, sub_account in users:
        for _ in range(per_user):
            plan = flow.build_instant_open(
                context,
                session,
                sub_account=sub_account,
                symbol=symbol,
                side="long",
                quantity=Decimal("0.015"),
                leverage=10,
                mark_price=Decimal("65000.5"),
                locked_params=locked,
                trading_fee=Decimal("0.0006"),
                deadline=int(time.time()) + 3600,
            )
            out.append(json.dumps(wire.instant_open_to_wire(plan.body)).encode())
    return out


def bad_requests(rng: random.Random, valid_body: bytes) -> list[Req]:
    forged = json.loads(valid_body)
    sig = forged["sendQuote"]["signature"]
    forged["sendQuote"]["signature"] = sig[:-4] + ("00" if sig[-4:-2] != "00" else "11") + sig[-2:]
    routes = [OPEN, "/coh/api/v5/", "/coh/mock/price", "/mock/onboard", "/coh/api/v5/search/"]
    return [
        Req("bad:deep", "POST", rng.choice(routes), DEEP),
        Req(
            "bad:duplicate-key",
            "POST",
            "/coh/mock/price",
            b'{"symbol_id":1,"symbol_id":1,"price":"1"}',
        ),
        Req("bad:content-type", "POST", rng.choice(routes), b"{}", {"content-type": "text/plain"}),
        Req(
            "bad:price",
            "POST",
            "/coh/mock/price",
            json.dumps({"symbol_id": 1, "price": rng.choice(BAD_PRICES)}).encode(),
        ),
        Req("bad:oversize", "POST", OPEN, b" " * (1536 * 1024)),
        Req("bad:not-utf8", "POST", rng.choice(routes), b"\xff\xfe{"),
        Req("bad:forged-signature", "POST", OPEN, json.dumps(forged).encode()),
        Req("bad:not-json", "POST", rng.choice(routes), b"{'a': 1}"),
    ]


READS = (
    "/solver/api/contract-symbols",
    "/coh/api/v5/configs/",
    "/solver/api/error_codes",
    "/coh/api/v5/signing-spec",
    "/solver/api/instant_trade/eip712-config",
)


def build_mix(
    bodies: list[bytes], total: int, *, replays: int = 1, valid_reads: float = 0.15, seed: int = 9
) -> list[Req]:
    """Every open body posted `1 + replays` times, valid reads, the rest bad requests, shuffled."""
    rng = random.Random(seed)
    reqs = [
        Req("open", "POST", OPEN, b, body_id=i)
        for i, b in enumerate(bodies)
        for _ in range(1 + replays)
    ]
    n_reads = int(total * valid_reads)
    reqs += [Req("read", "GET", rng.choice(READS), headers={}) for _ in range(n_reads)]
    while len(reqs) < total:
        reqs.append(rng.choice(bad_requests(rng, rng.choice(bodies))))
    rng.shuffle(reqs)
    return reqs[: max(total, len(bodies) * (1 + replays))]


async def _run(base: str, reqs: list[Req], concurrency: int, timeout: float) -> list[Outcome]:
    queue: asyncio.Queue[Req] = asyncio.Queue()
    for r in reqs:
        queue.put_nowait(r)
    out: list[Outcome] = []
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async def worker(http: httpx.AsyncClient) -> None:
        while True:
            try:
                r = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            start = time.perf_counter()
            try:
                response = await http.request(
                    r.method, r.path, content=r.content or None, headers=r.headers
                )
                status, text = response.status_code, response.content
            except httpx.HTTPError as exc:
                status, text = -1, repr(exc).encode()
            seconds = time.perf_counter() - start
            try:
                body = json.loads(text) if text else None
            except ValueError:
                body = text[:200]
            out.append(Outcome(r, status, seconds, body))

    async with httpx.AsyncClient(base_url=base, timeout=timeout, limits=limits) as http:
        await asyncio.gather(*(worker(http) for _ in range(concurrency)))
    return out


def refused_bodies(valid_body: bytes, n: int) -> list[Req]:
    """`n` open bodies refused only by judging them (they read as JSON and reach the validator):
    alternately a forged sendQuote signature and a rule broken (maxUses not a number)."""
    bad = bad_requests(random.Random(0), valid_body)
    forged = next(r for r in bad if r.kind == "bad:forged-signature")
    broken = json.loads(valid_body)
    broken["sendQuote"]["signedOperation"]["maxUses"] = "x"
    rules = Req("bad:rules", "POST", OPEN, json.dumps(broken).encode())
    return [forged if i % 2 == 0 else rules for i in range(n)]


async def _run_during(
    base: str, opens: list[Req], refused: list[Req], clients: int, timeout: float
) -> tuple[list[Outcome], float, list[Outcome]]:
    """`clients` clients post `opens`; meanwhile `clients` others post `refused` bodies in turn
    until the opens are all answered. The opens' outcomes and wall time, and the refusals'."""
    open_queue: asyncio.Queue[Req] = asyncio.Queue()
    for r in opens:
        open_queue.put_nowait(r)
    opened: list[Outcome] = []
    refusals: list[Outcome] = []
    done = asyncio.Event()
    limits = httpx.Limits(max_connections=2 * clients, max_keepalive_connections=2 * clients)

    async def post(http: httpx.AsyncClient, r: Req) -> Outcome:
        start = time.perf_counter()
        try:
            response = await http.request(r.method, r.path, content=r.content, headers=r.headers)
            status = response.status_code
        except httpx.HTTPError:
            status = -1
        return Outcome(r, status, time.perf_counter() - start)

    async def opener(http: httpx.AsyncClient) -> None:
        while not open_queue.empty():
            opened.append(await post(http, open_queue.get_nowait()))

    async def refuser(http: httpx.AsyncClient, k: int) -> None:
        i = k
        while not done.is_set():
            refusals.append(await post(http, refused[i % len(refused)]))
            i += clients

    async with httpx.AsyncClient(base_url=base, timeout=timeout, limits=limits) as http:
        refusers = [asyncio.create_task(refuser(http, k)) for k in range(clients)]
        start = time.perf_counter()
        await asyncio.gather(*(opener(http) for _ in range(clients)))
        seconds = time.perf_counter() - start
        done.set()
        await asyncio.gather(*refusers)
    return opened, seconds, refusals


def run_during(
    base: str, opens: list[Req], refused: list[Req], clients: int = 4, timeout: float = 60
) -> tuple[list[Outcome], float, list[Outcome]]:
    """Opens by `clients` clients while `clients` others send refused bodies (`refused`, in
    turn) until the last open is answered: the opens' outcomes and wall time, and every
    refusal's outcome (its latency is what a refused client waits while opens run)."""
    with frozen_heap():
        return asyncio.run(_run_during(base, opens, refused, clients, timeout))


def run(
    base: str, reqs: list[Req], concurrency: int = 8, timeout: float = 60
) -> tuple[list[Outcome], float]:
    """Send every request through `concurrency` clients; the outcomes and the wall time."""
    with frozen_heap():
        start = time.perf_counter()
        outcomes = asyncio.run(_run(base, reqs, concurrency, timeout))
        return outcomes, time.perf_counter() - start


def rpc_requests_of_opens(backend: Backend, bodies: list[bytes]) -> Counter[str]:
    """The JSON-RPC requests, by method, the solver sends its node while it executes `bodies`,
    posted one at a time through its HTTP route in process (the handler `serve` runs). The
    backend's chain must be on `node_web3` (anvil), whose provider counts them; an open that is
    not accepted is an error naming its answer."""
    provider = backend.chain.w3.provider
    if not isinstance(provider, NodeProvider):
        raise HarnessError(f"the backend's provider {provider!r} counts no requests (node_web3)")
    with in_process_client(Services(backend), timeout=60) as http:
        before = Counter(provider.requests)
        for body in bodies:
            got = http.post(OPEN, content=body, headers=JSON)
            if got.status_code != 200:
                raise HarnessError(f"an open was not accepted: {got.status_code} {got.text}")
        sent = Counter(provider.requests)
    sent.subtract(before)
    return +sent


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def positions_with_orders(
    base: str, context: Context, users: list[tuple[LocalKey, str]], orders_per_position: int
) -> int:
    """One open per user, then `orders_per_position` take-profits of 0.001 on it (all fired by
    one move of the mark to 68300.0). Returns the number of orders stored."""
    stored = 0
    with httpx.Client(base_url=base, timeout=60) as http:
        for (session, sub), body in zip(users, open_bodies(context, users, 1), strict=True):
            temp = http.post(OPEN, content=body, headers=JSON).json()["temp_quote_id"]
            status = http.get(f"/solver/api/temp_quote_status/{temp}").json()
            for _ in range(orders_per_position):
                order = flow.build_tpsl(
                    context.tpsl_domain(),
                    session,
                    sub_account=sub,
                    virtual_account=status["party_a_account"],
                    affiliate=context.affiliate,
                    quote_id=status["quote_id"],
                    symbol=context.symbols[0],
                    side="long",
                    quantity=Decimal("0.001"),
                    mark_price=Decimal("65000.5"),
                    take_profit=Decimal("68250.5"),
                )
                got = http.post("/coh/api/v5/", json=wire.tpsl_to_wire(order))
                got.raise_for_status()
                stored += 1
    return stored


class SlowClients:
    """Connections that never finish their request, held open against a `serve` on loopback
    while a load runs: `heads` send a request line and one header, then a byte a second and
    never the blank line; `bodies` send whole heads announcing a 1 KiB JSON body, then a byte a
    second. Bounded: at most `heads + bodies` sockets, each for at most `hold_seconds`.
    `closed_by_server` counts the connections the server ended (its read deadlines) before the
    client gave up."""

    def __init__(
        self, host: str, port: int, *, heads: int, bodies: int, hold_seconds: float
    ) -> None:
        self.host, self.port = host, port
        self.heads, self.bodies, self.hold_seconds = heads, bodies, hold_seconds
        self.closed_by_server = 0
        self.answered: list[int] = []  # statuses the server sent before closing (408 ...)
        self._thread: Any = None

    def __enter__(self) -> SlowClients:
        import threading

        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._thread is not None:
            self._thread.join(self.hold_seconds + 5)

    def _run(self) -> None:
        import selectors
        import socket

        sel = selectors.DefaultSelector()
        socks = []
        for i in range(self.heads + self.bodies):
            s = socket.create_connection((self.host, self.port), timeout=5)
            s.setblocking(False)
            if i < self.heads:
                s.sendall(b"POST /solver/api/instant_trade/instant_open HTTP/1.1\r\nHost: x\r\n")
            else:
                s.sendall(
                    b"POST /solver/api/instant_trade/instant_open HTTP/1.1\r\nHost: x\r\n"
                    b"Content-Type: application/json\r\nContent-Length: 1024\r\n\r\n{"
                )
            sel.register(s, selectors.EVENT_READ)
            socks.append(s)
        open_socks = set(socks)
        deadline = time.monotonic() + self.hold_seconds
        while open_socks and time.monotonic() < deadline:
            for key, _ in sel.select(timeout=1.0):
                sock = key.fileobj
                try:
                    data = sock.recv(4096)  # type: ignore[union-attr]
                except OSError:
                    data = b""
                if data.startswith(b"HTTP/1.1 "):
                    self.answered.append(int(data[9:12]))
                    data = b""  # an answer ends the request: the server closes after it
                if not data:
                    self.closed_by_server += 1
                    sel.unregister(sock)
                    open_socks.discard(sock)  # type: ignore[arg-type]
                    sock.close()  # type: ignore[union-attr]
            for sock in list(open_socks):  # one more byte from each still held
                try:
                    sock.send(b" ")
                except OSError:
                    sel.unregister(sock)
                    open_socks.discard(sock)
                    self.closed_by_server += 1
                    sock.close()
        for sock in open_socks:
            sock.close()
