"""The Base profile's services: the Rasa solver kind, no COH, the Binance-style mark-price feed.

Every published shape is pinned against its source (real-world.md §1), cited in its test as
`SDK/...` = SYMM-IO/Trading-SDK `packages/core/src/...` (read 2026-12-07) and `RASA` = Rasa's
generated client `SDK/solvers/types/generated/rasa-solver.ts@116d601` ("Hedger Parameters Web
App" 0.1.0). The flow runs through Rasa's routes from a client that reads nothing but `/context`.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import jsonschema
import pytest

with warnings.catch_warnings():  # Starlette 1.x nudges towards httpx2; httpx 0.28 is pinned
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from harness import deployments, flow, wire
from harness.context import context_from_json
from harness.errors import ContextError
from harness.keys import LocalKey
from harness.pricing import LockedParamsPct
from harness.services import Services, embedded_backend
from harness.services.binance import MARK_PRICE_WS_PATH, PREMIUM_INDEX_PATH
from harness.services.launch import ServeProcess
from harness.services.rasa import (
    CLOSE_PATH,
    OPEN_PATH,
    RFQ_FIELDS,
    SYMBOL_FIELDS,
)

from ..anvil_needed import needs_anvil
from .conftest import BASE, make_services


@pytest.fixture(scope="module")
def stack() -> Iterator[tuple[Services, TestClient]]:
    """The conftest's `services` and `http` as Base's (the Rasa solver, no COH)."""
    yield from make_services(profile=deployments.BASE)


@pytest.fixture
def served(http: TestClient) -> dict[str, Any]:
    return http.get(f"{BASE}/context").json()


@pytest.fixture(scope="module")
def document(stack: tuple[Services, TestClient]) -> dict[str, Any]:
    return stack[1].get(f"{BASE}/openapi.json").json()


def problems(document: dict[str, Any], name: str, value: Any) -> list[str]:
    """How `value` departs from the served document's schema `name` (empty: it conforms)."""
    schema = {"components": document["components"], "$ref": f"#/components/schemas/{name}"}
    found = jsonschema.Draft202012Validator(schema).iter_errors(value)
    return [f"{list(e.absolute_path)}: {e.message}" for e in found]


def solver_url(served: dict[str, Any]) -> str:
    return served["deployment"]["solver"]["url"]


def path_of(url: str) -> str:
    """A served URL as the in-process client takes it (its path: ws URLs included)."""
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


# -------------------------------------------------------------------------- a client from /context


class ContextClient:
    """A frontend that knows nothing but the served `/context`: it onboards a session key,
    reads the market from the solver and the price feed, and signs with `harness.flow`."""

    def __init__(self, http: Any, base: str = BASE) -> None:
        self.http, self.base = http, base
        self.session = LocalKey.generate()
        done = http.post(f"{base}/mock/onboard", json={"session_key": self.session.address})
        assert done.status_code == 200, done.text
        self.owner = done.json()["user"]
        self.served = http.get(f"{base}/context", params={"owner": self.owner}).json()
        self.context = context_from_json(self.served)
        self.solver = solver_url(self.served)

    def mark(self, name: str) -> Decimal:
        feed = self.http.get(self.served["price_url"] + PREMIUM_INDEX_PATH, params={"symbol": name})
        return Decimal(feed.json()["markPrice"])

    def open_body(self, quantity: str = "0.015") -> dict[str, Any]:
        row = self.http.get(f"{self.solver}/contract-symbols").json()["symbols"][0]
        symbol = self.context.symbol(row["symbol_id"])
        assert symbol is not None
        locked = self.http.get(f"{self.solver}/get_locked_params/{row['name']}?leverage=10")
        plan = flow.build_instant_open(
            self.context,
            self.session,
            sub_account=self.context.sub_account,
            symbol=symbol,
            side="long",
            quantity=Decimal(quantity),
            leverage=10,
            mark_price=self.mark(row["name"]),
            locked_params=LockedParamsPct.from_response(locked.json()),
            trading_fee=Decimal(row["trading_fee"]),
            deadline=int(time.time()) + 3600,
        )
        return wire.instant_open_to_wire(plan.body)

    def close_body(self, quote_id: int, quantity: str = "0.010") -> list[Any]:
        served = self.http.get(f"{self.base}/context", params={"owner": self.owner}).json()
        symbol = self.context.symbol(1)
        assert symbol is not None
        plan = flow.build_instant_close(
            self.context,
            self.session,
            virtual_account=served["virtual_account"],
            quote_id=quote_id,
            symbol=symbol,
            side="long",
            quantity=Decimal(quantity),
            mark_price=self.mark(symbol.name),
            deadline=int(time.time()) + 3600,
        )
        body = wire.instant_close_to_wire(plan.body)
        return body if isinstance(body, list) else body["operations"]


