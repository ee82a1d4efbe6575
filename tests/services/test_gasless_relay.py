"""The mock gasless relay (harness.services.gasless) as the official Trading-SDK calls it.

Each published shape below is pinned to what the SDK reads (SYMM-IO/Trading-SDK,
packages/core/src/gasless/): the relay body `SignedOperationRequest` and the 202
`OperationAcceptedResponse` (wire-types.ts, relay-instant-operations.ts), the operation as
`formatGaslessOperation` writes it (format-gasless-operation.ts: uints as JSON numbers), the status
record `OperationStatusResponse` (get-gasless-request/to-gasless-request.ts), the statuses
(types.ts `GaslessRequestStatus`), the error envelope (errors.ts `parseGaslessErrorDetail`), the
fee-limit verdict (fee-limit.ts `isConfirmedGaslessFeeLimitError`: 400 SIMULATION_REVERTED naming
FeeLimitExceeded) and the key conflict (409 IDEMPOTENCY_KEY_CONFLICT,
`isGaslessIdempotencyConflictError`).
"""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from harness import calldata as cd
from harness import fee_limit_salt, flow, wire
from harness.keys import LocalKey
from harness.model import WrappedOperation
from harness.protocol import V0_8_6
from harness.services import Services, embedded_backend
from harness.services import gasless as gl
from harness.services.published import WARNINGS_HEADER

from .conftest import BASE, make_services

RELAY = f"{gl.PREFIX}{gl.OPERATIONS}{gl.RELAY_INSTANT_PATH}"
SCHEMAS = gl.schemas()


def conforms(name: str, value: Any) -> None:
    """`value` validates against the relay's declared shape `name` (what the OpenAPI document
    serves as a component), else the assertion names the first error."""
    errors = sorted(jsonschema.Draft202012Validator(SCHEMAS[name]).iter_errors(value), key=str)
    assert not errors, f"{name}: {errors[0].message} at {list(errors[0].absolute_path)}"


@pytest.fixture(scope="module")
def stack() -> Iterator[tuple[Services, TestClient]]:
    """The conftest's `services` and `http` over v0.8.6 mocks."""
    yield from make_services(generation=V0_8_6)


def sdk_operation(op: WrappedOperation) -> dict[str, Any]:
    """One operation as `formatGaslessOperation` writes it: every uint a JSON number."""
    out = wire.signed_operation_to_wire(op.signed_operation)
    out["maxUses"] = int(out["maxUses"])
    header = out["replayAttackHeader"]
    header["nonce"], header["deadline"] = int(header["nonce"]), int(header["deadline"])
    out["flexFields"] = [
        {**f, "offset": int(f["offset"]), "length": int(f["length"])} for f in out["flexFields"]
    ]
    return out


def sdk_body(owner: str, ops: list[WrappedOperation], key: str | None = None) -> dict[str, Any]:
    """The body `relayInstantOperations` posts (relay-instant-operations.ts): walletIds explicit
    decimal strings, one empty fill list per operation."""
    return {
        "idempotencyKey": key or str(uuid.uuid4()),
        "userAddress": owner,
        "operationType": "grantDelegations",
        "signedOps": [sdk_operation(op) for op in ops],
        "signatures": ["0x" + op.signature.hex() for op in ops],
        "fills": [[] for _ in ops],
        "flexFillerSignatures": [[] for _ in ops],
        "walletIds": ["0" for _ in ops],
    }


def new_owner(services: Services) -> tuple[LocalKey, str]:
    system = services.backend.system
    owner = LocalKey.generate()
    with services.backend.lock:
        system.chain.add_key(owner)
        sub, _ = system.create_sub_account(owner.address, "gasless")
    return owner, sub


def grant(
    services: Services, owner: LocalKey, sub: str, salt: bytes | None = None
) -> tuple[WrappedOperation, LocalKey]:
    """The owner-signed grantDelegations for a fresh session key and the TP/SL bot."""
    backend = services.backend
    session = LocalKey.generate()
    expiry = backend.now() + 3600
    infos = (
        flow.session_key_delegation(sub, session.address, expiry, V0_8_6),
        flow.tpsl_bot_delegation(sub, backend.bot.address, expiry),
    )
    return flow.grant_operation(backend.context, owner, infos, deadline=0, salt=salt), session


