"""The sans-IO core of the at-most-once clients (`harness.services.at_most_once`), driven by hand:
each operation yields what it needs (Send, Sleep, ReadUsage) and is answered here with canned
responses, no service and no event loop. The sync and async clients only perform these effects,
so what is pinned here holds for both (issue 19: reconciliation written once)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx
import pytest

from harness import eip712, flow
from harness.demo import example_context, label_address
from harness.keys import LocalKey
from harness.model import Domain, TpslRequest
from harness.primitives import to_hex
from harness.services import at_most_once as core
from harness.services.published import IDENTITY_HEADER

RETRY = core.Retry(attempts=3, backoff=0.0, max_wait=0.0, reconcile_reads=2, settle=0.5)
KEY = LocalKey(b"\x01" * 32)
OTHER = LocalKey(b"\x02" * 32)
CTX = example_context()
VA = label_address("VirtualAccount")


@dataclass
class Endpoint:
    base_url: str = "http://coh.test"
    headers: dict[str, str] = field(default_factory=dict)
    retry: core.Retry = RETRY
    domain: Domain | None = None
    usage_count: Any = None


def tpsl(key: LocalKey = KEY, salt: int = 7) -> TpslRequest:
    return flow.build_tpsl(
        CTX.tpsl_domain(),
        key,
        sub_account=label_address("SubAccount"),
        virtual_account=VA,
        affiliate=CTX.affiliate,
        quote_id=42,
        symbol=CTX.symbols[0],
        side="long",
        quantity="0.004",
        mark_price="65000.5",
        take_profit="68250.5",
        salt=salt,
    )


def row(coh_id: str = "coh9", kind: str = "take_profit", state: str = "new") -> dict[str, Any]:
    return {
        "quote_id": 42,
        "coh_quote_id": coh_id,
        "party_a_address": VA,
        "conditional_order_type": kind,
        "conditional_order_price": 68250.5,
        "state": state,
    }


def answer(body: Any, identity: list[dict[str, Any]] | None = None) -> httpx.Response:
    headers = {IDENTITY_HEADER: json.dumps(identity)} if identity is not None else {}
    return httpx.Response(200, json=body, headers=headers)


def identity_of(request: TpslRequest, coh_id: str = "coh9") -> dict[str, Any]:
    return {
        "coh_quote_id": coh_id,
        "conditional_order_type": "take_profit",
        "signer": request.signer,
        "order_digest": to_hex(eip712.digest(request.domain, request.order)),
        "cancel_signer": None,
        "cancel_digest": None,
    }


def drive(flow_: core.Flow[Any], answers: list[Any]) -> tuple[list[core.Effect], Any]:
    """Run a flow, answering each effect with the next of `answers`: (effects seen, result)."""
    seen: list[core.Effect] = []
    reply: Any = None
    while True:
        try:
            effect = flow_.send(reply)
        except StopIteration as done:
            return seen, done.value
        seen.append(effect)
        reply = answers.pop(0)


def sends(effects: list[core.Effect]) -> list[tuple[str, str]]:
    return [(e.method, e.url.split(".test")[1]) for e in effects if isinstance(e, core.Send)]


LOST = httpx.ReadTimeout("lost")


def lost_then_searched_twice(searched: httpx.Response) -> list[Any]:
    """The submission's transport error, then a search, the settle sleep, a search again."""
    return [LOST, searched, None, searched]


def test_an_ambiguous_submit_is_never_resent_and_reconciles_only_to_a_proven_row() -> None:
    mine = tpsl()
    effects, got = drive(
        core.submit(Endpoint(), mine),
        [LOST, answer({"data": [row()]}, [identity_of(mine)])],
    )
    assert got == "coh9"
    assert sends(effects) == [("POST", "/api/v5/"), ("POST", "/api/v5/search/")], effects


def test_a_row_that_fits_but_carries_no_identity_is_unknown_at_once() -> None:
    with pytest.raises(core.AmbiguousSubmission) as raised:
        drive(core.submit(Endpoint(), tpsl()), [LOST, answer({"data": [row()]})])
    assert raised.value.seen == (row(),), raised.value.seen
    assert "unknown" in str(raised.value)


