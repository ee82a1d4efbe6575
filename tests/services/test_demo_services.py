"""`symmio-harness demo` runs steps 6-8 through the in-process mock services."""

from __future__ import annotations

from harness.demo import run_demo


def test_demo_posts_open_close_and_tpsl_through_the_services() -> None:
    lines: list[str] = []
    result = run_demo(lines.append)
    text = "\n".join(lines)
    assert (
        "POST /instant_trade/instant_open -> temp_quote_id -1; websocket "
        "SendQuoteTransaction/success"
    ) in text
    assert f"quote {result['quote_id']}, VA {result['virtual_account']}" in text
    assert "take profit 68250.5 hit (COH order coh1)" in text
    assert f"quote {result['quote_id']} CLOSED" in text
