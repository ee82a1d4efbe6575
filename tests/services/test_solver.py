"""The mock solver in-process: conforming bodies execute on chain, others are refused by rule."""

from __future__ import annotations

import pytest

from harness import eip712, wire
from harness.chain import ChainError
from harness.keys import LocalKey
from harness.services import ServiceError, Services, SolverClient
from harness.services.errors import CODES
from harness.services.published import ERROR_CATEGORIES, WARNINGS_HEADER
from harness.services.solver import FAILED, OPENED

from .conftest import User, close_plan, open_plan, subscribe

WS = "/solver/api/ws/notifications"


def test_conforming_open_executes_in_one_transaction_and_the_websocket_reports_it(
    services: Services, http, solver: SolverClient, user: User
) -> None:
    system = services.backend.system
    before = system.chain.latest_block()
    plan = open_plan(services, user)
    with http.websocket_connect(WS) as ws:
        subscribe(ws, user.sub_account)
        accepted = solver.instant_open(plan.body)
        frame = ws.receive_json()
    assert accepted.temp_quote_id < 0
    assert accepted.party_b_mm == "0"
    assert system.chain.latest_block() == before + 1, "the open is ONE executeTemplate"
    data = frame["data"]
    assert frame["address"] == user.sub_account
    assert (data["last_seen_action"], data["action_status"]) == ("SendQuoteTransaction", "success")
    assert data["temp_quote_id"] == accepted.temp_quote_id
    quote = system.quote(data["quote_id"])
    assert quote["partyA"] == data["va_address"] and quote["quoteStatus"] == 4  # OPENED
    assert solver.instant_quote_id(accepted.temp_quote_id) == data["quote_id"]
    status = solver.temp_quote_status(accepted.temp_quote_id)
    assert status["state"] == OPENED and status["party_a_account"] == data["va_address"]
    assert status["sub_account"] == user.sub_account and "error_code" not in status, status


def test_nonconforming_open_is_refused_with_its_rule_ids_and_the_chain_is_untouched(
    services: Services, http, user: User
) -> None:
    chain = services.backend.system.chain
    before = chain.latest_block()
    zero = bytes(32)
    body = wire.instant_open_to_wire(open_plan(services, user, salts=(zero, zero)).body)
    body["sendQuote"]["signedOperation"]["maxUses"] = "0"  # also breaks the signature
    response = http.post("/solver/api/instant_trade/instant_open", json=body)
    assert response.status_code == 400
    got = response.json()
    assert got["code"] == 3000 and got["category"] == "validation" and got["http_status"] == 400
    assert set(got["rule_ids"]) == {"salt.zero", "sig.signer"}, got["rule_ids"]
    assert ("maxuses.one", "warning", "sendQuote.signedOperation.maxUses") in {
        (f["rule"], f["severity"], f["path"]) for f in got["findings"]
    }
    assert chain.latest_block() == before


