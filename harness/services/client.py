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
digest through the `usage_count` read you pass; the COH's published search, matching the order's
virtual account, quote, legs and trigger prices, or the cancelled order's id) and returns
`Reconciled` when the submission executed, or raises `AmbiguousSubmission` carrying the digests
or salts when it cannot tell (it may still execute: poll, never rebuild with new salts).
"""

from __future__ import annotations

import asyncio
import inspect
import json
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx

from .. import eip712, wire
from ..errors import HarnessError
from ..model import (
    CancelConditionalOrder,
    Domain,
    InstantClose,
    InstantOpen,
    SignedOperation,
    TpslRequest,
    parse_coh_quote_id,
)
from ..pricing import LockedParamsPct, format_decimal
from ..primitives import to_hex
from .published import (
    INFO_HEADER,
    TX_HASH_HEADER,
    WARNINGS_HEADER,
    read_harness_list,
)

UsageCount = Callable[[bytes], int] | Callable[[bytes], Awaitable[int]]


class ServiceError(HarnessError):
    """A service refused a request or could not be reached."""

    def __init__(
        self,
        message: str,
        *,
        http_status: int | None = None,
        code: int | None = None,
        category: str | None = None,
        rule_ids: list[str] | None = None,
        body: Any = None,
        retry_after: float | None = None,
    ) -> None:
        self.http_status = http_status
        self.code = code
        self.category = category
        self.rule_ids = list(rule_ids or [])
        self.body = body
        self.retry_after = retry_after
        super().__init__(message)


class AmbiguousSubmission(ServiceError):
    """A submission may or may not have executed and reconciliation could not tell. It was NOT
    re-posted. `digests` (operation digests, 0x-hex) or `salts` (TP/SL) identify it: check them
    later (`operationUsageCount`, the COH search by salt) instead of rebuilding the body."""

    def __init__(
        self,
        message: str,
        *,
        digests: tuple[str, ...] = (),
        salts: tuple[int, ...] = (),
        cause: str = "",
        **kwargs: Any,
    ) -> None:
        self.digests = digests
        self.salts = salts
        self.cause = cause
        super().__init__(message, **kwargs)


@dataclass(frozen=True)
class OpenAccepted:
    """An accepted instant_open: the published reply, and the mock's harness headers."""

    temp_quote_id: int
    party_b_mm: str
    raw: dict[str, Any] = field(repr=False, default_factory=dict)
    warnings: tuple[dict[str, str], ...] = ()
    info: tuple[dict[str, str], ...] = ()
    tx_hash: str | None = None


@dataclass(frozen=True)
class CloseAccepted:
    """An accepted instant_close: the published reply is empty; the mock's headers."""

    warnings: tuple[dict[str, str], ...] = ()
    info: tuple[dict[str, str], ...] = ()
    tx_hash: str | None = None


@dataclass(frozen=True)
class Reconciled:
    """An ambiguous submission that reconciliation shows executed (the reply was lost)."""

    kind: str  # instant_open / instant_close / tpsl / tpsl_cancel
    cause: str  # what went wrong with the reply
    digests: tuple[str, ...] = ()
    salts: tuple[int, ...] = ()
    coh_quote_id: str | None = None


@dataclass(frozen=True)
class Retry:
    """Bounded retries: `attempts` in all, each wait min(Retry-After or `backoff`, `max_wait`)."""

    attempts: int = 4
    backoff: float = 0.2
    max_wait: float = 5.0
    #: reconciliation: how many reads, `settle` seconds apart, before calling it ambiguous
    reconcile_reads: int = 3
    settle: float = 0.3


# ------------------------------------------------------------------------------ the policy


@dataclass(frozen=True)
class _Step:
    """What to do with one attempt's result: return `value`, raise `error`, or retry after
    `wait` seconds; `ambiguous` names a failure that may have executed."""

    value: Any = None
    error: ServiceError | None = None
    wait: float | None = None
    ambiguous: str | None = None
    headers: httpx.Headers | None = None


_NEVER_SENT = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.UnsupportedProtocol,
)


def _retry_after(response: httpx.Response) -> float | None:
    raw = response.headers.get("retry-after", "")
    return float(raw) if raw.isascii() and raw.isdigit() else None


