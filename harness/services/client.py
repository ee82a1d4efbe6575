"""Clients for the mock (or any v0.8.5) solver and COH over httpx, sync and async, at most once.

Pass a base URL (`http://127.0.0.1:PORT/solver`), or an `httpx.Client` / `httpx.AsyncClient`
that already knows how to reach the app (Starlette's `TestClient(app)` runs the ASGI app
in-process; `httpx.ASGITransport(app)` does for the async client). Bodies are sent in the
canonical wire form (`harness.wire`); a refusal raises `ServiceError` carrying the service's
published `{code, error_message, error_detail}` (plus the mock's category and rule IDs). Replies
are read with JSON numbers as `Decimal` (the COH's amounts), never float; the mock's harness
headers (`published`: warnings, information, tx hash) are returned next to the published body.

At most once. Reads (GETs, the COH search) are retried on transport errors, 429 and 503,
honouring `Retry-After`, at most `Retry.attempts` times and `Retry.max_wait` seconds each.
A submission (open, close, TP/SL, cancel, and the mock's state changes such as
`set_mock_price`) is retried only when it certainly did not execute:
429/503 (refused before execution) or a connection that never opened. After an AMBIGUOUS failure
(a timeout after sending, a dropped connection, a 5xx other than 503) it is never re-posted:
the client reconciles instead (the InstantLayer's `operationUsageCount` of each operation
digest through the `usage_count` read you pass; the COH's search, matching the order's virtual
account, quote, legs and trigger prices, or the cancelled order's id and leg, AND the row's
signer and signed digest, which only the mock's `X-Symmio-Harness-Identity` header shows: a
real COH's published row cannot prove which request it came from, so there it is unknown) and
returns
`Reconciled` when the submission executed, or raises `AmbiguousSubmission` carrying the digests
or salts when it cannot tell (it may still execute: poll, never rebuild with new salts).

The protocol (retries, reconciliation by identity) is written once, free of I/O, in
`at_most_once`; the classes here only perform its effects, blocking or with `await`.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any, TypeVar

import httpx

from ..model import CancelConditionalOrder, Domain, InstantClose, InstantOpen, TpslRequest
from ..pricing import LockedParamsPct
from ..primitives import to_hex
from . import at_most_once as core
from .at_most_once import (
    CloseAccepted,
    OpenAccepted,
    Reconciled,
    Retry,
)
from .at_most_once import delete_body as _delete_body

UsageCount = Callable[[bytes], int] | Callable[[bytes], Awaitable[int]]
T = TypeVar("T")

__all__ = [
    "AsyncCohClient",
    "AsyncSolverClient",
    "CohClient",
    "SolverClient",
    "UsageCount",
    "served_usage_count",
]
_delete_body = _delete_body  # the DELETE body a cancel sends (tests compare the mock's reader)


# ------------------------------------------------------------------------------ sync


class _Base:
    """The blocking shell: performs the protocol's effects with `httpx.Client`."""

    usage_count: Callable[[bytes], int] | None = None

    def __init__(
        self,
        base_url: str,
        *,
        client: httpx.Client | None = None,
        timeout: float = 10.0,
        retry: Retry | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._own = client is None
        self.http = client if client is not None else httpx.Client(timeout=timeout)
        self.retry = retry or Retry()
        self.headers = dict(headers or {})
        self.sleep: Callable[[float], None] = time.sleep

    def close(self) -> None:
        if self._own:
            self.http.close()

    def __enter__(self) -> _Base:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run(self, flow: core.Flow[T]) -> T:
        answer: Any = None
        while True:
            try:
                effect = flow.send(answer)
            except StopIteration as done:
                return done.value
            answer = self._perform(effect)

    def _perform(self, effect: core.Effect) -> Any:
        if isinstance(effect, core.Send):
            try:
                return self.http.request(
                    effect.method, effect.url, headers=effect.headers, **effect.options
                )
            except httpx.HTTPError as exc:
                return exc
        if isinstance(effect, core.Sleep):
            return self.sleep(effect.seconds)
        assert self.usage_count is not None, "the flow reads usage only when a read was given"
        return self.usage_count(effect.digest)

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        """A read: retried within the bounds; ServiceError otherwise."""
        return self._run(core.read(self, method, path, **kwargs))


class SolverClient(_Base):
    """The solver's endpoints (base URL without `/api`). `client=` takes an `httpx.Client` that
    already reaches the app (e.g. `harness.services.server.in_process_client(services)`: the
    ASGI app in this process, no socket, honouring its read timeout as a socket does); without
    it the client opens its own with `timeout` seconds. `usage_count(digest) -> int` reads the
    InstantLayer's `operationUsageCount` (e.g. `System.usage_count`, or a web3 view) and makes
    reconciliation possible; `domain` is the InstantLayer domain (fetched from
    `/api/instant_trade/eip712-config` when not given)."""

    def __init__(
        self,
        base_url: str,
        *,
        usage_count: Callable[[bytes], int] | None = None,
        domain: Domain | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(base_url, **kwargs)
        self.usage_count = usage_count
        self.domain = domain

    def instant_open(self, body: InstantOpen | dict[str, Any]) -> OpenAccepted | Reconciled:
        return self._run(core.instant_open(self, body))

    def instant_close(
        self, body: InstantClose | list[Any] | dict[str, Any]
    ) -> CloseAccepted | Reconciled:
        return self._run(core.instant_close(self, body))

    def locked_params(self, symbol_name: str, leverage: int) -> LockedParamsPct:
        got = self._request(
            "GET", f"/api/get_locked_params/{symbol_name}", params={"leverage": str(leverage)}
        )
        return LockedParamsPct.from_response(got)

    def contract_symbols(self) -> list[dict[str, Any]]:
        return self._request("GET", "/api/contract-symbols")["symbols"]

    def eip712_config(self) -> dict[str, Any]:
        return self._request("GET", core.EIP712_CONFIG_PATH)

    def instant_quote_id(self, temp_quote_id: int) -> int | None:
        return self._request("GET", f"/api/instant_quote_id/{temp_quote_id}").get("quote_id")

    def temp_quote_status(self, temp_quote_id: int) -> dict[str, Any]:
        return self._request("GET", f"/api/temp_quote_status/{temp_quote_id}")

    def temp_quote_tx_hash(self, temp_quote_id: int) -> str | None:
        """The open's transaction (the mock's `X-Symmio-Harness-Tx-Hash` header)."""
        path = f"/api/temp_quote_status/{temp_quote_id}"
        step = self._run(core.exchange(self, "GET", path, submission=False))
        return core.noted(step.headers)["tx_hash"]

    def error_codes(self) -> dict[str, str]:
        """`{code: message}` (the published map)."""
        return self._request("GET", "/api/error_codes")

    def error_codes_detailed(self) -> list[dict[str, Any]]:
        """`[{code, message, category, http_status}]`."""
        return self._request("GET", "/api/error_codes/detailed")


class CohClient(_Base):
    """The conditional-order handler's endpoints (base URL without `/api/v5`). `client=` takes
    an `httpx.Client` that already reaches the app (e.g. `server.in_process_client(services)`,
    which honours its read timeout as a socket does); without it the client opens its own."""

    def __init__(self, base_url: str, *, app_name: str = "symmio-harness", **kwargs: Any) -> None:
        super().__init__(base_url, **kwargs)
        self.app_name = app_name
        self.headers.setdefault("App-Name", app_name)

    def signing_spec(self) -> Domain:
        """The ConditionalOrder domain the COH serves (a client must sign with it)."""
        return core.read_domain(self._request("GET", "/api/v5/signing-spec"))

    def submit(self, request: TpslRequest | dict[str, Any]) -> str:
        """Store a TP/SL order; its coh_quote_id, a "coh…" string. After an ambiguous failure
        it is never re-sent: it is found through the search only if a row is proven to be this
        signed order (signer and digest), else AmbiguousSubmission with the rows seen."""
        return self._run(core.submit(self, request))

    def cancel(
        self, domain: Domain, message: CancelConditionalOrder, signature: bytes, signer: str
    ) -> str:
        """DELETE /api/v5/ with the signed CancelConditionalOrder; the cancelled order's
        "coh<N>" id. After an ambiguous failure it is never re-sent: the VA's orders of that
        leg are searched for the order in state "canceled" BY THIS CANCEL (its signer and
        digest), else AmbiguousSubmission with the rows seen."""
        return self._run(core.cancel(self, domain, message, signature, signer))

    def search(self, **query: Any) -> list[dict[str, Any]]:
        return self._run(core.search(self, query)).rows

    def configs(self) -> dict[str, Any]:
        return self._request("GET", "/api/v5/configs/")

    def set_mock_price(self, symbol_id: int, price: Decimal | str) -> dict[str, Any]:
        """Move the mark (`POST /mock/price`): a state change, sent at most once (429/503 and a
        connection never opened are retried; after an ambiguous failure AmbiguousSubmission,
        whose `request` is the move). Returns the reply with the orders the move `triggered`."""
        return self._run(core.set_mock_price(self, symbol_id, price))


def served_usage_count(base_url: str, timeout: float = 10.0) -> Callable[[bytes], int]:
    """A `usage_count` read through the mock's `GET /mock/operation_usage/{digest}` (for
    `serve`, whose chain lives in another process); against a real chain use a web3 view of
    `operationUsageCount` instead. Each read is retried within the default bounds."""

    def usage_count(digest: bytes) -> int:
        with _Base(base_url.rstrip("/"), timeout=timeout) as reader:
            got = reader._request("GET", f"/mock/operation_usage/{to_hex(digest)}")
        return int(got["usage_count"])

    return usage_count


# ------------------------------------------------------------------------------ async


class _AsyncBase:
    """The async shell: performs the same protocol's effects with `httpx.AsyncClient`."""

    usage_count: UsageCount | None = None

    def __init__(
        self,
        base_url: str,
        *,
        client: httpx.AsyncClient | None = None,
        timeout: float = 10.0,
        retry: Retry | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._own = client is None
        self.http = client if client is not None else httpx.AsyncClient(timeout=timeout)
        self.retry = retry or Retry()
        self.headers = dict(headers or {})
        self.sleep: Callable[[float], Awaitable[None]] = asyncio.sleep

    async def aclose(self) -> None:
        if self._own:
            await self.http.aclose()

    async def __aenter__(self) -> _AsyncBase:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _run(self, flow: core.Flow[T]) -> T:
        answer: Any = None
        while True:
            try:
                effect = flow.send(answer)
            except StopIteration as done:
                return done.value
            answer = await self._perform(effect)

    async def _perform(self, effect: core.Effect) -> Any:
        if isinstance(effect, core.Send):
            try:
                return await self.http.request(
                    effect.method, effect.url, headers=effect.headers, **effect.options
                )
            except httpx.HTTPError as exc:
                return exc
        if isinstance(effect, core.Sleep):
            return await self.sleep(effect.seconds)
        assert self.usage_count is not None, "the flow reads usage only when a read was given"
        got = self.usage_count(effect.digest)
        return await got if inspect.isawaitable(got) else got

    async def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        return await self._run(core.read(self, method, path, **kwargs))


class AsyncSolverClient(_AsyncBase):
    """`SolverClient` on `httpx.AsyncClient`; `usage_count` may be sync or async."""

    def __init__(
        self,
        base_url: str,
        *,
        usage_count: UsageCount | None = None,
        domain: Domain | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(base_url, **kwargs)
        self.usage_count = usage_count
        self.domain = domain

    async def instant_open(self, body: InstantOpen | dict[str, Any]) -> OpenAccepted | Reconciled:
        return await self._run(core.instant_open(self, body))

    async def instant_close(
        self, body: InstantClose | list[Any] | dict[str, Any]
    ) -> CloseAccepted | Reconciled:
        return await self._run(core.instant_close(self, body))

    async def eip712_config(self) -> dict[str, Any]:
        return await self._request("GET", core.EIP712_CONFIG_PATH)

    async def contract_symbols(self) -> list[dict[str, Any]]:
        return (await self._request("GET", "/api/contract-symbols"))["symbols"]

    async def locked_params(self, symbol_name: str, leverage: int) -> LockedParamsPct:
        got = await self._request(
            "GET", f"/api/get_locked_params/{symbol_name}", params={"leverage": str(leverage)}
        )
        return LockedParamsPct.from_response(got)

    async def temp_quote_status(self, temp_quote_id: int) -> dict[str, Any]:
        return await self._request("GET", f"/api/temp_quote_status/{temp_quote_id}")

    async def instant_quote_id(self, temp_quote_id: int) -> int | None:
        got = await self._request("GET", f"/api/instant_quote_id/{temp_quote_id}")
        return got.get("quote_id")

    async def error_codes(self) -> dict[str, str]:
        return await self._request("GET", "/api/error_codes")

    async def error_codes_detailed(self) -> list[dict[str, Any]]:
        return await self._request("GET", "/api/error_codes/detailed")


class AsyncCohClient(_AsyncBase):
    """`CohClient` on `httpx.AsyncClient`."""

    def __init__(self, base_url: str, *, app_name: str = "symmio-harness", **kwargs: Any) -> None:
        super().__init__(base_url, **kwargs)
        self.app_name = app_name
        self.headers.setdefault("App-Name", app_name)

    async def signing_spec(self) -> Domain:
        return core.read_domain(await self._request("GET", "/api/v5/signing-spec"))

    async def submit(self, request: TpslRequest | dict[str, Any]) -> str:
        """`CohClient.submit`."""
        return await self._run(core.submit(self, request))

    async def cancel(
        self, domain: Domain, message: CancelConditionalOrder, signature: bytes, signer: str
    ) -> str:
        """`CohClient.cancel`."""
        return await self._run(core.cancel(self, domain, message, signature, signer))

    async def search(self, **query: Any) -> list[dict[str, Any]]:
        return (await self._run(core.search(self, query))).rows

    async def configs(self) -> dict[str, Any]:
        return await self._request("GET", "/api/v5/configs/")

    async def set_mock_price(self, symbol_id: int, price: Decimal | str) -> dict[str, Any]:
        """`CohClient.set_mock_price`: a state change, sent at most once."""
        return await self._run(core.set_mock_price(self, symbol_id, price))