def subscribe_position_state(ws: Any, address: str) -> None:
    ws.send_json({"address": [address]})  # the SDK's buildRasaSubscribeMessage
    ack = ws.receive_json()
    assert ack == {"subscribed": [address]}, ack


# ---------------------------------------------------------------------------------------- /context


def test_context_names_the_base_profile_its_version_solver_kind_and_urls(served) -> None:
    assert served["contracts_version"] == "0.8.5", served.get("contracts_version")
    assert served["deployment"] == {
        "name": "base",
        "solver": {"kind": "rasa", "url": f"{BASE}/solver/api"},
        "notifications": {
            "protocol": "rasa",
            "url": "ws://testserver/solver/api/ws/position-state-ws3",
        },
        "prices": {"kind": "binance"},
        "coh": None,
    }, served["deployment"]
    assert served["price_ws_url"] == f"ws://testserver/prices{MARK_PRICE_WS_PATH}"


def test_context_with_a_deployment_reads_back_as_served(served) -> None:
    context = context_from_json(served)
    assert context.deployment is not None
    assert context.deployment.to_json() == served["deployment"], "read and written differently"


def test_context_refuses_a_deployment_whose_solver_kind_the_registry_does_not_know(
    served,
) -> None:
    bad = {**served, "deployment": {**served["deployment"], "solver": {"kind": "x", "url": "u"}}}
    with pytest.raises(ContextError, match=r"deployment\.solver\.kind"):
        context_from_json(bad)


# ---------------------------------------------------------------------------- Base: open and close


def test_base_flow_opens_and_closes_through_rasas_routes_from_context_alone(http) -> None:
    client = ContextClient(http)
    notes = path_of(client.served["deployment"]["notifications"]["url"])
    with http.websocket_connect(notes) as ws:
        subscribe_position_state(ws, client.context.sub_account)
        opened = http.post(client.solver + OPEN_PATH, json=client.open_body())
        assert opened.status_code == 200, opened.text
        frame = ws.receive_json()
        assert frame["last_seen_action"] == "SendQuoteTransaction", frame
        quote_id = frame["quote_id"]
        assert quote_id > 0, f"the on-chain quote id, got {quote_id}"
        closed = http.post(client.solver + CLOSE_PATH, json=client.close_body(quote_id))
        assert closed.status_code == 200, closed.text
        assert closed.json()["successful"] is True, closed.json()
        frame = ws.receive_json()
        assert frame["last_seen_action"] == "FillMarketOrderInstantClose", frame
        assert frame["filled_amount_close"] == "0.01", frame


def test_open_answers_the_published_instant_rfq_response(http) -> None:
    """Source: `InstantRFQResponse` (RASA); its types from `toRasaInstantOpen`
    (SDK/solvers/instant-open/get-instant-opens/adapters/rasa-instant-opens.ts): ids and
    `position_type`/`order_type` numbers, the amounts mapped onto decimal-string fields."""
    client = ContextClient(http)
    body = client.open_body()
    got = http.post(client.solver + OPEN_PATH, json=body)
    assert got.status_code == 200, got.text
    rfq = got.json()
    assert tuple(sorted(rfq)) == tuple(sorted(RFQ_FIELDS)), f"keys {sorted(rfq)}"
    ints = ("temp_quote_id", "position_type", "symbol_id", "order_type")
    assert all(type(rfq[k]) is int for k in ints), {k: rfq[k] for k in ints}
    amounts = ("requested_open_price", "quantity", "cva", "lf", "partyAmm", "partyBmm")
    assert all(isinstance(rfq[k], str) for k in amounts), {k: rfq[k] for k in amounts}
    assert rfq["quantity"] == "0.015" and rfq["position_type"] == 0, rfq
    assert rfq["party_a_address"] == client.context.sub_account, rfq["party_a_address"]


def test_close_answers_successful_and_a_message(http, document) -> None:
    """Source: RASA `POST /instant_trade/close` -> `{successful, message}` (the SDK's
    `sendRasaInstantClose` reads both)."""
    client = ContextClient(http)
    with http.websocket_connect(path_of(client.served["deployment"]["notifications"]["url"])) as ws:
        subscribe_position_state(ws, client.context.sub_account)
        assert http.post(client.solver + OPEN_PATH, json=client.open_body()).status_code == 200
        quote_id = ws.receive_json()["quote_id"]
    got = http.post(client.solver + CLOSE_PATH, json=client.close_body(quote_id))
    assert got.status_code == 200, got.text
    assert set(got.json()) == {"successful", "message"}, got.json()
    assert not problems(document, "StatusResponse", got.json()), got.json()