def _error(method: str, url: str, response: httpx.Response, body: Any) -> ServiceError:
    retry_after = _retry_after(response)
    if isinstance(body, dict) and "error_message" in body:
        said = str(body["error_message"])
        detail = body.get("error_detail")
        if detail and detail != said:
            said = f"{said}: {detail}"
        return ServiceError(
            f"{method} {url}: {response.status_code} {said}",
            http_status=response.status_code,
            code=body.get("code"),
            category=body.get("category"),
            rule_ids=body.get("rule_ids"),
            body=body,
            retry_after=retry_after,
        )
    return ServiceError(
        f"{method} {url}: {response.status_code} {response.text[:200]}",
        http_status=response.status_code,
        body=body,
        retry_after=retry_after,
    )


def _judge(
    method: str,
    url: str,
    outcome: httpx.Response | httpx.HTTPError,
    *,
    submission: bool,
    attempt: int,
    retry: Retry,
) -> _Step:
    last = attempt + 1 >= retry.attempts
    if isinstance(outcome, httpx.HTTPError):
        text = f"{method} {url}: {outcome.__class__.__name__}: {outcome}"
        if isinstance(outcome, _NEVER_SENT) or not submission:
            if last:
                return _Step(error=ServiceError(text))
            return _Step(wait=min(retry.backoff * 2**attempt, retry.max_wait))
        return _Step(ambiguous=text)
    response = outcome
    try:
        body = json.loads(response.content, parse_float=Decimal) if response.content else None
    except ValueError:
        body = None
    if response.is_success:
        if response.content and body is None:
            if submission:
                return _Step(ambiguous=f"{method} {url}: a 2xx whose body is not JSON")
            return _Step(
                error=ServiceError(f"{method} {url}: expected JSON, got {response.text[:80]!r}")
            )
        return _Step(value=body, headers=response.headers)
    error = _error(method, url, response, body)
    if response.status_code in (429, 503):
        if last:
            return _Step(error=error)
        wait = error.retry_after if error.retry_after is not None else retry.backoff * 2**attempt
        return _Step(wait=min(wait, retry.max_wait))
    if response.status_code >= 500:
        if submission:
            return _Step(ambiguous=str(error))
        if last:
            return _Step(error=error)
        return _Step(wait=min(retry.backoff * 2**attempt, retry.max_wait))
    return _Step(error=error)


def _noted(headers: httpx.Headers | None) -> dict[str, Any]:
    h = headers if headers is not None else httpx.Headers()
    return {
        "warnings": tuple(read_harness_list(h, WARNINGS_HEADER)),
        "info": tuple(read_harness_list(h, INFO_HEADER)),
        "tx_hash": h.get(TX_HASH_HEADER),
    }


def _parse_open(step: _Step) -> OpenAccepted:
    got = step.value
    temp = got.get("temp_quote_id") if isinstance(got, dict) else None
    if type(temp) is not int or temp >= 0:
        raise ServiceError(f"instant_open: expected a negative temp_quote_id, got {got!r}")
    return OpenAccepted(temp, str(got.get("partyBmm")), got, **_noted(step.headers))


def _parse_closed(step: _Step) -> CloseAccepted:
    return CloseAccepted(**_noted(step.headers))


def _parse_stored(got: Any, what: str) -> str:
    """The order's published id (`coh_quote_id`, a "coh…" string) from a StatusResponse."""
    if not isinstance(got, dict) or got.get("successful") not in (True, "true", "True"):
        raise ServiceError(f"TP/SL not {what}: {got!r}", body=got)
    coh_id = got.get("coh_quote_id")
    if not isinstance(coh_id, str):
        raise ServiceError(f"TP/SL {what}, but the reply names no coh_quote_id: {got!r}", body=got)
    return coh_id


@dataclass(frozen=True)
class _Sought:
    """How to find a submission among the COH's search rows (published filters only)."""

    query: dict[str, Any]
    match: Callable[[dict[str, Any]], bool]
    salt: int | None
    #: what to raise when it is not found (default: `_ambiguous_tpsl`)
    unsettled: Callable[[str], AmbiguousSubmission] | None = None