def test_relay_instant_answers_202_operation_accepted_response(
    services: Services, http: TestClient
) -> None:
    owner, sub = new_owner(services)
    op, session = grant(services, owner, sub)
    got = http.post(RELAY, json=sdk_body(owner.address, [op]))
    assert got.status_code == 202, got.text
    body = got.json()
    # OperationAcceptedResponse (wire-types.ts): exactly these four, amounts decimal strings
    assert set(body) == {"request_id", "status", "paid_fee", "remaining_fee_allowance"}, body
    assert body["status"] in gl.STATUSES, f"status {body['status']!r} is not a GaslessRequestStatus"
    assert body["paid_fee"].isdigit() and body["remaining_fee_allowance"].isdigit(), body
    assert WARNINGS_HEADER not in got.headers, "the SDK's own form draws no warning"
    conforms("OperationAcceptedResponse", body)
    system = services.backend.system
    for selector in cd.session_key_selectors(V0_8_6):
        assert system.is_delegation_active(sub, session.address, selector), selector.hex()


def test_the_status_poll_serves_the_operation_status_response(
    services: Services, http: TestClient
) -> None:
    owner, sub = new_owner(services)
    op, _ = grant(services, owner, sub)
    body = sdk_body(owner.address, [op])
    accepted = http.post(RELAY, json=body).json()
    got = http.get(f"{gl.PREFIX}{gl.OPERATIONS}/{accepted['request_id']}")
    assert got.status_code == 200, got.text
    record = got.json()
    # the fields to-gasless-request.ts reads from an operations record (keyed `id`)
    expected = {
        "id",
        "idempotency_key",
        "user_address",
        "account_id",
        "operation_type",
        "payload",
        "status",
        "fee_amount_raw",
        "tx_hash",
        "error_code",
        "error_message",
        "created_at",
        "updated_at",
    }
    assert set(record) == expected, set(record) ^ expected
    assert record["id"] == accepted["request_id"]
    assert record["status"] == gl.SUCCEEDED and record["status"] in gl.TERMINAL, record["status"]
    assert record["tx_hash"] and record["tx_hash"].startswith("0x"), record
    assert record["payload"]["wallet_ids"] == ["0"], "payload.wallet_ids, decimal strings"
    assert record["idempotency_key"] == body["idempotencyKey"]
    conforms("OperationStatusResponse", record)


def test_the_sdk_shaped_body_conforms_to_the_declared_request(services: Services) -> None:
    owner, sub = new_owner(services)
    op, _ = grant(services, owner, sub)
    conforms("SignedOperationRequest", sdk_body(owner.address, [op]))


def test_an_unknown_request_id_is_a_404_in_the_vendor_envelope(http: TestClient) -> None:
    got = http.get(f"{gl.PREFIX}{gl.OPERATIONS}/{uuid.uuid4()}")
    assert got.status_code == 404, got.text
    detail = got.json()["detail"]  # errors.ts: {detail: {code, message, details}}
    assert detail["code"] == gl.REQUEST_NOT_FOUND and detail["message"], detail
    conforms("GaslessErrorResponse", got.json())


def test_same_key_and_same_body_return_the_same_record_executed_once(
    services: Services, http: TestClient
) -> None:
    owner, sub = new_owner(services)
    op, _ = grant(services, owner, sub)
    body = sdk_body(owner.address, [op])
    first = http.post(RELAY, json=body)
    again = http.post(RELAY, json=body)
    assert first.status_code == again.status_code == 202, again.text
    assert first.json() == again.json(), "a retried submit returns the existing record"
    relay = services.gasless
    assert relay is not None
    same_key = [r for r in relay.records.values() if r.idempotency_key == body["idempotencyKey"]]
    assert len(same_key) == 1, f"{len(same_key)} records for one key"


def test_same_key_with_another_body_is_409_idempotency_key_conflict(
    services: Services, http: TestClient
) -> None:
    owner, sub = new_owner(services)
    op, _ = grant(services, owner, sub)
    other, _ = grant(services, owner, sub)
    key = str(uuid.uuid4())
    assert http.post(RELAY, json=sdk_body(owner.address, [op], key)).status_code == 202
    got = http.post(RELAY, json=sdk_body(owner.address, [other], key))
    assert got.status_code == 409, got.text
    assert got.json()["detail"]["code"] == gl.IDEMPOTENCY_KEY_CONFLICT, got.json()
    conforms("GaslessErrorResponse", got.json())


def test_a_header_key_differing_from_the_body_key_is_named(
    services: Services, http: TestClient
) -> None:
    owner, sub = new_owner(services)
    op, _ = grant(services, owner, sub)
    got = http.post(
        RELAY, json=sdk_body(owner.address, [op]), headers={gl.IDEMPOTENCY_HEADER: "other"}
    )
    assert got.status_code == 422, got.text
    issue = got.json()["detail"][0]  # FastAPI 422 {detail: [{loc, msg, type}]}
    assert issue["loc"] == ["body", "idempotencyKey"] and "header" in issue["msg"], issue
    conforms("GaslessErrorResponse", got.json())