def test_close_refuses_the_enigma_operations_envelope_naming_the_bare_list(http) -> None:
    got = http.post(f"{BASE}/solver/api{CLOSE_PATH}", json={"operations": []})
    assert got.status_code == 400, got.text
    assert "bare list" in got.json()["error_detail"], got.json()


def test_an_open_sent_twice_is_refused_the_second_time(http) -> None:
    client = ContextClient(http)
    body = client.open_body()
    first = http.post(client.solver + OPEN_PATH, json=body)
    again = http.post(client.solver + OPEN_PATH, json=body)
    assert first.status_code == 200, first.text
    assert again.status_code >= 400, f"the replay answered {again.status_code}"
    assert set(again.json()) >= {"error_code", "error_message", "error_detail"}, again.json()


# ---------------------------------------------------------------------------------------- 5 fields


def test_a_five_field_signed_operation_is_refused_naming_rasas_published_schema(http) -> None:
    """Rasa's SignedOperation schema (RASA) lists 5 fields; the SDK signs and the v0.8.5
    InstantLayer verifies 7: the mock follows the contract and says what is unknown."""
    client = ContextClient(http)
    body = client.open_body()
    for slot in ("addMargin", "sendQuote"):
        op = body[slot]["signedOperation"]
        del op["flexFields"], op["maxUses"]
    got = http.post(client.solver + OPEN_PATH, json=body)
    assert got.status_code == 400, got.text
    refused = got.json()
    assert "op.legacy-5-field" in refused["rule_ids"], refused["rule_ids"]
    assert "Rasa's published schema" in refused["error_detail"], refused["error_detail"]
    assert "not known" in refused["error_detail"], refused["error_detail"]


# ------------------------------------------------------------------------------------ shared reads


def test_contract_symbols_rows_have_a_numeric_max_leverage_and_no_state_or_side(http) -> None:
    """Source: `RASA_RESPONSE` (SDK/solvers/markets/get-markets.test.ts, typed
    `SymbolsContractResponseSchema` of RASA): `max_leverage` a number, no `state`/`side`."""
    listed = http.get(f"{BASE}/solver/api/contract-symbols").json()
    assert listed["count"] == len(listed["symbols"]) == 1, listed
    (row,) = listed["symbols"]
    assert type(row["max_leverage"]) is int, f"max_leverage {row['max_leverage']!r}"
    assert "state" not in row and "side" not in row, sorted(row)
    assert set(row) == set(SYMBOL_FIELDS), sorted(set(row) ^ set(SYMBOL_FIELDS))


def test_locked_params_are_served_at_the_shared_path(http) -> None:
    """Source: the chain registry's Base note (SDK/chains/chain-configs.ts): Rasa shares
    Enigma's paths for the shared reads (locked params among them)."""
    got = http.get(f"{BASE}/solver/api/get_locked_params/BTCUSDT?leverage=10")
    assert got.status_code == 200, got.text
    assert set(got.json()) == {"cva", "lf", "partyAmm", "partyBmm", "leverage"}, got.json()


def test_error_codes_is_a_code_to_message_map(http) -> None:
    """Source: RASA `GET /error_codes` -> `{code: message}`."""
    codes = http.get(f"{BASE}/solver/api/error_codes").json()
    assert codes and all(k.isdigit() and isinstance(v, str) for k, v in codes.items()), codes


def test_one_error_code_is_a_one_entry_code_to_message_map(http) -> None:
    """Source: SDK/solvers/error-codes/get-solver-error-codes.test.ts (`/error_codes/{code}`
    resolves `{"2000": "insufficient margin"}`)."""
    got = http.get(f"{BASE}/solver/api/error_codes/3003")
    assert got.json() == {"3003": "unknown symbol"}, got.json()


def test_a_refusal_is_rasas_error_body(http) -> None:
    """Source: real-world.md §1 (RASA): errors are `{error_code, error_message,
    error_detail}`."""
    got = http.get(f"{BASE}/solver/api/get_locked_params/NOPE?leverage=10")
    assert got.status_code == 404, got.text
    refused = got.json()
    assert refused["error_code"] == 3003 and "NOPE" in refused["error_detail"], refused
    assert "code" not in refused, "Enigma's `code` key on a Rasa error"


