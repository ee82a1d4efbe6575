"""A small synchronous client for the mock (or any v0.8.5) solver and COH, over httpx.

Pass a base URL (`http://127.0.0.1:PORT/solver`), or an `httpx.Client` that already knows how to
reach the app: Starlette's `TestClient(app)` runs the ASGI app in-process, no socket. Bodies are
sent in the canonical wire form (`harness.wire`); every non-2xx answer raises `ServiceError`
carrying the solver's `{code, message, category, http_status}` and the rule IDs, if any.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx

from .. import wire
from ..eip712 import eip712_types
from ..errors import HarnessError
from ..model import ConditionalOrderDelete, Domain, InstantClose, InstantOpen, TpslRequest
from ..pricing import LockedParamsPct, format_decimal
from ..primitives import to_hex


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
    ) -> None:
        self.http_status = http_status
        self.code = code
        self.category = category
        self.rule_ids = list(rule_ids or [])
        self.body = body
        super().__init__(message)


@dataclass(frozen=True)
class OpenAccepted:
    temp_quote_id: int
    party_b_mm: str
    raw: dict[str, Any] = field(repr=False, default_factory=dict)


class _Base:
    def __init__(
        self, base_url: str, *, client: httpx.Client | None = None, timeout: float = 10.0
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._own = client is None
        self.http = client if client is not None else httpx.Client(timeout=timeout)

    def close(self) -> None:
        if self._own:
            self.http.close()

    def __enter__(self) -> _Base:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        url = self.base_url + path
        try:
            response = self.http.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            raise ServiceError(f"{method} {url}: {exc.__class__.__name__}: {exc}") from None
        try:
            body = response.json() if response.content else None
        except ValueError:
            body = None
        if response.is_success:
            if response.content and body is None:
                raise ServiceError(f"{method} {url}: expected JSON, got {response.text[:80]!r}")
            return body
        if isinstance(body, dict) and "message" in body:
            raise ServiceError(
                f"{method} {url}: {response.status_code} {body['message']}",
                http_status=response.status_code,
                code=body.get("code"),
                category=body.get("category"),
                rule_ids=body.get("rule_ids"),
                body=body,
            )
        raise ServiceError(
            f"{method} {url}: {response.status_code} {response.text[:200]}",
            http_status=response.status_code,
            body=body,
        )


class SolverClient(_Base):
    """The solver's endpoints (base URL without `/api`)."""

    def instant_open(self, body: InstantOpen | dict[str, Any]) -> OpenAccepted:
        data = wire.instant_open_to_wire(body) if isinstance(body, InstantOpen) else body
        got = self._request("POST", "/api/instant_trade/instant_open", json=data)
        temp = got.get("temp_quote_id") if isinstance(got, dict) else None
        if type(temp) is not int or temp >= 0:
            raise ServiceError(f"instant_open: expected a negative temp_quote_id, got {got!r}")
        return OpenAccepted(temp, str(got.get("partyBmm")), got)

    def instant_close(self, body: InstantClose | list[Any]) -> Any:
        data = wire.instant_close_to_wire(body) if isinstance(body, InstantClose) else body
        return self._request("POST", "/api/instant_trade/instant_close", json=data)

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
        return self._request("GET", f"/api/instant_quote_id/{temp_quote_id}")["quote_id"]

    def temp_quote_status(self, temp_quote_id: int) -> dict[str, Any]:
        return self._request("GET", f"/api/temp_quote_status/{temp_quote_id}")

    def error_codes(self) -> list[dict[str, Any]]:
        return self._request("GET", "/api/error_codes")


class CohClient(_Base):
    """The conditional-order handler's endpoints (base URL without `/api/v5`)."""

    def __init__(self, base_url: str, *, app_name: str = "symmio-harness", **kwargs: Any) -> None:
        super().__init__(base_url, **kwargs)
        self.app_name = app_name

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = {"App-Name": self.app_name, **kwargs.pop("headers", {})}
        return super()._request(method, path, headers=headers, **kwargs)

    def signing_spec(self) -> Domain:
        """The ConditionalOrder domain the COH serves (a client must sign with it)."""
        got = self._request("GET", "/api/v5/signing-spec")
        r = wire.Reader()
        domain = wire.read_domain(r, got.get("domain") if isinstance(got, dict) else None, "domain")
        if domain is None or r.problems:
            raise ServiceError(f"signing-spec: unusable domain ({r.problems or got!r})")
        return domain

    def submit(self, request: TpslRequest | dict[str, Any]) -> int:
        data = wire.tpsl_to_wire(request) if isinstance(request, TpslRequest) else request
        got = self._request("POST", "/api/v5/", json=data)
        if not isinstance(got, dict) or got.get("successful") is not True:
            raise ServiceError(f"TP/SL not stored: {got!r}", body=got)
        return int(got["coh_quote_id"])

    def cancel(
        self, domain: Domain, message: ConditionalOrderDelete, signature: bytes, signer: str
    ) -> int:
        """DELETE /api/v5/ with the signed delete message; the cancelled order's id."""
        body = {
            "typedData": {
                "types": eip712_types("ConditionalOrderDelete"),
                "primaryType": "ConditionalOrderDelete",
                "domain": wire.domain_to_wire(domain),
                "message": {
                    "virtualAccount": message.virtual_account,
                    "salt": str(message.salt),
                    "cohQuoteId": message.coh_quote_id,
                    "conditionalOrderType": message.conditional_order_type,
                },
            },
            "signature": to_hex(signature),
            "signer": signer,
        }
        got = self._request("DELETE", "/api/v5/", json=body)
        if not isinstance(got, dict) or got.get("successful") is not True:
            raise ServiceError(f"TP/SL not cancelled: {got!r}", body=got)
        return int(got["coh_quote_id"])

    def search(self, **query: Any) -> list[dict[str, Any]]:
        return self._request("POST", "/api/v5/search/", json=query)["data"]

    def configs(self) -> dict[str, Any]:
        return self._request("GET", "/api/v5/configs/")

    def set_mock_price(self, symbol_id: int, price: Decimal | str) -> dict[str, Any]:
        text = price if isinstance(price, str) else format_decimal(price)
        return self._request("POST", "/mock/price", json={"symbol_id": symbol_id, "price": text})