def test_unreadable_body_is_3001_naming_the_problem(http) -> None:
    response = http.post(
        "/solver/api/instant_trade/instant_open",
        content=b'{"addMargin": NaN}',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["code"] == 3001


def test_chain_refusal_is_3010_with_the_contract_error_and_a_failed_status(
    services: Services, http, solver: SolverClient, user: User
) -> None:
    # a session key nobody delegated to: the body conforms, the InstantLayer refuses it
    stranger = User(LocalKey.generate(), user.sub_account)
    with http.websocket_connect(WS) as ws:
        subscribe(ws, user.sub_account)
        response = http.post(
            "/solver/api/instant_trade/instant_open",
            json=wire.instant_open_to_wire(open_plan(services, stranger).body),
        )
        frame = ws.receive_json()
    assert response.status_code == 422
    got = response.json()
    assert got["code"] == 3010 and "InvalidDelegation" in got["error_detail"]
    failed = solver.temp_quote_status(got["temp_quote_id"])
    assert failed["state"] == FAILED and failed["error_code"] == 3010, failed
    assert (
        failed["error_category"] == "account_state"
        and "InvalidDelegation" in failed["error_detail"]
    )
    assert frame["data"]["action_status"] == "failed"
    assert frame["data"]["failure_message"] == "InvalidDelegation"


def test_close_fills_on_chain_and_reports_the_fill(
    services: Services, http, solver: SolverClient, user: User
) -> None:
    system = services.backend.system
    with http.websocket_connect(WS) as ws:
        subscribe(ws, user.sub_account)
        solver.instant_open(open_plan(services, user).body)
        opened = ws.receive_json()["data"]
        close = close_plan(services, user, opened["va_address"], opened["quote_id"], "0.015")
        solver.instant_close(close.body)
        filled = ws.receive_json()
    assert system.quote(opened["quote_id"])["quoteStatus"] == 7  # CLOSED
    assert filled["address"] == user.sub_account
    assert filled["data"]["last_seen_action"] == "FillMarketOrderInstantClose"
    assert filled["data"]["filled_amount_close"] == "0.015"


def test_close_signed_for_the_sub_account_is_refused_by_the_chain(
    services: Services, solver: SolverClient, user: User
) -> None:
    status = solver.temp_quote_status(
        solver.instant_open(open_plan(services, user).body).temp_quote_id
    )
    wrong = close_plan(services, user, user.sub_account, status["quote_id"])
    with pytest.raises(ServiceError) as caught:
        solver.instant_close(wrong.body)
    assert caught.value.code == 3010


def test_eip712_config_equals_harness_eip712(services: Services, solver: SolverClient) -> None:
    config = solver.eip712_config()
    domain = services.backend.system.domain
    assert config["domain"] == wire.domain_to_wire(domain)
    assert config["domain_separator"] == "0x" + eip712.separator(domain).hex()
    for name, value in config["typehashes"].items():
        assert value == "0x" + eip712.TYPEHASH[name].hex(), name
    assert config["types"] == eip712.eip712_types("SignedOperation")
    assert config["typehashes"]["SignedOperation"].startswith("0x70d230c2")


def test_locked_params_and_symbols_are_strings(http, solver: SolverClient) -> None:
    params = solver.locked_params("BTCUSDT", 10)
    assert params.leverage == 10 and str(params.cva) == "2"
    raw = http.get("/solver/api/get_locked_params/BTCUSDT", params={"leverage": "10"}).json()
    assert all(isinstance(v, str) for v in raw.values())
    (symbol,) = solver.contract_symbols()
    assert symbol["symbol_id"] == 1 and symbol["price_precision"] == 1
    assert isinstance(symbol["trading_fee"], str)


def test_bad_parameters_name_the_field(http) -> None:
    bad = http.get("/solver/api/get_locked_params/BTCUSDT", params={"leverage": "1.5"})
    assert bad.status_code == 400 and bad.json()["error_detail"].count("leverage:") == 1
    unknown = http.get("/solver/api/get_locked_params/DOGE", params={"leverage": "2"})
    assert unknown.status_code == 404 and "symbolName" in unknown.json()["error_detail"]
    temp = http.get("/solver/api/temp_quote_status/abc")
    assert temp.status_code == 400 and "tempQuoteId" in temp.json()["error_detail"]
    assert http.get("/solver/api/instant_quote_id/-999999").status_code == 404


def test_error_codes_is_the_published_code_to_message_map(solver: SolverClient) -> None:
    codes = solver.error_codes()
    assert codes == {str(c.code): c.message for c in CODES if c.code >= 3000}, codes
    assert "407" not in codes, "407 is the COH's precision error, not a solver code"


def test_detailed_error_codes_use_only_published_categories(solver: SolverClient) -> None:
    detailed = solver.error_codes_detailed()
    assert all(
        c["code"] >= 3000 and set(c) == {"code", "message", "category", "http_status"}
        for c in detailed
    ), detailed
    outside = {c["category"] for c in detailed} - set(ERROR_CATEGORIES)
    assert not outside, f"categories outside ClientErrorCategory: {outside}"


def test_an_internal_error_is_a_500_that_leaks_nothing(
    services: Services, http, user: User, monkeypatch, caplog
) -> None:
    solver = services.solver

    def broken(body, quote=None):
        raise RuntimeError("secret internals /home/x")

    monkeypatch.setattr(solver, "open", broken)
    body = wire.instant_open_to_wire(open_plan(services, user).body)
    response = http.post("/solver/api/instant_trade/instant_open", json=body)
    assert response.status_code == 500
    assert response.json()["code"] == 3099
    assert "secret" not in response.text and "Traceback" not in response.text
    assert "RuntimeError" in caplog.text and "secret" not in caplog.text


def test_an_internal_error_of_the_harness_names_itself_in_the_log_only(
    services: Services, http, user: User, monkeypatch, caplog
) -> None:
    def gone(body, quote=None):
        raise ChainError("the embedded chain's process is gone (exit code -9)")

    monkeypatch.setattr(services.solver, "open", gone)
    body = wire.instant_open_to_wire(open_plan(services, user).body)
    response = http.post("/solver/api/instant_trade/instant_open", json=body)
    assert response.status_code == 500 and "gone" not in response.text
    assert "ChainError: the embedded chain's process is gone (exit code -9)" in caplog.text


def test_websocket_subscribe_errors_name_the_field(http) -> None:
    with http.websocket_connect(WS) as ws:
        ws.send_json({"channel_patterns": [{"app_name": "x", "address": 1}]})
        error = ws.receive_json()["error"]
    assert error.startswith("channel_patterns[0].address"), error


def test_close_in_the_sdk_envelope_is_executed(
    services: Services, http, solver: SolverClient, user: User
) -> None:
    # {"operations": [...]} is the published ApiV2InstantCloseRequest: conforming, no warning
    status = solver.temp_quote_status(
        solver.instant_open(open_plan(services, user).body).temp_quote_id
    )
    close = close_plan(services, user, status["party_a_account"], status["quote_id"], "0.015")
    body = {"operations": wire.instant_close_to_wire(close.body)}
    response = http.post("/solver/api/instant_trade/instant_close", json=body)
    assert response.status_code == 200, response.text
    assert response.content == b"", "the published close reply is void: an empty 200"
    assert WARNINGS_HEADER not in response.headers, response.headers
    assert services.backend.system.quote(status["quote_id"])["quoteStatus"] == 7


def test_onboard_names_the_bad_field(http) -> None:
    bad = http.post("/mock/onboard", json={"session_key": "0xabc"})
    assert bad.status_code == 400 and "session_key: expected" in bad.json()["error_detail"]
    extra = http.post("/mock/onboard", json={"session_key": LocalKey.generate().address, "x": 1})
    assert extra.status_code == 400 and "x: unknown key" in extra.json()["error_detail"]
