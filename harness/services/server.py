"""Both mock services in one ASGI app, and `serve`: that app on a loopback uvicorn server.

Layout of the root app (every frontend points its own base URLs at it):
- `/solver` : the solver's base URL (endpoints under `/solver/api/...`, websocket at
  `/solver/api/ws/notifications`); on a Rasa profile (`Services(profile=...)`, `serve
  --deployment base`) Rasa's routes there instead (harness.services.rasa);
- `/coh`    : the conditional-order handler's base URL (`/coh/api/v5/...`, `/coh/mock/price`);
  absent where the profile has no COH;
- `/prices` : the price service's base URL (`/prices/api/v1/price`, `/prices/api/v1/prices/{names}`,
  the mark-price websocket `/prices/ws`; harness.services.prices);
- `/gasless` : on a deployment with a GaslessLayer (v0.8.6) only, the mock gasless relay
  (harness.services.gasless: `/gasless/operations/gateway/relay-instant`,
  `/gasless/operations/{request_id}`);
- `GET /context`       : the context file of this deployment, as `validate --context` reads it,
  plus `collateral`, `tpsl_bot`, `test_accounts`, `price_url`, `price_ws_url` (under the host the
  client reached; on v0.8.6 `gasless_url` too), on a profile other than local
  `contracts_version` and `deployment` (the profile served: its name, solver kind, notification
  protocol, price feed and their URLs; `coh` null when it has none) and (on anvil) `rpc_url`;
  `?owner=0x…` adds that owner's `sub_account`, `session_key` and, once a position exists,
  `virtual_account`;
- `GET /abi/{AccountLayer,InstantLayer,SymmioCore,ERC20}` : the contracts' ABIs;
- `GET /openapi.json`  : the mock's OpenAPI 3.1 document (`harness.services.openapi`), its
  published routes citing what the real services publish;
- `POST /mock/onboard` : `{"session_key": "0x…"}` runs steps 1-5 for a fresh user EOA (generated
  here, never shown) and delegates to that session key and the TP/SL bot, so a frontend that holds
  only a session key can open, close and set TP/SL.

Every route answers CORS (loopback origins by default) and, when `serve` logs, gets one log line;
a websocket on a path nothing serves is refused with HTTP 404 at the handshake.
`serve --chain anvil` starts a real anvil node (harness.anvil), deploys on it, prints its JSON-RPC
URL and funded test accounts, and stops it with the server.
"""

from __future__ import annotations

import asyncio
import gc
import ipaddress
import json
import logging
import socket
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

from .. import artifacts, deployments
from ..chain import surface
from ..chain.child import start_child_chain
from ..context import ServedDeployment
from ..deployments import PriceFeed, Profile, SolverKind
from ..errors import HarnessError, InputError
from ..protocol import V0_8_5, Protocol
from ..wire import Reader
from . import openapi
from .backend import Backend, embedded_backend, rpc_backend
from .binance import MARK_PRICE_WS_PATH, BinanceMarkPrices
from .coh import ConditionalOrders, coh_app
from .edge import AccessLog, cors, on_shutdown, refuse_unknown_websockets
from .errors import BAD_PARAMETER, ServiceRefusal
from .faults import read_fault
from .gasless import PREFIX as GASLESS_PREFIX
from .gasless import GaslessRelay, gasless_url
from .plumbing import MAX_BODY_BYTES, NO_ROUTE_HANDLERS, guarded, read_json
from .prices import DEFAULT_TICK_SECONDS, PRICE_WS_PATH, PriceService
from .rasa import POSITION_STATE_WS, RasaSolver, rasa_app
from .solver import NOTIFICATIONS_PATH, Solver, solver_app

log = logging.getLogger("harness.services")

SOLVER_PREFIX = "/solver"
COH_PREFIX = "/coh"
PRICE_PREFIX = "/prices"


def _ws(base: str) -> str:
    return "ws" + base[4:] if base.startswith("http") else base  # http -> ws, https -> wss


def price_urls(base: str, ws_path: str = PRICE_WS_PATH) -> dict[str, str]:
    """`price_url` (the price service's base URL) and `price_ws_url` (its websocket, at
    `ws_path`: the profile's feed) of a server reached at `base` (`http://host:port`)."""
    base = base.rstrip("/")
    return {
        "price_url": f"{base}{PRICE_PREFIX}",
        "price_ws_url": f"{_ws(base)}{PRICE_PREFIX}{ws_path}",
    }


