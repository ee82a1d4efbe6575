"""The at-most-once protocol of the service clients, written once and free of I/O (sans-IO, the
pattern of h11 and httpx's core): each operation is a generator that YIELDS what it needs done
(`Send` this request, `Sleep`, `ReadUsage` of an operation digest) and is sent back the answer
(the `httpx.Response` or the `httpx.HTTPError` the attempt raised, nothing, the usage count). It
returns the outcome or raises `ServiceError` / `AmbiguousSubmission`. The sync and async clients
(`client.py`) are thin shells that perform the effects with or without `await`, so a fix to the
retry policy or to reconciliation lands in both at once.

The policy. A read is retried on transport errors, 429 and 503 (honouring `Retry-After`) within
`Retry`; a submission only when it certainly did not execute (429/503, a connection never
opened). After an AMBIGUOUS failure a submission is never re-sent: it is reconciled by what
identifies THIS request, or reported unknown (`AmbiguousSubmission` with what was seen).

- Chain operations (instant_open/close): each signed operation's digest has
  `operationUsageCount > 0` on the InstantLayer (a digest names one signed operation).
- A TP/SL order: a search row with the order's virtual account, quote, leg type and trigger,
  whose identity (the mock's `X-Symmio-Harness-Identity` answer header) names this signer and
  the EIP-712 digest of the ConditionalOrder this client signed.
- A cancel: the row of that VA, "coh<N>" id and leg in state "canceled", whose identity names
  this signer and the digest of this CancelConditionalOrder.

A published search row (`ConditionalOrderResponseSchema`, Trading-SDK
packages/core/src/tpsl/types/generated/tpsl-handler.ts) carries no signer, salt or digest: a
real COH's rows never prove which request stored or cancelled them, so against one a row that
matches on the published fields is "unknown", never a success (another order with the same
legs, another signer's cancel, or the bot's cancel of the other leg look the same).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol, TypeVar

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
from ..pricing import format_decimal
from ..primitives import to_hex
from .published import (
    IDENTITY_HEADER,
    INFO_HEADER,
    TX_HASH_HEADER,
    WARNINGS_HEADER,
    read_harness_list,
)

T = TypeVar("T")

# ------------------------------------------------------------------------------ outcomes


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
    later (`operationUsageCount`, the COH search by salt) instead of rebuilding the body.
    `seen` holds the search rows reconciliation read last (none proven to be this request);
    `request` the body of a state change that may have run."""

    def __init__(
        self,
        message: str,
        *,
        digests: tuple[str, ...] = (),
        salts: tuple[int, ...] = (),
        cause: str = "",
        seen: tuple[dict[str, Any], ...] = (),
        request: Any = None,
        **kwargs: Any,
    ) -> None:
        self.digests = digests
        self.salts = salts
        self.cause = cause
        self.seen = seen
        self.request = request
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


# ------------------------------------------------------------------------------ effects


@dataclass(frozen=True)
class Send:
    """Send this request; answer with the `httpx.Response`, or the `httpx.HTTPError` raised."""

    method: str
    url: str
    headers: dict[str, str]
    options: dict[str, Any]  # json= / params=


@dataclass(frozen=True)
class Sleep:
    """Wait `seconds`; answer with None."""

    seconds: float


@dataclass(frozen=True)
class ReadUsage:
    """Read the InstantLayer's `operationUsageCount(digest)`; answer with the count."""

    digest: bytes


Effect = Send | Sleep | ReadUsage
Flow = Generator[Effect, Any, T]


class Endpoint(Protocol):
    """What a flow reads from its shell (read at each step: a caller may change them)."""

    base_url: str
    headers: dict[str, str]
    retry: Retry


class ChainEndpoint(Endpoint, Protocol):
    """A solver shell: the InstantLayer domain (cached here once fetched) and whether a
    usage-count read is available."""

    domain: Domain | None
    usage_count: Any


# ------------------------------------------------------------------------------ the policy


@dataclass(frozen=True)
class Step:
    """What one attempt came to: `value` (and the answer's `headers`) or, for a submission,
    `ambiguous` naming a failure that may have executed."""

    value: Any = None
    headers: httpx.Headers | None = None
    ambiguous: str | None = None


@dataclass(frozen=True)
class _Verdict:
    step: Step | None = None
    error: ServiceError | None = None
    wait: float | None = None


