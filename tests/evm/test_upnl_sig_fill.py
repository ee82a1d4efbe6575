"""The SDK's flex range over sendQuote's upnlSig on chain: the solver's fill is what makes the
open execute (real-world.md §3, regime 3; the InstantLayer's flex-fill rules, spec §3).

Bypassing the service: the same instant-open transaction without the fill reverts
`InvalidFlexFillLength(1, 0)`; with the fill but sent by someone other than the named filler
and without its FlexFillAuth, `InvalidFlexFillerSignature(0)`. The solver's own two ways both
open: as the PartyB sender (our mocks), or with the hedger's FlexFillAuth (the real-surface
driver, which cannot send as a PartyB contract).
"""

from __future__ import annotations

from typing import Any

import pytest

from harness import calldata as cd
from harness import flow
from harness.chain import System
from harness.chain.mocks import PARTY_B_EXECUTE
from harness.upnl_sig import UpnlSigRegime

from .scenario import FILL_PRICE, Scenario

pytestmark = pytest.mark.evm


def _sdk_flex_body(s: Scenario):
    plan = s.open_plan(upnl_sig=UpnlSigRegime.SDK_FLEX, upnl_sig_timestamp=s.chain.now())
    return plan.body


def _template_args(tx: flow.TxRequest) -> dict[str, Any]:
    """executeTemplate's arguments inside the solver's transaction (relayed by the PartyB)."""
    assert tx.function is PARTY_B_EXECUTE, tx.describe()
    return cd.EXECUTE_TEMPLATE.decode(PARTY_B_EXECUTE.decode(tx.data)["data"])


def _direct(s: Scenario, args: dict[str, Any], **changes: Any) -> flow.TxRequest:
    """executeTemplate sent by the admin itself with `changes` to its arguments."""
    values = {**args, **changes}
    data = cd.EXECUTE_TEMPLATE.encode(*values.values())
    return flow.TxRequest(
        "executeTemplate", s.system.admin, s.system.instant_layer.address, data, cd.EXECUTE_TEMPLATE
    )


def test_sdk_flex_open_without_the_solvers_fill_reverts_invalid_flex_fill_length(
    onboarded: Scenario,
) -> None:
    s = onboarded
    args = _template_args(s.system.instant_open_tx(_sdk_flex_body(s), opened_price=FILL_PRICE))
    no_fill = [[] for _ in args["fills"]]
    tx = s.system.as_party_b(_direct(s, args, fills=no_fill, flexFillerSignatures=no_fill))
    assert s.chain.revert_of(tx) == ("InvalidFlexFillLength", (1, 0))


def test_a_fill_sent_by_another_sender_without_flex_fill_auth_reverts(onboarded: Scenario) -> None:
    s = onboarded
    args = _template_args(s.system.instant_open_tx(_sdk_flex_body(s), opened_price=FILL_PRICE))
    assert s.chain.revert_of(_direct(s, args)) == ("InvalidFlexFillerSignature", (0,))


def test_sdk_flex_open_with_the_solvers_fill_opens_the_position(onboarded: Scenario) -> None:
    s = onboarded
    opened = s.system.instant_open(_sdk_flex_body(s), opened_price=FILL_PRICE)
    quote = s.system.quote(opened.quote_id)
    assert (quote["quoteStatus"], quote["openedPrice"]) == (4, FILL_PRICE), quote


def test_real_surface_driver_fills_with_the_hedgers_flex_fill_auth(onboarded: Scenario) -> None:
    s = onboarded
    driver = System(s.chain, s.system.deployment)  # cannot send as the PartyB contract
    tx = driver.instant_open_tx(_sdk_flex_body(s), opened_price=FILL_PRICE)
    assert tx.to == s.system.instant_layer.address and tx.function is cd.EXECUTE_TEMPLATE
    signatures = cd.EXECUTE_TEMPLATE.decode(tx.data)["flexFillerSignatures"]
    assert len(signatures[1]) == 1 and len(signatures[1][0]) == 65, signatures
    opened = driver.instant_open(_sdk_flex_body(s), opened_price=FILL_PRICE)
    assert s.system.quote(opened.quote_id)["quoteStatus"] == 4