def served_deployment(profile: Profile, base: str) -> ServedDeployment:
    """`/context`'s `deployment`: the profile's kinds and its services' URLs under `base`."""
    base = base.rstrip("/")
    solver_url = f"{base}{SOLVER_PREFIX}/api"
    notify = POSITION_STATE_WS if profile.solver is SolverKind.RASA else NOTIFICATIONS_PATH
    return ServedDeployment(
        name=profile.name,
        solver_kind=profile.solver.value,
        solver_url=solver_url,
        notifications_protocol=profile.notifications.value,
        notifications_url=f"{_ws(base)}{SOLVER_PREFIX}{notify}",
        price_feed=profile.prices.value,
        coh_url=None if profile.coh is None else f"{base}{COH_PREFIX}",
    )


#: GET /abi/{name}: the served name -> our compiled artifact
def abi_names(generation: type[Protocol]) -> dict[str, str]:
    """`GET /abi/{name}`: the served name -> the deployed mock's artifact, for a generation
    (v0.8.6: its own InstantLayer, AccountLayer and core, and the GaslessLayer)."""
    n = surface.names(generation)
    served = {
        "AccountLayer": n.account_layer,
        "InstantLayer": n.instant_layer,
        "SymmioCore": n.symmio_core,
        "ERC20": "MockERC20",
    }
    if n.gasless_layer is not None:
        served["GaslessLayer"] = n.gasless_layer
    return served


#: the ABIs a v0.8.5 deployment serves
ABI_NAMES = abi_names(V0_8_5)


def profile_fields(profile: Profile, base: str) -> dict[str, Any]:
    """The context fields that name the profile (`GET /context` and the banner's context file
    give the same): its contracts version and `deployment`. None for the local profile: its
    context stays the one `serve` always gave (and `schemas/context.schema.json` describes)."""
    if profile is deployments.LOCAL:
        return {}
    return {
        "contracts_version": profile.generation.version,
        "deployment": served_deployment(profile, base),
    }