# ------------------------------------------------------------------------ what Base does not serve

ENIGMA_ONLY = (
    ("POST", "/instant_trade/instant_open"),
    ("POST", "/instant_trade/instant_close"),
    ("GET", "/instant_trade/eip712-config"),
    ("GET", "/temp_quote_status/-1"),
    ("GET", "/instant_quote_id/-1"),
    ("GET", "/error_codes/detailed"),
    ("GET", "/estimated-price"),
    ("GET", "/notional_cap"),
)


@pytest.mark.parametrize(("method", "path"), ENIGMA_ONLY, ids=[p for _, p in ENIGMA_ONLY])
def test_an_enigma_route_answers_fastapis_not_found_on_base(http, method, path) -> None:
    got = http.request(method, f"{BASE}/solver/api{path}", json={})
    assert got.status_code == 404, f"HTTP {got.status_code}"
    assert got.json() == {"detail": "Not Found"}, got.json()


def test_the_enigma_notifications_websocket_is_not_served_on_base(http) -> None:
    from starlette.websockets import WebSocketDisconnect

    with pytest.raises(WebSocketDisconnect), http.websocket_connect("/solver/api/ws/notifications"):
        pass


COH_PATHS = ("/coh/api/v5/configs/", "/coh/api/v5/signing-spec", "/coh/mock/price")


@pytest.mark.parametrize("path", COH_PATHS)
def test_base_serves_no_coh_route(http, path) -> None:
    assert http.get(f"{BASE}{path}").status_code == 404, path


def test_the_enigma_price_service_is_not_served_on_base(http) -> None:
    assert http.get(f"{BASE}/prices/api/v1/price").status_code == 404


# ------------------------------------------------------------------------ position-state websocket


def test_a_position_state_frame_is_bare_and_names_the_sub_account_as_counterparty(http) -> None:
    """Source: `RawRasaPositionNotification` and `watchRasaNotifications`
    (SDK/websocket/notifications/): bare frames, no `address`/`va_address`, the sub-account as
    `counterparty_address` (the watcher filters on it)."""
    client = ContextClient(http)
    with http.websocket_connect(path_of(client.served["deployment"]["notifications"]["url"])) as ws:
        subscribe_position_state(ws, client.context.sub_account)
        assert http.post(client.solver + OPEN_PATH, json=client.open_body()).status_code == 200
        frame = ws.receive_json()
    assert "data" not in frame and "address" not in frame, sorted(frame)
    assert "va_address" not in frame and "version" not in frame, sorted(frame)
    assert frame["counterparty_address"] == client.context.sub_account, frame
    assert isinstance(frame["id"], str) and frame["temp_quote_id"] < 0, frame


def test_a_position_state_subscription_that_is_not_an_address_list_is_named(http) -> None:
    with http.websocket_connect("/solver/api/ws/position-state-ws3") as ws:
        ws.send_json({"address": ["0x12"]})
        assert ws.receive_json() == {"error": "address[0]: expected 0x and 40 hex digits"}


# ------------------------------------------------------------------------------ Binance-style feed


def test_premium_index_rows_carry_what_the_sdks_binance_client_reads(http, served) -> None:
    """Source: `RawBinancePremiumIndexRow` (SDK/price-service/binance/types.ts): `symbol`,
    decimal-string `markPrice`/`indexPrice`/`lastFundingRate`, `nextFundingTime` ms."""
    (row,) = http.get(served["price_url"] + PREMIUM_INDEX_PATH).json()
    assert row["symbol"] == "BTCUSDT", row
    assert all(isinstance(row[k], str) for k in ("markPrice", "indexPrice", "lastFundingRate"))
    assert type(row["nextFundingTime"]) is int and row["nextFundingTime"] > row["time"], row


def test_premium_index_for_one_symbol_is_one_object(http, served) -> None:
    got = http.get(served["price_url"] + PREMIUM_INDEX_PATH, params={"symbol": "BTCUSDT"})
    assert isinstance(got.json(), dict) and got.json()["symbol"] == "BTCUSDT", got.json()


def test_premium_index_for_an_unknown_symbol_is_binances_invalid_symbol(http, served) -> None:
    got = http.get(served["price_url"] + PREMIUM_INDEX_PATH, params={"symbol": "NOPEUSDT"})
    assert got.status_code == 400 and got.json() == {"code": -1121, "msg": "Invalid symbol."}


