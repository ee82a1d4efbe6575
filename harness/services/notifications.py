"""The notifications websocket (Enigma style, spec §4 "Notifications websocket").

A client sends `{"channel_patterns":[{"app_name", "address", "primary_identifier",
"secondary_identifier"}]}`; the service answers `{"subscribed": [<patterns>]}` once the patterns are
registered (an extension of the mock, so a client knows it will not miss a frame), then sends every
frame `{data:{...}, address}` whose address matches a pattern (`"*"` matches any address).

Frames are published from whatever thread runs the chain; each subscriber's queue is fed through
its own event loop (`call_soon_threadsafe`), so publishing is safe from any thread or loop.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from .. import jsonread

log = logging.getLogger("harness.services")

PATTERN_KEYS = ("app_name", "address", "primary_identifier", "secondary_identifier")
MAX_PATTERNS = 100
MAX_FRAME_BYTES = 64 * 1024
MAX_FRAME_DEPTH = 8
MAX_QUEUED = 1000


class SubscribeError(ValueError):
    """The subscribe message is not `{"channel_patterns": [...]}`; the message names the path."""


def read_subscribe(message: Any) -> list[dict[str, str]]:
    """Strict reading of a subscribe message; SubscribeError names the first bad field."""
    if not isinstance(message, dict) or set(message) != {"channel_patterns"}:
        raise SubscribeError('expected {"channel_patterns": [...]} and nothing else')
    patterns = message["channel_patterns"]
    if not isinstance(patterns, list) or not 1 <= len(patterns) <= MAX_PATTERNS:
        raise SubscribeError(f"channel_patterns: expected a list of 1 to {MAX_PATTERNS} objects")
    out: list[dict[str, str]] = []
    for i, pattern in enumerate(patterns):
        where = f"channel_patterns[{i}]"
        if not isinstance(pattern, dict):
            raise SubscribeError(f"{where}: expected an object")
        unknown = set(pattern) - set(PATTERN_KEYS)
        if unknown:
            raise SubscribeError(f"{where}: unknown key {sorted(unknown)[0]!r}")
        for key in PATTERN_KEYS:
            if not isinstance(pattern.get(key), str) or not pattern[key]:
                raise SubscribeError(f"{where}.{key}: expected a non-empty string")
        out.append({key: pattern[key] for key in PATTERN_KEYS})
    return out


@dataclass(eq=False)
class Subscriber:
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue
    patterns: list[dict[str, str]] = field(default_factory=list)
    dropped: int = 0

    def wants(self, address: str) -> bool:
        return any(
            p["address"] == "*" or p["address"].lower() == address.lower() for p in self.patterns
        )

    def put(self, frame: dict[str, Any]) -> None:
        self.loop.call_soon_threadsafe(self._put, frame)

    def _put(self, frame: dict[str, Any]) -> None:
        """A subscriber that does not read keeps at most MAX_QUEUED frames (memory bounded);
        the excess is dropped and counted."""
        if self.queue.full():
            self.dropped += 1
        else:
            self.queue.put_nowait(frame)


class Notifier:
    """Keeps the subscribers and the frames sent (the latter for `frames()` in tests)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: list[Subscriber] = []
        self._next_id = 1

    def add(self, subscriber: Subscriber) -> None:
        with self._lock:
            self._subscribers.append(subscriber)

    def remove(self, subscriber: Subscriber) -> None:
        with self._lock:
            if subscriber in self._subscribers:
                self._subscribers.remove(subscriber)

    def publish(self, address: str, **data: Any) -> dict[str, Any]:
        """Send `{data, address}` to every subscriber of `address`; returns the frame."""
        now = int(time.time())
        with self._lock:
            frame_id = self._next_id
            self._next_id += 1
            subscribers = [s for s in self._subscribers if s.wants(address)]
        frame = {"data": {**notification(frame_id, now), **data}, "address": address}
        for subscriber in subscribers:
            subscriber.put(frame)
        return frame

    def send(self, address: str, data: dict[str, Any]) -> dict[str, Any]:
        """Send `{data, address}` as given (no quote-notification defaults)."""
        with self._lock:
            subscribers = [s for s in self._subscribers if s.wants(address)]
        frame = {"data": data, "address": address}
        for subscriber in subscribers:
            subscriber.put(frame)
        return frame

    def send_frame(self, address: str, frame: dict[str, Any]) -> dict[str, Any]:
        """Send `frame` exactly as given to every subscriber of `address` (the COH's reports
        carry their own envelope)."""
        with self._lock:
            subscribers = [s for s in self._subscribers if s.wants(address)]
        for subscriber in subscribers:
            subscriber.put(frame)
        return frame

    def publish_chain_failure(
        self, address: str, action: str, error_name: str, **data: Any
    ) -> dict[str, Any]:
        """A failed `action` alert: the transaction reverted with `error_name`."""
        return self.publish(
            address,
            last_seen_action=action,
            action_status="failed",
            state_type="alert",
            failure_type="chain",
            failure_message=error_name,
            **data,
        )