def test_a_replayed_operation_is_refused_naming_max_uses_exceeded(
    services: Services, http: TestClient
) -> None:
    owner, sub = new_owner(services)
    op, _ = grant(services, owner, sub)
    assert http.post(RELAY, json=sdk_body(owner.address, [op])).status_code == 202
    digest_before = services.backend.system.chain.w3.eth.block_number
    got = http.post(RELAY, json=sdk_body(owner.address, [op]))  # a fresh key, the same operation
    assert got.status_code == 400, got.text
    detail = got.json()["detail"]
    assert detail["code"] == gl.SIMULATION_REVERTED, detail
    assert detail["details"]["contract_revert"]["error"] == "MaxUsesExceeded", detail
    assert services.backend.system.chain.w3.eth.block_number == digest_before, "nothing mined"


def relay_charging(
    services: Services, http: TestClient, owner: str, op: WrappedOperation, fee: int
) -> Any:
    """The relay's answer to `op` while the mock's GaslessLayer charges `fee` per selector (its
    admin's fee setter; back to no fee afterwards)."""
    system = services.backend.system
    assert services.gasless is not None
    layer = services.gasless.layer

    def charge(wei: int) -> None:
        with services.backend.lock:
            system.chain.send(layer.functions.setDefaultSelectorFee(wei), system.admin)

    charge(fee)
    try:
        return http.post(RELAY, json=sdk_body(owner, [op]))
    finally:
        charge(0)


def test_a_fee_above_the_fee_limit_salt_is_the_sdks_fee_limit_error(
    services: Services, http: TestClient
) -> None:
    system = services.backend.system
    owner, sub = new_owner(services)
    op, session = grant(services, owner, sub, salt=fee_limit_salt.fee_limit_salt(10**15))
    got = relay_charging(services, http, owner.address, op, fee=10**16)
    # fee-limit.ts: 400 + SIMULATION_REVERTED + a revert naming FeeLimitExceeded
    assert got.status_code == 400, got.text
    detail = got.json()["detail"]
    assert detail["code"] == gl.SIMULATION_REVERTED, detail
    revert = detail["details"]["contract_revert"]
    assert revert["error"] == "FeeLimitExceeded" and revert["selector"] == "0xc61c3974", revert
    assert revert["arguments"] == [str(10**16), str(10**15)], "fee, then the salt's maximum"
    conforms("GaslessErrorResponse", got.json())
    selector = cd.ADD_MARGIN_TO_NEXT_VA.selector
    assert not system.is_delegation_active(sub, session.address, selector), "not executed"


def test_a_fee_within_the_fee_limit_salt_is_relayed_and_paid(
    services: Services, http: TestClient
) -> None:
    owner, sub = new_owner(services)
    op, _ = grant(services, owner, sub, salt=fee_limit_salt.fee_limit_salt(10**16))
    got = relay_charging(services, http, owner.address, op, fee=10**16)
    assert got.status_code == 202, got.text
    assert got.json()["paid_fee"] == str(10**16), got.json()


def test_an_operation_the_validator_refuses_is_named_before_the_chain(
    services: Services, http: TestClient
) -> None:
    owner, sub = new_owner(services)
    op, _ = grant(services, owner, sub)
    body = sdk_body(owner.address, [op])
    body["signedOps"][0]["maxUses"] = 2  # InvalidGrantOperation: a grant is used once
    got = http.post(RELAY, json=body)
    assert got.status_code == 400, got.text
    detail = got.json()["detail"]
    assert detail["code"] == gl.OPERATION_REFUSED, detail
    assert detail["details"]["rule_ids"], "the refusal names the validator's rules"
    assert "signedOps[0]" in detail["message"], detail["message"]


def test_an_operation_that_is_not_a_grant_is_not_relayed_and_named(
    services: Services, http: TestClient
) -> None:
    owner, sub = new_owner(services)
    ctx = services.backend.context
    call = cd.BIND_TO_PARTY_B.encode(services.backend.system.party_b.address)
    op = flow.sign_operation(ctx, owner, ctx.symmio_core, call, sub, deadline=0)
    got = http.post(RELAY, json=sdk_body(owner.address, [op]))
    assert got.status_code == 400, got.text
    detail = got.json()["detail"]
    assert detail["code"] == gl.OPERATION_NOT_RELAYED, detail
    assert ctx.symmio_core in detail["message"] and "grant operations only" in detail["message"]