class Services:
    """The solver, the COH and the price service over one backend, and the ASGI app serving them
    (`app`: CORS for `cors_origins`, default loopback; one line per request to `access_log` when
    given; the price websocket pushes a snapshot every `price_tick_seconds` besides each move).

    `profile` (issue 18; default `deployments.LOCAL`, the services as they always were) picks
    the solver kind mounted at `/solver` (Enigma, or Rasa: `harness.services.rasa`), the COH at
    `/coh` (none where the profile has none: its routes are no routes) and the price feed at
    `/prices` (Enigma's price service, or the Binance-style feed: `harness.services.binance`)."""

    def __init__(
        self,
        backend: Backend,
        *,
        profile: Profile = deployments.LOCAL,
        cors_origins: list[str] | None = None,
        access_log: Callable[[str], None] | None = None,
        price_tick_seconds: float = DEFAULT_TICK_SECONDS,
    ) -> None:
        self.profile = profile
        self.backend = backend
        self.solver = Solver(backend)
        mounts: list[Mount] = []
        if profile.solver is SolverKind.RASA:
            mounts.append(Mount(SOLVER_PREFIX, app=rasa_app(RasaSolver(self.solver))))
        else:
            mounts.append(Mount(SOLVER_PREFIX, app=solver_app(self.solver)))
        self.coh: ConditionalOrders | None = None
        if profile.coh is not None:
            if profile.coh.wallet is not None:  # a real deployment's COH: its own domain
                backend.serve_coh_domain(profile.coh.domain_name, profile.coh.domain_version)
            self.coh = ConditionalOrders(backend)
            mounts.append(Mount(COH_PREFIX, app=coh_app(self.coh)))
        feed = BinanceMarkPrices if profile.prices is PriceFeed.BINANCE else PriceService
        self.prices = feed(backend, tick_seconds=price_tick_seconds)
        self.price_ws_path = (
            MARK_PRICE_WS_PATH if profile.prices is PriceFeed.BINANCE else PRICE_WS_PATH
        )
        mounts.append(Mount(PRICE_PREFIX, app=self.prices.app))
        #: the mock gasless relay, on a deployment with a GaslessLayer only (v0.8.6)
        self.gasless = GaslessRelay(backend) if backend.system.gasless_layer is not None else None
        if self.gasless is not None:
            mounts.append(Mount(GASLESS_PREFIX, app=self.gasless.app))
        self.router = Starlette(
            routes=[
                *mounts,
                Route("/context", self.http_context),
                Route("/abi/{name}", self.http_abi),
                Route("/openapi.json", self.http_openapi),
                Route("/mock/onboard", self.http_onboard, methods=["POST"]),
                Route("/mock/faults", self.http_faults, methods=["POST", "GET", "DELETE"]),
                Route("/mock/operation_usage/{digest}", self.http_operation_usage),
            ],
            exception_handlers=NO_ROUTE_HANDLERS,
        )
        refuse_unknown_websockets(self.router)
        self.app = AccessLog(cors(self.router, cors_origins), access_log)
        self._openapi = openapi.document(profile)

    @guarded
    async def http_context(self, request: Request) -> JSONResponse:
        raw = request.query_params.get("owner")
        owner = None
        if raw is not None:
            r = Reader()
            owner = r.address(raw, "owner")
            if owner is None or r.problems:
                raise ServiceRefusal(BAD_PARAMETER, "; ".join(str(p) for p in r.problems))
        base = str(request.base_url)  # where this client reached us
        urls = price_urls(base, self.price_ws_path)
        if self.gasless is not None:
            urls["gasless_url"] = gasless_url(base)
        context = await self.backend.run(lambda: self.backend.context_json(owner, **urls))
        named = profile_fields(self.profile, base)
        if named:
            context["contracts_version"] = named["contracts_version"]
            context["deployment"] = named["deployment"].to_json()
        return JSONResponse(context)

    @guarded
    async def http_abi(self, request: Request) -> JSONResponse:
        name = request.path_params["name"]
        served = abi_names(self.backend.system.generation)
        if name not in served:
            known = ", ".join(served)
            raise ServiceRefusal(BAD_PARAMETER, f"name: no ABI {name!r} (served: {known})")
        return JSONResponse(artifacts.abi(served[name]))

    @guarded
    async def http_openapi(self, request: Request) -> JSONResponse:
        return JSONResponse(self._openapi)

    @guarded
    async def http_onboard(self, request: Request) -> JSONResponse:
        body = await read_json(request)
        r = Reader()
        obj = r.object(body, "", ("session_key",))
        key = r.address(obj["session_key"], "session_key") if obj is not None else None
        if r.problems or key is None:
            raise ServiceRefusal(BAD_PARAMETER, "; ".join(str(p) for p in r.problems))
        try:
            done = await self.backend.run(lambda: self.backend.onboard(key))
        except InputError as exc:  # an address that cannot be a session key, named
            raise ServiceRefusal(BAD_PARAMETER, str(exc)) from None
        return JSONResponse(
            {
                "user": done.user,
                "sub_account": done.sub_account,
                "session_key": done.session_key,
                "tpsl_bot": done.tpsl_bot,
                "expiry": done.expiry,
            }
        )

    @guarded
    async def http_faults(self, request: Request) -> JSONResponse:
        """POST arms `{"route", "fault", "count"}`; GET lists what is armed, what fired and the
        requests seen; DELETE resets all of it (armed faults and history)."""
        faults = self.backend.faults
        if request.method == "POST":
            route, armed = read_fault(await read_json(request))
            faults.arm(route, armed)
        elif request.method == "DELETE":
            faults.clear()
        return JSONResponse(faults.describe())

    @guarded
    async def http_operation_usage(self, request: Request) -> JSONResponse:
        """The InstantLayer's operationUsageCount of a digest (a chain read, for clients that
        reconcile against a served chain: `client.served_usage_count`)."""
        raw = request.path_params["digest"]
        r = Reader()
        digest = r.hex_bytes(raw, "digest", 32)
        if digest is None or r.problems:
            raise ServiceRefusal(BAD_PARAMETER, "digest: expected 0x and 64 hex digits")
        count = await self.backend.run(lambda: self.backend.system.usage_count(digest))
        return JSONResponse({"digest": raw, "usage_count": count})