_LEGS = (("takeProfit", "take_profit"), ("stopLoss", "stop_loss"))


def _sought_stored(data: Any) -> _Sought | None:
    """A stored order's rows: its VA and quote, each used leg's type and trigger price."""
    try:
        message = data["typedData"]["message"]
        va, quote_id = message["virtualAccount"], int(message["quoteId"])
        legs = {
            kind: Decimal(str(message[key]["conditionalPrice"]))
            for key, kind in _LEGS
            if Decimal(str(message[key]["quantity"])) != 0
        }
        salt = int(message["salt"])
    except (KeyError, TypeError, ValueError, ArithmeticError):
        return None

    def match(row: dict[str, Any]) -> bool:
        kind = row.get("conditional_order_type")
        return (
            row.get("quote_id") == quote_id
            and kind in legs
            and Decimal(str(row.get("conditional_order_price"))) == legs[kind]
        )

    # `salt` is the mock's own filter (it tells this order from an identical one); a real COH
    # ignores the key (its pydantic model admits extra keys) and `match` alone decides
    query = {"party_a_address": va, "state": ["new", "pending"], "salt": str(salt)}
    return _Sought(query, match, salt)


def _ambiguous_tpsl(sought: _Sought | None, cause: str) -> AmbiguousSubmission:
    salts = (sought.salt,) if sought is not None and sought.salt is not None else ()
    return AmbiguousSubmission(
        f"TP/SL: {cause}; not re-posted, and the COH's search shows no such order (yet)",
        salts=salts,
        cause=cause,
    )


def _ops(body: InstantOpen | InstantClose) -> list[SignedOperation]:
    if isinstance(body, InstantOpen):
        return [body.add_margin.signed_operation, body.send_quote.signed_operation]
    return [op.signed_operation for op in body.operations]


def _check_cancelled(got: Any) -> None:
    """A cancel's answer: `{successful, message}` (the OpenAPI's StatusResponse; the SDK's
    deleteQuoteTpSl reads `successful` as a bool or the string "false")."""
    successful = got.get("successful") if isinstance(got, dict) else None
    if successful is False or successful == "false" or successful is None:
        raise ServiceError(f"TP/SL not cancelled: {got!r}", body=got)


def _same_order(row_id: Any, coh_quote_id: str) -> bool:
    """A search row's `coh_quote_id` (the "coh<N>" string, or a bare N) names this order."""
    number = row_id if type(row_id) is int else parse_coh_quote_id(row_id)
    return number is not None and number == parse_coh_quote_id(coh_quote_id)


def _sought_cancelled(message: CancelConditionalOrder) -> _Sought:
    """A cancel's order among the VA's rows of that leg, in state "canceled"."""

    def match(row: dict[str, Any]) -> bool:
        return (
            _same_order(row.get("coh_quote_id"), message.coh_quote_id)
            and row.get("conditional_order_type") == message.conditional_order_type
            and row.get("state") == "canceled"
        )

    query = {
        "party_a_address": message.virtual_account,
        "conditional_order_type": message.conditional_order_type,
    }
    return _Sought(query, match, None, lambda cause: _cancel_unsettled(message, cause))


def _state_change_unknown(what: str, cause: str) -> AmbiguousSubmission:
    """A state-changing mock route (price, onboard, faults) has no reconciliation: after an
    ambiguous failure it was NOT re-sent (it may have run; re-sending could run it twice)."""
    return AmbiguousSubmission(
        f"{what}: outcome unknown ({cause}); not re-sent, it may have run: read the state "
        "(GET /context, the price service) before moving it again",
        cause=cause,
    )


def _cancel_unsettled(message: CancelConditionalOrder, cause: str) -> AmbiguousSubmission:
    return AmbiguousSubmission(
        f"TP/SL cancel of {message.coh_quote_id} ({message.conditional_order_type}): {cause}; "
        "not re-sent, and the order is not canceled (yet): search the VA's orders later",
        cause=cause,
    )


