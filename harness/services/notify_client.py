"""Clients of the notifications websocket (solver) and the COH's order websocket, on the
`websockets` library: subscribe, then wait for the frame that settles a submission.

    async with Notifications(ws_url) as ws:
        await ws.subscribe(sub_account)          # returns once the service acknowledged
        accepted = await solver.instant_open(body)
        opened = await ws.wait_open(accepted.temp_quote_id, timeout=30)   # quote_id, va_address

A failure frame for the awaited id raises `NotificationFailed` (action, failure message, error
code); no frame in time raises `NotificationTimeout`. Frames received earlier are kept (up to
`MAX_KEPT`), so a frame that arrives before the wait starts is not missed. `SyncNotifications`
is the same on `websockets.sync`.

Both are thin shells over one sans-IO core (the pattern of h11): a generator per operation that
yields what it needs done (`_SendText`, `_Receive` with the seconds left) and is sent back the
raw frame or the exception the receive raised; the shells perform it blocking or with `await`.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any, TypeVar

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException
from websockets.sync.client import ClientConnection as SyncConnection
from websockets.sync.client import connect as sync_connect

from ..model import parse_coh_quote_id
from .at_most_once import ServiceError

T = TypeVar("T")
MAX_KEPT = 1000
#: The states the SDK's deleteQuoteTpSl takes as a confirmed cancel.
CANCELED_STATES = ("cancel", "canceled", "cancelled")
Match = Callable[[dict[str, Any]], bool]


class NotificationFailed(ServiceError):
    """The service reported the awaited action failed (e.g. the chain reverted)."""

    def __init__(self, message: str, frame: dict[str, Any]) -> None:
        data = frame.get("data", {})
        self.frame = frame
        self.action = data.get("last_seen_action")
        self.failure_message = data.get("failure_message")
        super().__init__(message, code=data.get("error_code"), body=frame)


class NotificationTimeout(ServiceError):
    """No matching frame arrived in time."""


def pattern(address: str, app_name: str) -> dict[str, str]:
    return {
        "app_name": app_name,
        "address": address,
        "primary_identifier": "*",
        "secondary_identifier": "*",
    }


def open_settled(temp_quote_id: int) -> Match:
    def match(frame: dict[str, Any]) -> bool:
        data = frame.get("data", {})
        return (
            data.get("temp_quote_id") == temp_quote_id
            and data.get("last_seen_action") == "SendQuoteTransaction"
        )

    return match


def order_state(coh_quote_id: int | str, states: tuple[str, ...] = ("new",)) -> Match:
    """A COH report of this order (its "coh<N>" id, or N) in one of `states`, or its failure
    (`successful: false`, or state "killed"): the frames the SDK's `watchTpSlNotifications`
    reads, `{app_name, primary_identifier, address, type: "report", data: {successful,
    coh_quote_id, conditional_order_type, state}}`."""
    wanted = coh_quote_id if type(coh_quote_id) is int else parse_coh_quote_id(coh_quote_id)

    def match(frame: dict[str, Any]) -> bool:
        data = frame.get("data", {})
        if not isinstance(data, dict) or parse_coh_quote_id(data.get("coh_quote_id")) != wanted:
            return False
        return data.get("state") in states or _failed(frame)

    return match


def _failed(frame: dict[str, Any]) -> bool:
    data = frame.get("data", {})
    return (
        data.get("action_status") == "failed"
        or data.get("state") == "killed"
        or data.get("successful") is False
    )


def _decode(raw: str | bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


class _Kept:
    def __init__(self) -> None:
        self.frames: list[dict[str, Any]] = []

    def keep(self, frame: dict[str, Any]) -> None:
        self.frames.append(frame)
        del self.frames[:-MAX_KEPT]

    def take(self, match: Match) -> dict[str, Any] | None:
        for i, frame in enumerate(self.frames):
            if match(frame):
                return self.frames.pop(i)
        return None


def _settle(frame: dict[str, Any], what: str) -> dict[str, Any]:
    if _failed(frame):
        data = frame.get("data", {})
        raise NotificationFailed(
            f"{what}: {data.get('last_seen_action') or data.get('state')} failed: "
            f"{data.get('failure_message') or data.get('error_message')}",
            frame,
        )
    return frame["data"]


# ------------------------------------------------------------------------------ the core


@dataclass(frozen=True)
class _SendText:
    """Send this text frame; answer with None."""

    text: str


@dataclass(frozen=True)
class _Receive:
    """Receive one frame within `seconds`; answer with it (str or bytes), or with the
    TimeoutError / WebSocketException the receive raised."""

    seconds: float


_Flow = Generator[_SendText | _Receive, Any, T]


def _next_frame(url: str, deadline: float) -> _Flow[dict[str, Any]]:
    """The next JSON-object frame before `deadline` (other frames are skipped)."""
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise NotificationTimeout(f"{url}: no matching frame in time")
        got = yield _Receive(left)
        if isinstance(got, TimeoutError):
            raise NotificationTimeout(f"{url}: no matching frame in time")
        if isinstance(got, WebSocketException):
            raise ServiceError(f"{url}: connection lost ({got.__class__.__name__})")
        frame = _decode(got)
        if frame is not None:
            return frame


def _subscribe(url: str, app_name: str, kept: _Kept, address: str, timeout: float) -> _Flow[None]:
    """Subscribe to frames of `address`; done at the acknowledgement (frames before it kept)."""
    wanted = [pattern(address, app_name)]
    yield _SendText(json.dumps({"channel_patterns": wanted}))
    deadline = time.monotonic() + timeout
    while True:
        frame = yield from _next_frame(url, deadline)
        if frame.get("subscribed") == wanted:
            return
        if "error" in frame:
            raise ServiceError(f"subscribe refused: {frame['error']}", body=frame)
        kept.keep(frame)


def _wait_for(
    url: str, kept: _Kept, match: Match, timeout: float, what: str
) -> _Flow[dict[str, Any]]:
    """The `data` of the first frame `match` accepts (a kept one first)."""
    earlier = kept.take(match)
    if earlier is not None:
        return _settle(earlier, what)
    deadline = time.monotonic() + timeout
    while True:
        frame = yield from _next_frame(url, deadline)
        if match(frame):
            return _settle(frame, what)
        kept.keep(frame)


def _open_wait(temp_quote_id: int) -> tuple[Match, str]:
    return open_settled(temp_quote_id), f"instant_open {temp_quote_id}"


def _new_wait(coh_quote_id: int | str) -> tuple[Match, str]:
    return order_state(coh_quote_id), f"TP/SL order {coh_quote_id}"


def _canceled_wait(coh_quote_id: int | str) -> tuple[Match, str]:
    return order_state(coh_quote_id, CANCELED_STATES), f"TP/SL cancel {coh_quote_id}"


# ------------------------------------------------------------------------------ the shells


class Notifications:
    """An async websocket client of the notifications (or COH order) websocket."""

    def __init__(
        self, url: str, *, app_name: str = "symmio-harness", open_timeout: float = 10
    ) -> None:
        self.url = url
        self.app_name = app_name
        self.open_timeout = open_timeout
        self.kept = _Kept()
        self._ws: ClientConnection | None = None

    async def __aenter__(self) -> Notifications:
        try:
            self._ws = await connect(self.url, open_timeout=self.open_timeout, close_timeout=2)
        except (TimeoutError, OSError, WebSocketException) as exc:
            raise ServiceError(f"{self.url}: cannot connect ({exc.__class__.__name__})") from None
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._ws is not None:
            await self._ws.close()

    async def _run(self, flow: _Flow[T]) -> T:
        ws = self._ws
        assert ws is not None, "use `async with Notifications(url) as ws`"
        answer: Any = None
        while True:
            try:
                effect = flow.send(answer)
            except StopIteration as done:
                return done.value
            if isinstance(effect, _SendText):
                answer = await ws.send(effect.text)
                continue
            try:
                answer = await asyncio.wait_for(ws.recv(), effect.seconds)
            except (TimeoutError, WebSocketException) as exc:
                answer = exc

    async def subscribe(self, address: str, timeout: float = 10) -> None:
        """Subscribe to frames of `address` and wait for the acknowledgement."""
        await self._run(_subscribe(self.url, self.app_name, self.kept, address, timeout))

    async def wait_for(self, match: Match, timeout: float, what: str = "frame") -> dict[str, Any]:
        """The `data` of the first frame `match` accepts; NotificationFailed if it is a
        failure frame, NotificationTimeout if none comes within `timeout` seconds."""
        return await self._run(_wait_for(self.url, self.kept, match, timeout, what))

    async def wait_open(self, temp_quote_id: int, timeout: float = 30) -> dict[str, Any]:
        """`SendQuoteTransaction` success of the temp id: its data (`quote_id`, `va_address`)."""
        match, what = _open_wait(temp_quote_id)
        return await self.wait_for(match, timeout, what)

    async def wait_order_new(self, coh_quote_id: int | str, timeout: float = 30) -> dict[str, Any]:
        """A TP/SL order counts as placed once the COH websocket reports `state: "new"` (the
        SDK's setQuoteTpSl: "only confirmed once the WebSocket reports state: new")."""
        match, what = _new_wait(coh_quote_id)
        return await self.wait_for(match, timeout, what)

    async def wait_order_canceled(
        self, coh_quote_id: int | str, timeout: float = 30
    ) -> dict[str, Any]:
        """A cancel counts as done once the COH websocket reports the order canceled (the SDK's
        deleteQuoteTpSl: `cancel`, `canceled` or `cancelled`)."""
        match, what = _canceled_wait(coh_quote_id)
        return await self.wait_for(match, timeout, what)


class SyncNotifications:
    """`Notifications` on `websockets.sync` (a thread-free blocking client)."""

    def __init__(
        self, url: str, *, app_name: str = "symmio-harness", open_timeout: float = 10
    ) -> None:
        self.url = url
        self.app_name = app_name
        self.open_timeout = open_timeout
        self.kept = _Kept()
        self._ws: SyncConnection | None = None

    def __enter__(self) -> SyncNotifications:
        try:
            connecting = sync_connect(self.url, open_timeout=self.open_timeout, close_timeout=2)
            self._ws = connecting.__enter__()
        except (OSError, WebSocketException, TimeoutError) as exc:
            raise ServiceError(f"{self.url}: cannot connect ({exc.__class__.__name__})") from None
        return self

    def __exit__(self, *exc: object) -> None:
        if self._ws is not None:
            self._ws.close()

    def _run(self, flow: _Flow[T]) -> T:
        ws = self._ws
        assert ws is not None, "use `with SyncNotifications(url) as ws`"
        answer: Any = None
        while True:
            try:
                effect = flow.send(answer)
            except StopIteration as done:
                return done.value
            if isinstance(effect, _SendText):
                answer = ws.send(effect.text)
                continue
            try:
                answer = ws.recv(timeout=effect.seconds)
            except (TimeoutError, WebSocketException) as exc:
                answer = exc

    def subscribe(self, address: str, timeout: float = 10) -> None:
        self._run(_subscribe(self.url, self.app_name, self.kept, address, timeout))

    def wait_for(self, match: Match, timeout: float, what: str = "frame") -> dict[str, Any]:
        return self._run(_wait_for(self.url, self.kept, match, timeout, what))

    def wait_open(self, temp_quote_id: int, timeout: float = 30) -> dict[str, Any]:
        match, what = _open_wait(temp_quote_id)
        return self.wait_for(match, timeout, what)

    def wait_order_new(self, coh_quote_id: int | str, timeout: float = 30) -> dict[str, Any]:
        match, what = _new_wait(coh_quote_id)
        return self.wait_for(match, timeout, what)

    def wait_order_canceled(self, coh_quote_id: int | str, timeout: float = 30) -> dict[str, Any]:
        match, what = _canceled_wait(coh_quote_id)
        return self.wait_for(match, timeout, what)
