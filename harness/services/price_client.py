"""Reading marks from a price service like Enigma's lowcap-price (harness.services.prices serves
one): the REST batch read and the websocket's snapshot frames, each mark read exactly.

`markPrice` is a JSON number on the wire; it is read as a `Decimal` from its own digits (never
through a float), so `0.10691489650882736` stays those digits. The batch read is keyed by the
requested names and the key is authoritative, not the inner `name` (SDK
`price-service/providers/enigma-mark-prices.ts`); a name the service leaves out is absent from
the answer, and `mark_of` says so in one line. A string `markPrice` is refused: the SDK's
`parsePriceFrame` tolerates one, but the service publishes a number (`PriceData.markPrice:
number`), and the published form wins (real-world spec §0).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import httpx

from ..errors import HarnessError

TIMEOUT_S = 10.0


class PriceReadError(HarnessError):
    """A price answer or frame is not what the service publishes (one line: path and rule)."""


def _exact(text: str, where: str) -> Any:
    try:
        return json.loads(text, parse_float=Decimal)
    except ValueError:
        raise PriceReadError(f"{where}: not JSON") from None


def _mark(row: Any, where: str) -> Decimal:
    if not isinstance(row, dict) or "markPrice" not in row:
        raise PriceReadError(f"{where}: expected an object with markPrice")
    value = row["markPrice"]
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise PriceReadError(f"{where}.markPrice: expected a JSON number, got {value!r}")
    mark = Decimal(value)
    if not mark.is_finite() or mark <= 0:
        raise PriceReadError(f"{where}.markPrice: expected a positive number, got {value}")
    return mark


def parse_price_frame(text: str | bytes) -> dict[str, Decimal]:
    """A websocket frame (a full snapshot `[{name, markPrice, time}, ...]`) as name -> mark."""
    raw = text.decode() if isinstance(text, bytes) else text
    rows = _exact(raw, "price frame")
    if not isinstance(rows, list):
        raise PriceReadError("price frame: expected a JSON list of {name, markPrice, time}")
    marks: dict[str, Decimal] = {}
    for i, row in enumerate(rows):
        where = f"price frame[{i}]"
        name = row.get("name") if isinstance(row, dict) else None
        if not isinstance(name, str) or not name:
            raise PriceReadError(f"{where}.name: expected the contract-symbols name")
        marks[name] = _mark(row, where)
    return marks


def fetch_marks(
    price_url: str,
    names: list[str],
    *,
    client: httpx.Client | None = None,
    timeout: float = TIMEOUT_S,
) -> dict[str, Decimal]:
    """`GET {price_url}/api/v1/prices/{names}`: the mark of each requested name the service
    knows, keyed by the requested name (`timeout` applies without a `client`)."""
    path = "/api/v1/prices/" + ",".join(quote(n, safe=":") for n in names)
    url = price_url.rstrip("/") + path
    try:
        # a given client carries its own timeouts
        response = httpx.get(url, timeout=timeout) if client is None else client.get(url)
    except httpx.HTTPError as exc:
        raise PriceReadError(f"GET {url}: {type(exc).__name__}") from None
    if response.status_code != 200:
        raise PriceReadError(f"GET {url}: HTTP {response.status_code}")
    found = _exact(response.text, f"GET {url}")
    if not isinstance(found, dict):
        raise PriceReadError(f"GET {url}: expected a map keyed by the requested names")
    return {name: _mark(found[name], name) for name in names if name in found}


def mark_of(price_url: str, name: str, **kwargs: Any) -> Decimal:
    """The mark of one contract-symbols name; PriceReadError when the service has none."""
    marks = fetch_marks(price_url, [name], **kwargs)
    if name not in marks:
        raise PriceReadError(f"the price service at {price_url} gives no mark for {name}")
    return marks[name]


__all__ = ["PriceReadError", "fetch_marks", "mark_of", "parse_price_frame"]