def test_a_gasless_wallet_operation_is_not_relayed_and_named(
    services: Services, http: TestClient
) -> None:
    owner, sub = new_owner(services)
    op, _ = grant(services, owner, sub)
    body = sdk_body(owner.address, [op])
    body["walletIds"] = ["1"]
    got = http.post(RELAY, json=body)
    assert got.status_code == 400, got.text
    assert got.json()["detail"]["code"] == gl.OPERATION_NOT_RELAYED
    assert "walletIds[0]" in got.json()["detail"]["message"]


def test_an_unknown_top_level_field_is_a_422_naming_it(
    services: Services, http: TestClient
) -> None:
    owner, sub = new_owner(services)
    op, _ = grant(services, owner, sub)
    body = {**sdk_body(owner.address, [op]), "walletId": "0"}
    got = http.post(RELAY, json=body)
    assert got.status_code == 422, got.text
    issue = got.json()["detail"][0]
    assert issue == {
        "loc": ["body", "walletId"],
        "msg": "Extra inputs are not permitted",
        "type": "extra_forbidden",
    }, issue


def test_omitted_wallet_ids_default_to_one_zero_per_operation(
    services: Services, http: TestClient
) -> None:
    owner, sub = new_owner(services)
    op, _ = grant(services, owner, sub)
    body = sdk_body(owner.address, [op])
    del body["walletIds"], body["fills"], body["flexFillerSignatures"]
    accepted = http.post(RELAY, json=body)
    assert accepted.status_code == 202, accepted.text
    record = http.get(f"{gl.PREFIX}{gl.OPERATIONS}/{accepted.json()['request_id']}").json()
    assert record["payload"]["wallet_ids"] == ["0"], record["payload"]


def test_the_v086_context_names_the_gasless_url(http: TestClient) -> None:
    served = http.get("/context").json()
    assert served["gasless_url"] == f"{BASE}{gl.PREFIX}", served.get("gasless_url")


def test_v085_serves_no_gasless_relay() -> None:
    services = Services(embedded_backend())
    assert services.gasless is None
    with TestClient(services.app, base_url=BASE) as http:
        got = http.post(RELAY, json={})
        assert got.status_code == 404, got.text
        assert "gasless_url" not in http.get("/context").json()


def test_a_self_target_operation_that_is_not_a_grant_is_refused_by_the_validator(
    services: Services, http: TestClient
) -> None:
    owner, sub = new_owner(services)
    ctx = services.backend.context
    call = cd.ADD_MARGIN_TO_NEXT_VA.selector + bytes(128)  # another selector on the InstantLayer
    op = flow.sign_operation(ctx, owner, ctx.instant_layer, call, sub, deadline=0)
    got = http.post(RELAY, json=sdk_body(owner.address, [op]))
    assert got.status_code == 400, got.text
    detail = got.json()["detail"]
    assert detail["code"] == gl.OPERATION_REFUSED, detail
    assert any("grant" in rule for rule in detail["details"]["rule_ids"]), detail["details"]


def test_a_grant_signed_by_a_non_owner_is_refused_naming_invalid_delegation(
    services: Services, http: TestClient
) -> None:
    _owner, sub = new_owner(services)
    stranger = LocalKey.generate()
    op, _ = grant(services, stranger, sub)  # signed for `sub` by a key that does not own it
    got = http.post(RELAY, json=sdk_body(stranger.address, [op]))
    assert got.status_code == 400, got.text
    detail = got.json()["detail"]
    # the validator cannot know the owner without the chain: the simulation names the revert
    assert detail["code"] == gl.SIMULATION_REVERTED, detail
    revert = detail["details"]["contract_revert"]
    assert (revert["error"], revert["selector"]) == ("InvalidDelegation", "0xa9e649e9"), revert


def test_a_body_that_is_not_json_is_refused_in_the_gasless_envelope(http: TestClient) -> None:
    got = http.post(RELAY, content=b"{}", headers={"content-type": "text/plain"})
    assert got.status_code == 415, got.text
    assert got.json()["detail"]["code"] == gl.BODY_UNREADABLE, got.json()


def test_the_v086_banner_prints_the_relay_and_its_context_carries_gasless_url(
    services: Services,
) -> None:
    from harness.services.server import Listening, banner

    lines = banner(services, Listening("127.0.0.1", 8123))
    relay = "http://127.0.0.1:8123/gasless"
    assert any(line.startswith(f"gasless relay base URL: {relay}") for line in lines), lines
    (context_line,) = [line for line in lines if line.startswith("context file: ")]
    assert f'"gasless_url":"{relay}"' in context_line, context_line