def test_another_signers_order_with_the_same_legs_and_salt_is_not_this_submit() -> None:
    """The same ConditionalOrder signed by another key has the same digest: the signer tells."""
    theirs = tpsl(OTHER)
    with pytest.raises(core.AmbiguousSubmission) as raised:
        drive(
            core.submit(Endpoint(), tpsl()),
            lost_then_searched_twice(answer({"data": [row()]}, [identity_of(theirs)])),
        )
    assert [r["coh_quote_id"] for r in raised.value.seen] == ["coh9"]
    assert raised.value.salts == (7,)


def test_an_identical_order_with_another_salt_is_not_this_submit() -> None:
    earlier = tpsl(salt=8)
    with pytest.raises(core.AmbiguousSubmission) as raised:
        drive(
            core.submit(Endpoint(), tpsl(salt=9)),
            lost_then_searched_twice(answer({"data": [row()]}, [identity_of(earlier)])),
        )
    assert raised.value.salts == (9,) and raised.value.seen == (row(),), raised.value


def test_a_cancel_is_done_only_when_the_row_names_this_cancels_digest_and_signer() -> None:
    domain = CTX.tpsl_domain()
    message, signature = flow.build_tpsl_delete(
        domain, KEY, virtual_account=VA, coh_quote_id="coh9", conditional_order_type="stop_loss"
    )
    earlier, _ = flow.build_tpsl_delete(
        domain, KEY, virtual_account=VA, coh_quote_id="coh9", conditional_order_type="stop_loss"
    )
    cancelled = row(kind="stop_loss", state="canceled")

    def entry(digest_of: Any) -> dict[str, Any]:
        return {
            "coh_quote_id": "coh9",
            "conditional_order_type": "stop_loss",
            "signer": KEY.address,
            "order_digest": "0x00",
            "cancel_signer": KEY.address,
            "cancel_digest": to_hex(eip712.digest(domain, digest_of)),
        }

    effects, got = drive(
        core.cancel(Endpoint(), domain, message, signature, KEY.address),
        [LOST, answer({"data": [cancelled]}, [entry(message)])],
    )
    assert got == "coh9" and sends(effects)[1:] == [("POST", "/api/v5/search/")]
    with pytest.raises(core.AmbiguousSubmission) as raised:
        drive(
            core.cancel(Endpoint(), domain, message, signature, KEY.address),
            lost_then_searched_twice(answer({"data": [cancelled]}, [entry(earlier)])),
        )
    assert "not re-sent" in str(raised.value)


def test_an_ambiguous_open_reconciles_by_the_usage_count_of_every_digest() -> None:
    from harness.demo import example_context as ctx_of

    from .test_client import _open_body

    body = _open_body()
    domain = eip712.instant_layer_domain(ctx_of().chain_id, ctx_of().instant_layer)
    conn = Endpoint(base_url="http://solver.test", domain=domain, usage_count=object())
    effects, got = drive(core.instant_open(conn, body), [LOST, 1, 1])
    assert isinstance(got, core.Reconciled) and len(got.digests) == 2
    reads = [e for e in effects if isinstance(e, core.ReadUsage)]
    assert len(reads) == 2 and sends(effects) == [("POST", "/api/instant_trade/instant_open")]
    with pytest.raises(core.AmbiguousSubmission) as raised:
        drive(core.instant_open(conn, body), [LOST, 0, None, 1, 0])
    assert len(raised.value.digests) == 2


def test_a_state_change_is_never_resent_and_carries_its_request() -> None:
    conn = Endpoint()
    with pytest.raises(core.AmbiguousSubmission) as raised:
        drive(core.set_mock_price(conn, 1, Decimal("66000.5")), [LOST])
    assert raised.value.request == {"symbol_id": 1, "price": "66000.5"}


def test_the_respx_mock_coh_names_identity_so_a_lost_reply_reconciles() -> None:
    import respx

    from harness.services import CohClient
    from harness.services.mocks import MockCoh

    with respx.mock(assert_all_called=False) as router:
        mock = MockCoh(router, CTX, "https://coh.test", lambda: 1_700_000_000)
        mine = tpsl(salt=11)
        mock.fault("tpsl", "reply_lost", 1)
        with CohClient("https://coh.test", retry=RETRY) as coh:
            coh.sleep = lambda _s: None
            got = coh.submit(mine)
        assert [r["coh_quote_id"] for r in mock.orders] == [got], mock.orders
        mock.assert_called("tpsl", times=1)