def _delete_body(
    domain: Domain, message: CancelConditionalOrder, signature: bytes, signer: str
) -> dict[str, Any]:
    return {
        "typedData": {
            "types": eip712.eip712_types("CancelConditionalOrder"),
            "primaryType": "CancelConditionalOrder",
            "domain": wire.domain_to_wire(domain),
            "message": {
                "virtualAccount": message.virtual_account,
                "salt": message.salt,
                "cohQuoteId": message.coh_quote_id,
                "conditionalOrderType": message.conditional_order_type,
            },
        },
        "signature": to_hex(signature),
        "signer": signer,
    }


def _read_domain(got: Any) -> Domain:
    r = wire.Reader()
    domain = wire.read_domain(r, got.get("domain") if isinstance(got, dict) else None, "domain")
    if domain is None or r.problems:
        raise ServiceError(f"signing-spec: unusable domain ({r.problems or got!r})")
    return domain


# ------------------------------------------------------------------------------ sync


class _Base:
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

    def _attempts(self, method: str, path: str, submission: bool, **kwargs: Any) -> Iterator[_Step]:
        url = self.base_url + path
        headers = {**self.headers, **kwargs.pop("headers", {})}
        for attempt in range(self.retry.attempts):
            try:
                outcome: httpx.Response | httpx.HTTPError = self.http.request(
                    method, url, headers=headers, **kwargs
                )
            except httpx.HTTPError as exc:
                outcome = exc
            step = _judge(
                method, url, outcome, submission=submission, attempt=attempt, retry=self.retry
            )
            if step.wait is None:
                yield step
                return
            self.sleep(step.wait)
        raise AssertionError("unreachable: the last attempt never waits")  # pragma: no cover

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        """A read: retried within the bounds; ServiceError otherwise."""
        (step,) = self._attempts(method, path, False, **kwargs)
        if step.error is not None:
            raise step.error
        return step.value

    def _submit(self, method: str, path: str, **kwargs: Any) -> _Step:
        (step,) = self._attempts(method, path, True, **kwargs)
        if step.error is not None:
            raise step.error
        return step


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
        data = wire.instant_open_to_wire(body) if isinstance(body, InstantOpen) else body
        step = self._submit("POST", "/api/instant_trade/instant_open", json=data)
        if step.ambiguous is not None:
            return self._reconcile("instant_open", body, step.ambiguous)
        return _parse_open(step)

    def instant_close(
        self, body: InstantClose | list[Any] | dict[str, Any]
    ) -> CloseAccepted | Reconciled:
        data = wire.instant_close_to_wire(body) if isinstance(body, InstantClose) else body
        step = self._submit("POST", "/api/instant_trade/instant_close", json=data)
        if step.ambiguous is not None:
            return self._reconcile("instant_close", body, step.ambiguous)
        return _parse_closed(step)

    def _digests(self, body: Any) -> tuple[bytes, ...]:
        if not isinstance(body, InstantOpen | InstantClose):
            return ()
        domain = self.domain or _read_domain(self.eip712_config())
        self.domain = domain
        return tuple(eip712.digest(domain, op) for op in _ops(body))

    def _reconcile(self, kind: str, body: Any, cause: str) -> Reconciled:
        try:
            digests = self._digests(body)
        except ServiceError:
            digests = ()
        shown = tuple(to_hex(d) for d in digests)
        if self.usage_count is not None and digests:
            for read in range(self.retry.reconcile_reads):
                if all(self.usage_count(d) > 0 for d in digests):
                    return Reconciled(kind, cause, digests=shown)
                if read + 1 < self.retry.reconcile_reads:
                    self.sleep(self.retry.settle)
        raise AmbiguousSubmission(
            f"{kind}: {cause}; not re-posted, and the operations are not (yet) used on chain",
            digests=shown,
            cause=cause,
        )

    def locked_params(self, symbol_name: str, leverage: int) -> LockedParamsPct:
        got = self._request(
            "GET", f"/api/get_locked_params/{symbol_name}", params={"leverage": str(leverage)}
        )
        return LockedParamsPct.from_response(got)

    def contract_symbols(self) -> list[dict[str, Any]]:
        return self._request("GET", "/api/contract-symbols")["symbols"]

    def eip712_config(self) -> dict[str, Any]:
        return self._request("GET", "/api/instant_trade/eip712-config")

    def instant_quote_id(self, temp_quote_id: int) -> int | None:
        return self._request("GET", f"/api/instant_quote_id/{temp_quote_id}").get("quote_id")

    def temp_quote_status(self, temp_quote_id: int) -> dict[str, Any]:
        return self._request("GET", f"/api/temp_quote_status/{temp_quote_id}")

    def temp_quote_tx_hash(self, temp_quote_id: int) -> str | None:
        """The open's transaction (the mock's `X-Symmio-Harness-Tx-Hash` header)."""
        (step,) = self._attempts("GET", f"/api/temp_quote_status/{temp_quote_id}", False)
        if step.error is not None:
            raise step.error
        return _noted(step.headers)["tx_hash"]

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
        return _read_domain(self._request("GET", "/api/v5/signing-spec"))

    def submit(self, request: TpslRequest | dict[str, Any]) -> str:
        """Store a TP/SL order; its coh_quote_id, a "coh…" string (found through the published
        search if the reply was lost)."""
        data = wire.tpsl_to_wire(request) if isinstance(request, TpslRequest) else request
        step = self._submit("POST", "/api/v5/", json=data)
        if step.ambiguous is not None:
            return self._reconcile(_sought_stored(data), step.ambiguous)
        return _parse_stored(step.value, "stored")

    def cancel(
        self, domain: Domain, message: CancelConditionalOrder, signature: bytes, signer: str
    ) -> str:
        """DELETE /api/v5/ with the signed CancelConditionalOrder; the cancelled order's
        "coh<N>" id. After an ambiguous failure it is never re-sent: the VA's orders of that
        leg are searched for the order in state "canceled"."""
        body = _delete_body(domain, message, signature, signer)
        step = self._submit("DELETE", "/api/v5/", json=body)
        if step.ambiguous is not None:
            self._reconcile(_sought_cancelled(message), step.ambiguous)
            return message.coh_quote_id
        _check_cancelled(step.value)
        return message.coh_quote_id

    def _reconcile(self, sought: _Sought | None, cause: str) -> str:
        if sought is not None:
            for read in range(self.retry.reconcile_reads):
                try:
                    rows = self.search(**sought.query)
                except ServiceError:
                    rows = []
                hit = [r for r in rows if sought.match(r)]
                if hit:
                    return str(hit[0]["coh_quote_id"])
                if read + 1 < self.retry.reconcile_reads:
                    self.sleep(self.retry.settle)
        if sought is not None and sought.unsettled is not None:
            raise sought.unsettled(cause)
        raise _ambiguous_tpsl(sought, cause)

    def search(self, **query: Any) -> list[dict[str, Any]]:
        return self._request("POST", "/api/v5/search/", json=query)["data"]

    def configs(self) -> dict[str, Any]:
        return self._request("GET", "/api/v5/configs/")

    def set_mock_price(self, symbol_id: int, price: Decimal | str) -> dict[str, Any]:
        """Move the mark (`POST /mock/price`): a state change, sent at most once (429/503 and a
        connection never opened are retried; after an ambiguous failure AmbiguousSubmission).
        Returns the reply with the orders the move `triggered`."""
        text = price if isinstance(price, str) else format_decimal(price)
        body = {"symbol_id": symbol_id, "price": text}
        step = self._submit("POST", "/mock/price", json=body)
        if step.ambiguous is not None:
            raise _state_change_unknown(f"mock price {body}", step.ambiguous)
        return step.value


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

    async def _step(self, method: str, path: str, submission: bool, **kwargs: Any) -> _Step:
        url = self.base_url + path
        headers = {**self.headers, **kwargs.pop("headers", {})}
        for attempt in range(self.retry.attempts):
            try:
                outcome: httpx.Response | httpx.HTTPError = await self.http.request(
                    method, url, headers=headers, **kwargs
                )
            except httpx.HTTPError as exc:
                outcome = exc
            step = _judge(
                method, url, outcome, submission=submission, attempt=attempt, retry=self.retry
            )
            if step.wait is None:
                if step.error is not None:
                    raise step.error
                return step
            await self.sleep(step.wait)
        raise AssertionError("unreachable: the last attempt never waits")  # pragma: no cover

    async def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        return (await self._step(method, path, False, **kwargs)).value