NEVER_SENT = (
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


def judge(
    method: str,
    url: str,
    outcome: httpx.Response | httpx.HTTPError,
    *,
    submission: bool,
    attempt: int,
    retry: Retry,
) -> _Verdict:
    """One attempt's outcome: a step, an error to raise, or a wait before the next attempt."""
    last = attempt + 1 >= retry.attempts
    if isinstance(outcome, httpx.HTTPError):
        text = f"{method} {url}: {outcome.__class__.__name__}: {outcome}"
        if isinstance(outcome, NEVER_SENT) or not submission:
            if last:
                return _Verdict(error=ServiceError(text))
            return _Verdict(wait=min(retry.backoff * 2**attempt, retry.max_wait))
        return _Verdict(Step(ambiguous=text))
    response = outcome
    try:
        body = json.loads(response.content, parse_float=Decimal) if response.content else None
    except ValueError:
        body = None
    if response.is_success:
        if response.content and body is None:
            if submission:
                return _Verdict(Step(ambiguous=f"{method} {url}: a 2xx whose body is not JSON"))
            return _Verdict(
                error=ServiceError(f"{method} {url}: expected JSON, got {response.text[:80]!r}")
            )
        return _Verdict(Step(value=body, headers=response.headers))
    error = _error(method, url, response, body)
    if response.status_code in (429, 503):
        if last:
            return _Verdict(error=error)
        wait = error.retry_after if error.retry_after is not None else retry.backoff * 2**attempt
        return _Verdict(wait=min(wait, retry.max_wait))
    if response.status_code >= 500:
        if submission:
            return _Verdict(Step(ambiguous=str(error)))
        if last:
            return _Verdict(error=error)
        return _Verdict(wait=min(retry.backoff * 2**attempt, retry.max_wait))
    return _Verdict(error=error)


def exchange(
    conn: Endpoint, method: str, path: str, *, submission: bool, **options: Any
) -> Flow[Step]:
    """Send within the retry bounds; the step, or the error raised."""
    url = conn.base_url + path
    headers = {**conn.headers, **options.pop("headers", {})}
    retry = conn.retry
    for attempt in range(retry.attempts):
        outcome = yield Send(method, url, headers, options)
        verdict = judge(method, url, outcome, submission=submission, attempt=attempt, retry=retry)
        if verdict.error is not None:
            raise verdict.error
        if verdict.step is not None:
            return verdict.step
        assert verdict.wait is not None
        yield Sleep(verdict.wait)
    raise AssertionError("unreachable: the last attempt never waits")  # pragma: no cover


def read(conn: Endpoint, method: str, path: str, **options: Any) -> Flow[Any]:
    """A read's JSON body."""
    step = yield from exchange(conn, method, path, submission=False, **options)
    return step.value


def noted(headers: httpx.Headers | None) -> dict[str, Any]:
    """The mock's harness headers of an answer: warnings, information, tx hash."""
    h = headers if headers is not None else httpx.Headers()
    return {
        "warnings": tuple(read_harness_list(h, WARNINGS_HEADER)),
        "info": tuple(read_harness_list(h, INFO_HEADER)),
        "tx_hash": h.get(TX_HASH_HEADER),
    }


def read_domain(got: Any) -> Domain:
    r = wire.Reader()
    domain = wire.read_domain(r, got.get("domain") if isinstance(got, dict) else None, "domain")
    if domain is None or r.problems:
        raise ServiceError(f"signing-spec: unusable domain ({r.problems or got!r})")
    return domain


# ------------------------------------------------------------------------------ the solver

OPEN_PATH = "/api/instant_trade/instant_open"
CLOSE_PATH = "/api/instant_trade/instant_close"
EIP712_CONFIG_PATH = "/api/instant_trade/eip712-config"


def _parse_open(step: Step) -> OpenAccepted:
    got = step.value
    temp = got.get("temp_quote_id") if isinstance(got, dict) else None
    if type(temp) is not int or temp >= 0:
        raise ServiceError(f"instant_open: expected a negative temp_quote_id, got {got!r}")
    return OpenAccepted(temp, str(got.get("partyBmm")), got, **noted(step.headers))


def _ops(body: InstantOpen | InstantClose) -> list[SignedOperation]:
    if isinstance(body, InstantOpen):
        return [body.add_margin.signed_operation, body.send_quote.signed_operation]
    return [op.signed_operation for op in body.operations]


def instant_open(conn: ChainEndpoint, body: InstantOpen | dict[str, Any]) -> Flow[Any]:
    data = wire.instant_open_to_wire(body) if isinstance(body, InstantOpen) else body
    step = yield from exchange(conn, "POST", OPEN_PATH, submission=True, json=data)
    if step.ambiguous is not None:
        return (yield from reconcile_operations(conn, "instant_open", body, step.ambiguous))
    return _parse_open(step)


def instant_close(
    conn: ChainEndpoint, body: InstantClose | list[Any] | dict[str, Any]
) -> Flow[Any]:
    data = wire.instant_close_to_wire(body) if isinstance(body, InstantClose) else body
    step = yield from exchange(conn, "POST", CLOSE_PATH, submission=True, json=data)
    if step.ambiguous is not None:
        return (yield from reconcile_operations(conn, "instant_close", body, step.ambiguous))
    return CloseAccepted(**noted(step.headers))


def reconcile_operations(conn: ChainEndpoint, kind: str, body: Any, cause: str) -> Flow[Reconciled]:
    """Executed when every signed operation's digest is used on chain (a digest names one
    signed operation, whoever sent it); otherwise AmbiguousSubmission with the digests. A body
    given as wire JSON has no digests here (it is not re-read): unknown."""
    digests: tuple[bytes, ...] = ()
    if isinstance(body, InstantOpen | InstantClose):
        try:
            if conn.domain is None:
                conn.domain = read_domain((yield from read(conn, "GET", EIP712_CONFIG_PATH)))
            digests = tuple(eip712.digest(conn.domain, op) for op in _ops(body))
        except ServiceError:
            digests = ()
    shown = tuple(to_hex(d) for d in digests)
    if conn.usage_count is not None and digests:
        for attempt in range(conn.retry.reconcile_reads):
            used = True
            for digest in digests:
                if (yield ReadUsage(digest)) <= 0:
                    used = False
                    break
            if used:
                return Reconciled(kind, cause, digests=shown)
            if attempt + 1 < conn.retry.reconcile_reads:
                yield Sleep(conn.retry.settle)
    raise AmbiguousSubmission(
        f"{kind}: {cause}; not re-posted, and the operations are not (yet) used on chain",
        digests=shown,
        cause=cause,
    )


# ------------------------------------------------------------------------------ the COH

COH_ORDERS_PATH = "/api/v5/"
COH_SEARCH_PATH = "/api/v5/search/"
MOCK_PRICE_PATH = "/mock/price"
_LEGS = (("takeProfit", "take_profit"), ("stopLoss", "stop_loss"))

Row = dict[str, Any]
#: a row's identity key: its order number and leg type
RowKey = tuple[int | None, Any]


def _row_key(row: Row) -> RowKey:
    raw = row.get("coh_quote_id")
    number = raw if type(raw) is int else parse_coh_quote_id(raw)
    return number, row.get("conditional_order_type")


def _same_address(a: Any, b: Any) -> bool:
    return isinstance(a, str) and isinstance(b, str) and a.lower() == b.lower()


@dataclass(frozen=True)
class Searched:
    """One search answer: the published rows and, per row, the mock's identity entry."""

    rows: list[Row]
    identity: dict[RowKey, dict[str, Any]]


def search(conn: Endpoint, query: dict[str, Any]) -> Flow[Searched]:
    step = yield from exchange(conn, "POST", COH_SEARCH_PATH, submission=False, json=query)
    got = step.value
    rows = got.get("data") if isinstance(got, dict) else None
    if not isinstance(rows, list):
        raise ServiceError(f"search: expected {{data: [...]}}, got {got!r}", body=got)
    headers = step.headers if step.headers is not None else httpx.Headers()
    identity = {_row_key(entry): entry for entry in read_harness_list(headers, IDENTITY_HEADER)}
    return Searched([r for r in rows if isinstance(r, dict)], identity)


@dataclass(frozen=True)
class Sought:
    """A COH submission among search rows: `query` (published filters, plus the mock's salt),
    `published` (the row's published fields fit), `proven` (the row's identity entry says it is
    this request: signer and signed digest), and the errors to raise."""

    query: dict[str, Any]
    published: Callable[[Row], bool]
    proven: Callable[[dict[str, Any]], bool]
    #: what to raise when nothing proven is found: (cause, rows seen) -> error
    unsettled: Callable[[str, tuple[Row, ...]], AmbiguousSubmission]
    #: what to raise when rows fit but nothing can prove whose they are
    unknown: Callable[[str, tuple[Row, ...]], AmbiguousSubmission]


def find(conn: Endpoint, sought: Sought, cause: str) -> Flow[str]:
    """The "coh<N>" id of the one order whose row is PROVEN to be this request. A row that fits
    the published fields without an identity entry (a real COH) makes it unknown at once;
    rows proven to be someone else's are read again (`reconcile_reads`) and then unsettled."""
    seen: tuple[Row, ...] = ()
    for attempt in range(conn.retry.reconcile_reads):
        try:
            got = yield from search(conn, sought.query)
        except ServiceError:
            got = Searched([], {})
        seen = tuple(got.rows)
        fitting = [r for r in got.rows if sought.published(r)]
        ours = {
            str(r["coh_quote_id"])
            for r in fitting
            if _row_key(r) in got.identity and sought.proven(got.identity[_row_key(r)])
        }
        if len(ours) == 1:
            return ours.pop()
        if len(ours) > 1 or any(_row_key(r) not in got.identity for r in fitting):
            raise sought.unknown(cause, seen)
        if attempt + 1 < conn.retry.reconcile_reads:
            yield Sleep(conn.retry.settle)
    raise sought.unsettled(cause, seen)


def _parse_stored(got: Any, what: str) -> str:
    """The order's published id (`coh_quote_id`, a "coh…" string) from a StatusResponse."""
    if not isinstance(got, dict) or got.get("successful") not in (True, "true", "True"):
        raise ServiceError(f"TP/SL not {what}: {got!r}", body=got)
    coh_id = got.get("coh_quote_id")
    if not isinstance(coh_id, str):
        raise ServiceError(f"TP/SL {what}, but the reply names no coh_quote_id: {got!r}", body=got)
    return coh_id


def _signed_order(request: TpslRequest | dict[str, Any]) -> tuple[str, str] | None:
    """(signer, 0x digest of the signed ConditionalOrder), or None when the body cannot be read
    strictly (then nothing can be proven: unknown)."""
    try:
        typed = request if isinstance(request, TpslRequest) else wire.tpsl_from_wire(request)
        return typed.signer, to_hex(eip712.digest(typed.domain, typed.order))
    except (HarnessError, ValueError, TypeError, KeyError):
        return None


def sought_stored(request: TpslRequest | dict[str, Any], data: dict[str, Any]) -> Sought:
    """A stored order: rows of its VA with its quote, a used leg's type and trigger price, whose
    identity names its signer and the digest of the ConditionalOrder it signed."""
    salt: int | None = None
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
        va, quote_id, legs = None, None, {}
    signed = _signed_order(request)
    salts = (salt,) if salt is not None else ()

    def published(row: Row) -> bool:
        kind = row.get("conditional_order_type")
        try:
            price = Decimal(str(row.get("conditional_order_price")))
        except ArithmeticError:
            return False
        return (
            _same_address(row.get("party_a_address"), va)
            and row.get("quote_id") == quote_id
            and kind in legs
            and price == legs[kind]
        )

    def proven(identity: dict[str, Any]) -> bool:
        return signed is not None and (
            _same_address(identity.get("signer"), signed[0])
            and identity.get("order_digest") == signed[1]
        )

    def unsettled(cause: str, seen: tuple[Row, ...]) -> AmbiguousSubmission:
        return AmbiguousSubmission(
            f"TP/SL: {cause}; not re-posted, and the COH's search shows no order signed by this "
            f"request (yet; {len(seen)} other row(s) seen)",
            salts=salts,
            cause=cause,
            seen=seen,
        )

    def unknown(cause: str, seen: tuple[Row, ...]) -> AmbiguousSubmission:
        return AmbiguousSubmission(
            f"TP/SL: {cause}; not re-posted, and the COH's rows with these legs do not prove "
            "which signed order stored them (no signer or digest in the published row): "
            "outcome unknown",
            salts=salts,
            cause=cause,
            seen=seen,
        )

    # `salt` is the mock's own filter (it narrows the rows to this salt); a real COH ignores
    # the key (its pydantic model admits extra keys) and the identity decides. Every state:
    # an order stored and since triggered or cancelled was still stored by this request.
    query: dict[str, Any] = {"party_a_address": va}
    if salt is not None:
        query["salt"] = str(salt)
    return Sought(query, published, proven, unsettled, unknown)


def submit(conn: Endpoint, request: TpslRequest | dict[str, Any]) -> Flow[str]:
    data = wire.tpsl_to_wire(request) if isinstance(request, TpslRequest) else request
    step = yield from exchange(conn, "POST", COH_ORDERS_PATH, submission=True, json=data)
    if step.ambiguous is not None:
        return (yield from find(conn, sought_stored(request, data), step.ambiguous))
    return _parse_stored(step.value, "stored")


def _check_cancelled(got: Any) -> None:
    """A cancel's answer: `{successful, message}` (the OpenAPI's StatusResponse; the SDK's
    deleteQuoteTpSl reads `successful` as a bool or the string "false")."""
    successful = got.get("successful") if isinstance(got, dict) else None
    if successful is False or successful == "false" or successful is None:
        raise ServiceError(f"TP/SL not cancelled: {got!r}", body=got)


def sought_cancelled(domain: Domain, message: CancelConditionalOrder, signer: str) -> Sought:
    """A cancel: the VA's row of that "coh<N>" id and leg in state "canceled", whose identity
    names this signer and the digest of this CancelConditionalOrder (not an earlier cancel of
    the other leg, another signer's cancel of this one, or the bot's when the other leg fired)."""
    digest = to_hex(eip712.digest(domain, message))
    wanted = (parse_coh_quote_id(message.coh_quote_id), message.conditional_order_type)
    what = f"TP/SL cancel of {message.coh_quote_id} ({message.conditional_order_type})"

    def published(row: Row) -> bool:
        return (
            _row_key(row) == wanted
            and _same_address(row.get("party_a_address"), message.virtual_account)
            and row.get("state") == "canceled"
        )

    def proven(identity: dict[str, Any]) -> bool:
        return (
            _same_address(identity.get("cancel_signer"), signer)
            and identity.get("cancel_digest") == digest
        )

    def unsettled(cause: str, seen: tuple[Row, ...]) -> AmbiguousSubmission:
        return AmbiguousSubmission(
            f"{what}: {cause}; not re-sent, and no row shows the order cancelled by this "
            "cancel (yet): search the VA's orders later",
            cause=cause,
            seen=seen,
        )

    def unknown(cause: str, seen: tuple[Row, ...]) -> AmbiguousSubmission:
        return AmbiguousSubmission(
            f"{what}: {cause}; not re-sent; the order is canceled, but nothing in the COH's "
            "rows proves this cancel did it (no signer or digest in the published row): "
            "outcome unknown",
            cause=cause,
            seen=seen,
        )

    query = {
        "party_a_address": message.virtual_account,
        "conditional_order_type": message.conditional_order_type,
    }
    return Sought(query, published, proven, unsettled, unknown)


def delete_body(
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


def cancel(
    conn: Endpoint, domain: Domain, message: CancelConditionalOrder, signature: bytes, signer: str
) -> Flow[str]:
    body = delete_body(domain, message, signature, signer)
    step = yield from exchange(conn, "DELETE", COH_ORDERS_PATH, submission=True, json=body)
    if step.ambiguous is not None:
        yield from find(conn, sought_cancelled(domain, message, signer), step.ambiguous)
        return message.coh_quote_id
    _check_cancelled(step.value)
    return message.coh_quote_id


def set_mock_price(conn: Endpoint, symbol_id: int, price: Decimal | str) -> Flow[dict[str, Any]]:
    """A state change with no reconciliation: after an ambiguous failure it is NOT re-sent (it
    may have run; re-sending could run it twice), and the error carries the request. The orders
    a move triggered are only in the reply of the one post that ran."""
    text = price if isinstance(price, str) else format_decimal(price)
    body = {"symbol_id": symbol_id, "price": text}
    step = yield from exchange(conn, "POST", MOCK_PRICE_PATH, submission=True, json=body)
    if step.ambiguous is not None:
        raise AmbiguousSubmission(
            f"mock price {body}: outcome unknown ({step.ambiguous}); not re-sent, it may have "
            "run: read the state (GET /context, the price service, orders in state "
            "triggered) before moving it again",
            cause=step.ambiguous,
            request=body,
        )
    return step.value