IN_PROCESS_BASE = "http://services.local"


def in_process_client(services: Services, timeout: float = 10.0) -> Any:
    """An `httpx.Client` that runs the ASGI app in this process, no socket (Starlette's
    TestClient; also opens the websocket). Use it as a context manager. Like a socket it honours
    the read `timeout`: an answer that takes longer raises `httpx.ReadTimeout` while the app,
    having accepted the request, runs on, so a client sees `timeout_after_accept` as it would
    over a socket (ambiguous, then reconciled), never as a plain success."""
    import queue
    import threading

    import httpx

    with warnings.catch_warnings():  # Starlette 1.x nudges towards httpx2; httpx 0.28 is pinned
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient

    class InProcessClient(TestClient):
        #: seconds the client waits, when it is closed, for answers still running in the app
        DRAIN_SECONDS = 40.0

        def __init__(self, app: Any, **kwargs: Any) -> None:
            super().__init__(app, **kwargs)
            self._running: list[threading.Thread] = []

        def request(self, method: str, url: Any, **kwargs: Any) -> Any:  # type: ignore[override]
            limit = self.timeout.read
            call = super().request
            if limit is None:
                return call(method, url, **kwargs)
            answers: queue.Queue[tuple[bool, Any]] = queue.Queue(1)

            def run() -> None:
                try:
                    answers.put((True, call(method, url, **kwargs)))
                except BaseException as exc:  # handed to the caller's thread
                    answers.put((False, exc))

            worker = threading.Thread(target=run, name="in-process request", daemon=True)
            self._running = [t for t in self._running if t.is_alive()] + [worker]
            worker.start()
            try:
                ok, got = answers.get(timeout=limit)
            except queue.Empty:
                raise httpx.ReadTimeout(
                    f"no answer within {limit:g} s (the app accepted the request and runs on)",
                    request=self.build_request(method, url),
                ) from None
            if not ok:
                raise got
            return got

        def __exit__(self, *exc: Any) -> None:
            for worker in self._running:  # let accepted requests finish before the app stops
                worker.join(self.DRAIN_SECONDS)
            super().__exit__(*exc)

    client = InProcessClient(services.app, base_url=IN_PROCESS_BASE)
    client.timeout = httpx.Timeout(timeout)
    return client


# ------------------------------------------------------------------------------ serve


class NotLoopback(HarnessError):
    pass


def require_loopback(host: str, allow_non_loopback: bool) -> None:
    if allow_non_loopback or host == "localhost":
        return
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise NotLoopback(
            f"--host {host}: not a loopback address; the mock services hold test keys and "
            "accept anything signed, so they listen on 127.0.0.1 unless --allow-non-loopback"
        )