async def _maybe_await(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


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
        data = wire.instant_open_to_wire(body) if isinstance(body, InstantOpen) else body
        step = await self._step("POST", "/api/instant_trade/instant_open", True, json=data)
        if step.ambiguous is not None:
            return await self._reconcile("instant_open", body, step.ambiguous)
        return _parse_open(step)

    async def instant_close(
        self, body: InstantClose | list[Any] | dict[str, Any]
    ) -> CloseAccepted | Reconciled:
        data = wire.instant_close_to_wire(body) if isinstance(body, InstantClose) else body
        step = await self._step("POST", "/api/instant_trade/instant_close", True, json=data)
        if step.ambiguous is not None:
            return await self._reconcile("instant_close", body, step.ambiguous)
        return _parse_closed(step)

    async def _reconcile(self, kind: str, body: Any, cause: str) -> Reconciled:
        digests: tuple[bytes, ...] = ()
        if isinstance(body, InstantOpen | InstantClose):
            try:
                if self.domain is None:
                    self.domain = _read_domain(await self.eip712_config())
                digests = tuple(eip712.digest(self.domain, op) for op in _ops(body))
            except ServiceError:
                digests = ()
        shown = tuple(to_hex(d) for d in digests)
        if self.usage_count is not None and digests:
            for read in range(self.retry.reconcile_reads):
                counts = [await _maybe_await(self.usage_count(d)) for d in digests]
                if all(c > 0 for c in counts):
                    return Reconciled(kind, cause, digests=shown)
                if read + 1 < self.retry.reconcile_reads:
                    await self.sleep(self.retry.settle)
        raise AmbiguousSubmission(
            f"{kind}: {cause}; not re-posted, and the operations are not (yet) used on chain",
            digests=shown,
            cause=cause,
        )

    async def eip712_config(self) -> dict[str, Any]:
        return await self._request("GET", "/api/instant_trade/eip712-config")

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
        return _read_domain(await self._request("GET", "/api/v5/signing-spec"))

    async def submit(self, request: TpslRequest | dict[str, Any]) -> str:
        data = wire.tpsl_to_wire(request) if isinstance(request, TpslRequest) else request
        step = await self._step("POST", "/api/v5/", True, json=data)
        if step.ambiguous is not None:
            return await self._reconcile(_sought_stored(data), step.ambiguous)
        return _parse_stored(step.value, "stored")

    async def cancel(
        self, domain: Domain, message: CancelConditionalOrder, signature: bytes, signer: str
    ) -> str:
        body = _delete_body(domain, message, signature, signer)
        step = await self._step("DELETE", "/api/v5/", True, json=body)
        if step.ambiguous is not None:
            await self._reconcile(_sought_cancelled(message), step.ambiguous)
            return message.coh_quote_id
        _check_cancelled(step.value)
        return message.coh_quote_id

    async def _reconcile(self, sought: _Sought | None, cause: str) -> str:
        if sought is not None:
            for read in range(self.retry.reconcile_reads):
                try:
                    rows = await self.search(**sought.query)
                except ServiceError:
                    rows = []
                hit = [r for r in rows if sought.match(r)]
                if hit:
                    return str(hit[0]["coh_quote_id"])
                if read + 1 < self.retry.reconcile_reads:
                    await self.sleep(self.retry.settle)
        if sought is not None and sought.unsettled is not None:
            raise sought.unsettled(cause)
        raise _ambiguous_tpsl(sought, cause)

    async def search(self, **query: Any) -> list[dict[str, Any]]:
        return (await self._request("POST", "/api/v5/search/", json=query))["data"]

    async def configs(self) -> dict[str, Any]:
        return await self._request("GET", "/api/v5/configs/")

    async def set_mock_price(self, symbol_id: int, price: Decimal | str) -> dict[str, Any]:
        """`CohClient.set_mock_price`: a state change, sent at most once."""
        text = price if isinstance(price, str) else format_decimal(price)
        body = {"symbol_id": symbol_id, "price": text}
        step = await self._step("POST", "/mock/price", True, json=body)
        if step.ambiguous is not None:
            raise _state_change_unknown(f"mock price {body}", step.ambiguous)
        return step.value
