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
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException
from websockets.sync.client import ClientConnection as SyncConnection
from websockets.sync.client import connect as sync_connect

from .client import ServiceError
from .published import coh_quote_id_text

MAX_KEPT = 1000
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


def order_state(coh_quote_id: str | int, states: tuple[str, ...] = ("new",)) -> Match:
    """A COH order frame of this id (the published "coh…" string, or its number) in one of
    `states` (or a terminal failure)."""
    wanted = coh_quote_id if isinstance(coh_quote_id, str) else coh_quote_id_text(coh_quote_id)

    def match(frame: dict[str, Any]) -> bool:
        data = frame.get("data", {})
        return data.get("coh_quote_id") == wanted and (
            data.get("state") in states or data.get("state") == "killed"
        )

    return match


def _failed(frame: dict[str, Any]) -> bool:
    data = frame.get("data", {})
    return data.get("action_status") == "failed" or data.get("state") == "killed"


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
            f"{data.get('failure_message')}",
            frame,
        )
    return frame["data"]


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

    async def _next(self, deadline: float) -> dict[str, Any]:
        assert self._ws is not None, "use `async with Notifications(url) as ws`"
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise NotificationTimeout(f"{self.url}: no matching frame in time")
            try:
                raw = await asyncio.wait_for(self._ws.recv(), left)
            except TimeoutError:
                raise NotificationTimeout(f"{self.url}: no matching frame in time") from None
            except WebSocketException as exc:
                raise ServiceError(
                    f"{self.url}: connection lost ({exc.__class__.__name__})"
                ) from None
            frame = _decode(raw)
            if frame is not None:
                return frame

    async def subscribe(self, address: str, timeout: float = 10) -> None:
        """Subscribe to frames of `address` and wait for the acknowledgement."""
        assert self._ws is not None, "use `async with Notifications(url) as ws`"
        wanted = [pattern(address, self.app_name)]
        await self._ws.send(json.dumps({"channel_patterns": wanted}))
        deadline = time.monotonic() + timeout
        while True:
            frame = await self._next(deadline)
            if frame.get("subscribed") == wanted:
                return
            if "error" in frame:
                raise ServiceError(f"subscribe refused: {frame['error']}", body=frame)
            self.kept.keep(frame)

    async def wait_for(self, match: Match, timeout: float, what: str = "frame") -> dict[str, Any]:
        """The `data` of the first frame `match` accepts; NotificationFailed if it is a
        failure frame, NotificationTimeout if none comes within `timeout` seconds."""
        kept = self.kept.take(match)
        if kept is not None:
            return _settle(kept, what)
        deadline = time.monotonic() + timeout
        while True:
            frame = await self._next(deadline)
            if match(frame):
                return _settle(frame, what)
            self.kept.keep(frame)

    async def wait_open(self, temp_quote_id: int, timeout: float = 30) -> dict[str, Any]:
        """`SendQuoteTransaction` success of the temp id: its data (`quote_id`, `va_address`)."""
        return await self.wait_for(
            open_settled(temp_quote_id), timeout, f"instant_open {temp_quote_id}"
        )

    async def wait_order_new(self, coh_quote_id: str | int, timeout: float = 30) -> dict[str, Any]:
        """A TP/SL order counts as placed once the COH websocket reports `state: "new"`."""
        return await self.wait_for(
            order_state(coh_quote_id), timeout, f"TP/SL order {coh_quote_id}"
        )


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

    def _next(self, deadline: float) -> dict[str, Any]:
        assert self._ws is not None, "use `with SyncNotifications(url) as ws`"
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise NotificationTimeout(f"{self.url}: no matching frame in time")
            try:
                raw = self._ws.recv(timeout=left)
            except TimeoutError:
                raise NotificationTimeout(f"{self.url}: no matching frame in time") from None
            except WebSocketException as exc:
                raise ServiceError(
                    f"{self.url}: connection lost ({exc.__class__.__name__})"
                ) from None
            frame = _decode(raw)
            if frame is not None:
                return frame

    def subscribe(self, address: str, timeout: float = 10) -> None:
        assert self._ws is not None, "use `with SyncNotifications(url) as ws`"
        wanted = [pattern(address, self.app_name)]
        self._ws.send(json.dumps({"channel_patterns": wanted}))
        deadline = time.monotonic() + timeout
        while True:
            frame = self._next(deadline)
            if frame.get("subscribed") == wanted:
                return
            if "error" in frame:
                raise ServiceError(f"subscribe refused: {frame['error']}", body=frame)
            self.kept.keep(frame)

    def wait_for(self, match: Match, timeout: float, what: str = "frame") -> dict[str, Any]:
        kept = self.kept.take(match)
        if kept is not None:
            return _settle(kept, what)
        deadline = time.monotonic() + timeout
        while True:
            frame = self._next(deadline)
            if match(frame):
                return _settle(frame, what)
            self.kept.keep(frame)

    def wait_open(self, temp_quote_id: int, timeout: float = 30) -> dict[str, Any]:
        return self.wait_for(open_settled(temp_quote_id), timeout, f"instant_open {temp_quote_id}")

    def wait_order_new(self, coh_quote_id: str | int, timeout: float = 30) -> dict[str, Any]:
        return self.wait_for(order_state(coh_quote_id), timeout, f"TP/SL order {coh_quote_id}")