@dataclass(frozen=True)
class Listening:
    host: str
    port: int

    @property
    def base(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"


def banner(services: Services, where: Listening, node: Any = None) -> list[str]:
    base = where.base
    backend = services.backend
    profile = services.profile
    ctx = backend.context
    chain = "anvil" if node is not None else "the embedded chain"
    urls = price_urls(base, services.price_ws_path)
    if services.gasless is not None:
        urls["gasless_url"] = gasless_url(base)
    served = served_deployment(profile, base)
    rasa = profile.solver is SolverKind.RASA
    routes = "/api/instant_trade/open" if rasa else "/api/instant_trade/instant_open"
    prices = "/fapi/v1/premiumIndex" if profile.prices is PriceFeed.BINANCE else "/api/v1/price"
    lines = [
        f"mock services on {chain} (chain id {ctx.chain_id}), listening on {base}",
        f"deployment profile:     {profile.name} ({profile.title}); contracts "
        f"v{profile.generation.version}; solver {profile.solver.value}",
    ]
    if backend.rpc_url is not None:
        lines.append(f"JSON-RPC URL: {backend.rpc_url}")
    lines.append(f"solver base URL:        {base}{SOLVER_PREFIX}  ({routes}, ...)")
    if services.coh is not None:
        lines.append(
            f"TP/SL (COH) base URL:   {base}{COH_PREFIX}  (/api/v5/signing-spec, /api/v5/, ...)"
        )
    else:
        lines.append("TP/SL (COH):            none on this deployment")
    lines += [
        f"notifications:          {served.notifications_url}  ({profile.notifications.value})",
        f"price service base URL: {urls['price_url']}  ({prices}, ...)",
        f"price websocket:        {urls['price_ws_url']}",
    ]
    if services.coh is not None:
        lines.append(
            f"mock price:             POST {base}{COH_PREFIX}/mock/price "
            '{"symbol_id": 1, "price": "68000.0"}'
        )
    lines += [
        f'onboard a session key:  POST {base}/mock/onboard {{"session_key": "0x..."}}',
    ]
    if services.gasless is not None:
        lines.append(
            f"gasless relay base URL: {gasless_url(base)}  (/operations/gateway/relay-instant, "
            "/operations/{request_id})"
        )
    lines += [
        f"context:                GET {base}/context",
        f"OpenAPI document:       GET {base}/openapi.json",
        f"InstantLayer {ctx.instant_layer}  AccountLayer {ctx.account_layer}",
        f"SymmioCore {ctx.symmio_core}  PartyB (hedger) {ctx.hedger}",
        f"affiliate {ctx.affiliate}  TP/SL bot {services.backend.bot.address}",
        f"collateral (mUSDC) {backend.system.collateral.address}",
        f"ABIs:                   GET {base}/abi/{{AccountLayer,InstantLayer,SymmioCore,ERC20}}",
        "context file: "
        + json.dumps(
            replace(ctx, **urls, **profile_fields(profile, base)).to_json(), separators=(",", ":")
        ),
    ]
    if node is not None:
        lines += _accounts(node, backend.test_accounts)
    return lines


def _accounts(node: Any, funded: tuple[str, ...]) -> list[str]:
    """The funded test accounts and their keys, as anvil prints them. They are anvil's public
    development keys (from the published test mnemonic), holding test funds on this local chain
    only; account 0 is the deployer and solver, not listed for frontends."""
    listed = [a for a in node.accounts if a.address in funded]
    lines = [
        "",
        "Test accounts (anvil's public dev keys: test funds on this local chain only; each holds "
        "10000 ETH and 10000 mUSDC, ready for approve + deposit)",
        "Available Accounts",
        "==================",
    ]
    lines += [f"({i}) {a.address}" for i, a in enumerate(node.accounts) if a in listed]
    lines += ["", "Private Keys", "=================="]
    lines += [f"({i}) {a.private_key}" for i, a in enumerate(node.accounts) if a in listed]
    return lines


def check_port(host: str, port: int) -> None:
    """One clear line (HarnessError) for a port out of range or already taken."""
    if type(port) is not int or not 0 <= port <= 65535:
        raise NotListening(f"--port {port}: expected 0 (any free port) to 65535")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    probe = socket.socket(family, socket.SOCK_STREAM)
    try:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))
    except OSError as exc:
        raise NotListening(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    finally:
        probe.close()


class NotListening(HarnessError):
    pass


#: the interpreter's thread switch interval while serving (Python's default: 0.005 s)
SWITCH_INTERVAL_SECONDS = 0.0005
#: seconds an idle keep-alive connection is kept open after its last answer
KEEP_ALIVE_SECONDS = 5
#: seconds a request's head (request line and headers) has to arrive whole; then the
#: connection is closed (uvicorn has no such deadline of its own: `HeaderDeadlineH11`)
HEADER_READ_TIMEOUT_SECONDS = 10.0
#: connections and tasks served at once; beyond it uvicorn answers 503
MAX_CONCURRENT_CONNECTIONS = 200
#: bytes of a request head h11 buffers before refusing it
MAX_HEAD_BYTES = 64 * 1024


def _header_deadline_protocol(seconds: float) -> type:
    """uvicorn's h11 protocol with a deadline on every request head: armed when the connection
    opens and after each answer, it closes the connection unless a new request head arrived (a
    client sending half a header line and stopping is cut off); an upgraded connection (a
    websocket) is no longer this protocol's and is left alone."""
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class HeaderDeadlineH11(H11Protocol):
        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self._arm_head_deadline(None)

        def on_response_complete(self) -> None:
            answered = self.cycle  # before super() starts a pipelined request's own cycle
            super().on_response_complete()
            self._arm_head_deadline(answered)

        def _arm_head_deadline(self, cycle: Any) -> None:
            self.loop.call_later(seconds, self._head_deadline_passed, cycle)

        def _head_deadline_passed(self, cycle_then: Any) -> None:
            transport = self.transport
            if transport.is_closing() or transport.get_protocol() is not self:
                return
            if self.cycle is cycle_then:  # no new request head since the deadline was armed
                transport.close()

    return HeaderDeadlineH11


def server_config(
    app: Any, host: str, port: int, *, header_timeout: float = HEADER_READ_TIMEOUT_SECONDS
) -> Any:
    """The uvicorn configuration `serve` runs: loopback host, bounded keep-alive, a deadline on
    request heads, a cap on concurrent connections, bounded heads and websocket frames (a
    stalled body is `plumbing.read_body`'s 408)."""
    import uvicorn

    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        lifespan="on",
        http=_header_deadline_protocol(header_timeout),
        ws="websockets-sansio",
        ws_max_size=MAX_BODY_BYTES,
        h11_max_incomplete_event_size=MAX_HEAD_BYTES,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        limit_concurrency=MAX_CONCURRENT_CONNECTIONS,
    )


