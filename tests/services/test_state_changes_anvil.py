"""The same state-change checks on anvil (issue 19: both chains): a mark the chain cannot hold
is refused and not stored; `/mock/onboard` refuses the bot and a key bound to another user."""

from __future__ import annotations

import httpx
import pytest

from harness.keys import LocalKey
from harness.services.launch import ServeProcess

from ..anvil_needed import needs_anvil


@pytest.mark.anvil
@pytest.mark.server
@pytest.mark.subprocess
@needs_anvil
def test_on_anvil_an_unholdable_mark_and_impossible_session_keys_are_refused() -> None:
    with (
        ServeProcess(120, args=("--chain", "anvil", "--quiet")) as serve,
        httpx.Client(base_url=serve.base, timeout=60) as http,
    ):
        before = http.get("/context").json()["mark_prices"]
        got = http.post("/coh/mock/price", json={"symbol_id": 1, "price": "1" * 70})
        assert got.status_code == 400 and "uint256" in got.json()["error_detail"], got.text
        assert http.get("/context").json()["mark_prices"] == before, "the mark was stored"
        bot = http.get("/context").json()["tpsl_bot"]
        got = http.post("/mock/onboard", json={"session_key": bot})
        assert got.status_code == 400 and "TP/SL bot" in got.json()["error_detail"], got.text
        key = LocalKey.generate().address
        assert http.post("/mock/onboard", json={"session_key": key}).status_code == 200
        again = http.post("/mock/onboard", json={"session_key": key})
        assert again.status_code == 400, again.text
        assert "already the session key" in again.json()["error_detail"], again.text