def notification(frame_id: int, now: int) -> dict[str, Any]:
    """Every field of an Enigma quote notification with its neutral value."""
    return {
        "id": frame_id,
        "quote_id": 0,
        "temp_quote_id": 0,
        "create_time": now,
        "modify_time": now,
        "counterparty_address": None,
        "filled_amount_open": "0",
        "filled_amount_close": "0",
        "avg_price_open": "0",
        "avg_price_close": "0",
        "last_seen_action": None,
        "action_status": None,
        "state_type": "report",
        "failure_type": None,
        "failure_message": None,
        "error_code": None,
        "va_address": None,
        "version": "0.8.5",
    }


#: what a subscription websocket does with one subscribe message (read as JSON): updates the
#: subscriber and answers it, or raises SubscribeError naming what is wrong
OnSubscribe = Callable[[Subscriber, Any], None]
#: what it does with one notifier frame before sending it (None: not for this protocol)
Outgoing = Callable[[dict[str, Any]], dict[str, Any] | None]


async def subscription_endpoint(
    websocket: WebSocket,
    notifier: Notifier,
    on_subscribe: OnSubscribe,
    *,
    outgoing: Outgoing | None = None,
    name: str = "notifications",
) -> None:
    """One subscription websocket: frames pushed from the notifier (through `outgoing`),
    subscribe messages read strictly (JSON, bounded) and given to `on_subscribe`; an error is
    answered as `{"error": ...}` and the socket stays open. The Enigma notifications and Rasa's
    position-state websocket differ only in those two callables."""
    await websocket.accept()
    subscriber = Subscriber(asyncio.get_running_loop(), asyncio.Queue(MAX_QUEUED))
    notifier.add(subscriber)

    async def pump() -> None:
        while True:
            frame: dict[str, Any] | None = await subscriber.queue.get()
            if outgoing is not None and frame is not None:
                frame = outgoing(frame)
            if frame is not None:
                await websocket.send_json(frame)

    sender = asyncio.create_task(pump())
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
            text = message.get("text")
            try:
                if text is None:
                    raise SubscribeError("expected a text frame holding JSON")
                got = jsonread.read(
                    text, max_bytes=MAX_FRAME_BYTES, max_depth=MAX_FRAME_DEPTH, max_values=1000
                )
                if got.problem is not None:
                    raise SubscribeError(got.problem[1])
                on_subscribe(subscriber, got.value)
            except SubscribeError as exc:
                subscriber.put({"error": str(exc)})
    except WebSocketDisconnect:
        pass
    except Exception as exc:  # one line in the log, never a traceback at the client
        log.error("%s websocket: %s", name, exc.__class__.__name__)
    finally:
        sender.cancel()
        notifier.remove(subscriber)


def _subscribe_channels(subscriber: Subscriber, message: Any) -> None:
    """Enigma's `{"channel_patterns": [...]}`: the patterns are added to the subscriber's."""
    patterns = read_subscribe(message)
    if len(subscriber.patterns) + len(patterns) > MAX_PATTERNS:
        raise SubscribeError(f"channel_patterns: at most {MAX_PATTERNS} in all")
    subscriber.patterns.extend(patterns)
    subscriber.put({"subscribed": patterns})


async def notifications_endpoint(websocket: WebSocket, notifier: Notifier) -> None:
    await subscription_endpoint(websocket, notifier, _subscribe_channels)