def serve(
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    allow_non_loopback: bool = False,
    out: Callable[[str], None] = print,
    services: Services | None = None,
    chain: str = "embedded",
    cors_origins: list[str] | None = None,
    quiet: bool = False,
    price_tick_seconds: float = DEFAULT_TICK_SECONDS,
    profile: Profile = deployments.LOCAL,
) -> None:
    """Deploy the mocks of the deployment `profile` (its contracts generation: v0.8.5 or
    v0.8.6) on a fresh chain (embedded, or a new anvil node) and serve its services until
    interrupted; anvil stops with the server (lifespan shutdown; and it dies with this
    process)."""
    import uvicorn

    if chain not in ("embedded", "anvil"):
        raise NotListening(f"--chain {chain}: expected embedded or anvil")
    # The embedded chain executes py-evm in a child process of its own (harness.chain.child), so
    # its pure-Python execution never holds this process's GIL; a shorter switch interval still
    # lets the event loop answer a refusal between the judges' and the chain worker's steps
    # rather than after them (benchmarks/bench_load.py).
    sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
    contracts = profile.generation
    require_loopback(host, allow_non_loopback)
    check_port(host, port)
    node = None
    shutdown: list[Callable[[], Any]] = []
    if services is None:
        log_line = None if quiet else out
        if chain == "anvil":
            from ..anvil import Anvil

            node = Anvil().start()
            shutdown.append(node.stop)
            try:
                funded = [a.address for a in node.accounts[1:]]
                backend = rpc_backend(node.rpc_url, funded, generation=contracts)
            except BaseException:
                node.stop()
                raise
        else:
            # py-evm runs in a child process: its execution never holds this process's GIL
            embedded, child = start_child_chain()
            shutdown.append(child.stop)
            try:
                backend = embedded_backend(generation=contracts, chain=embedded)
            except BaseException:
                child.stop()
                raise
        services = Services(
            backend,
            profile=profile,
            cors_origins=cors_origins,
            access_log=log_line,
            price_tick_seconds=price_tick_seconds,
        )
    config = server_config(on_shutdown(services.app, shutdown), host, port)
    server = uvicorn.Server(config)

    async def main() -> None:
        task = asyncio.create_task(server.serve())
        while not server.started:
            if task.done():
                await task  # startup failed (port taken...): its error surfaces here
                raise HarnessError(f"could not listen on {host}:{port}")
            await asyncio.sleep(0.02)
        sockname = server.servers[0].sockets[0].getsockname()
        for line in banner(services, Listening(host, sockname[1]), node):
            out(line)
        # What startup built (the deployment, web3's contract objects, the catalogue) lives as
        # long as the server: frozen, the collector's full passes walk only what was made since,
        # instead of stopping every request for ~50 ms over the ~110,000 objects of startup.
        gc.collect()
        gc.freeze()
        await task

    try:
        asyncio.run(main())
    finally:
        for stop in shutdown:
            stop()