def test_the_mark_price_stream_pushes_an_array_of_mark_price_updates(http, served) -> None:
    """Source: `RawBinanceMarkPriceFrame` and `parseBinancePriceFrame` (SDK/price-service/
    binance/types.ts, websocket/prices): a top-level array; `s`, string `p` required."""
    with http.websocket_connect(path_of(served["price_ws_url"])) as ws:
        frame = ws.receive_json()
    assert isinstance(frame, list) and len(frame) == 1, frame
    (entry,) = frame
    assert entry["e"] == "markPriceUpdate" and entry["s"] == "BTCUSDT", entry
    assert isinstance(entry["p"], str) and Decimal(entry["p"]) > 0, entry
    assert type(entry["E"]) is int and type(entry["T"]) is int, entry


# ------------------------------------------------------------------------------- the local default


def test_the_default_profile_serves_the_enigma_solver_and_the_coh_and_its_context_as_before() -> (
    None
):
    services = Services(embedded_backend())
    assert services.profile is deployments.LOCAL
    with TestClient(services.app, base_url=BASE) as http:
        served = http.get(f"{BASE}/context").json()
        assert "deployment" not in served and "contracts_version" not in served, sorted(served)
        assert http.get(f"{BASE}/solver/api{OPEN_PATH}").status_code == 404, "Rasa's open on local"
        assert http.get(f"{BASE}/solver/api/error_codes/detailed").status_code == 200
        assert http.get(f"{BASE}/coh/api/v5/configs/").status_code == 200


# ------------------------------------------------------------------------------------ serve


@pytest.mark.server
@pytest.mark.subprocess
def test_serve_deployment_base_says_which_profile_in_its_banner_and_context() -> None:
    with ServeProcess(args=("--deployment", "base", "--quiet")) as serve:
        text = "\n".join(serve.lines)
        assert "deployment profile:     base (" in text, text
        assert "TP/SL (COH):            none on this deployment" in text, text
        described = httpx.get(f"{serve.base}/context", timeout=10).json()
        assert described["deployment"]["name"] == "base", described["deployment"]


@pytest.mark.anvil
@pytest.mark.server
@pytest.mark.subprocess
@needs_anvil
def test_serve_deployment_base_on_anvil_opens_through_rasas_route() -> None:
    with (
        ServeProcess(120, args=("--chain", "anvil", "--deployment", "base", "--quiet")) as serve,
        httpx.Client(timeout=60) as http,
    ):
        client = ContextClient(http, serve.base)
        got = http.post(client.solver + OPEN_PATH, json=client.open_body())
        assert got.status_code == 200, got.text
        assert set(got.json()) == set(RFQ_FIELDS), sorted(got.json())


# ------------------------------------------------------------------------- the served document


def test_the_base_document_publishes_rasas_routes_and_no_enigma_or_coh_route(document) -> None:
    paths = set(document["paths"])
    assert {f"/solver/api{OPEN_PATH}", f"/solver/api{CLOSE_PATH}"} <= paths, sorted(paths)
    assert "/solver/api/instant_trade/instant_open" not in paths
    assert not [p for p in paths if p.startswith("/coh")], sorted(paths)
    assert f"/prices{PREMIUM_INDEX_PATH}" in paths and "/prices/api/v1/price" not in paths


def test_answers_conform_to_the_schemas_the_document_publishes(http, document) -> None:
    """Each answer against its declaration (declared once: `rasa.SCHEMAS`, `binance.SCHEMAS`)."""
    client = ContextClient(http)
    opened = http.post(client.solver + OPEN_PATH, json=client.open_body()).json()
    answers = {
        "InstantRFQResponse": opened,
        "SymbolsContractResponseSchema": http.get(f"{client.solver}/contract-symbols").json(),
        "ErrorCodeMap": http.get(f"{client.solver}/error_codes").json(),
        "RasaErrorResponse": http.get(f"{client.solver}/error_codes/1").json(),
        "NotFound": http.get(f"{client.solver}/temp_quote_status/-1").json(),
        "BinanceError": http.get(
            client.served["price_url"] + PREMIUM_INDEX_PATH, params={"symbol": "X"}
        ).json(),
    }
    (row,) = http.get(client.served["price_url"] + PREMIUM_INDEX_PATH).json()
    answers["RawBinancePremiumIndexRow"] = row
    with http.websocket_connect(path_of(client.served["price_ws_url"])) as ws:
        (entry,) = ws.receive_json()
    answers["RawBinanceMarkPriceFrame"] = entry
    departed = {name: problems(document, name, value) for name, value in answers.items()}
    assert not any(departed.values()), departed
