"""The lifecycle on the embedded chain (eth-tester + py-evm through web3): deploy + wire, then
instant open (one executeTemplate) and close (one executeBatch with the PartyB fill), repeated.

A lifecycle's wall time includes building and signing both bodies (harness.flow) and the PartyB
operations. Transactions per second counts the two lifecycle transactions only.
"""

from __future__ import annotations

import statistics
import time
from decimal import Decimal

from harness import flow, pricing
from harness.chain import Chain, deploy_system
from harness.demo import Market
from harness.keys import LocalKey
from harness.primitives import keccak

MARKET = Market()  # the demo's example market: one set of example numbers for the project
MARK, QUANTITY = MARKET.mark_price, MARKET.quantity
LOCKED = pricing.LockedParamsPct.from_response(MARKET.locked_params)


def _key(label: str) -> LocalKey:
    return LocalKey(keccak(f"symmio-harness bench {label}".encode()))


def run(quick: bool) -> list[dict]:
    lifecycles = 4 if quick else 30
    started = time.perf_counter()
    chain = Chain()
    system = deploy_system(chain, hedger=_key("hedger"))
    deployed = time.perf_counter() - started
    user, session = _key("user"), _key("session")
    chain.add_key(user)
    onboarded = system.onboard(
        user.address,
        session.address,
        deposit_units=100_000 * 10**6,
        expiry=chain.now() + 86_400,
    )
    sub = onboarded.sub_account
    context = system.context(sub_account=sub, session_key=session.address)
    symbol, fill = system.symbols[0], pricing.to_wei(MARK)

    walls: list[float] = []
    open_gas: list[int] = []
    close_gas = 0
    for _ in range(lifecycles):
        t0 = time.perf_counter()
        plan = flow.build_instant_open(
            context,
            session,
            sub_account=sub,
            symbol=symbol,
            side="long",
            quantity=QUANTITY,
            leverage=10,
            mark_price=MARK,
            locked_params=LOCKED,
            trading_fee=Decimal("0.0006"),
            deadline=chain.now() + 3_600,
        )
        opened = system.instant_open(plan.body, opened_price=fill)
        close = flow.build_instant_close(
            context,
            session,
            virtual_account=opened.virtual_account,
            quote_id=opened.quote_id,
            symbol=symbol,
            side="long",
            quantity=QUANTITY,
            mark_price=MARK,
            deadline=chain.now() + 3_600,
        )
        closed = system.instant_close(close.body, closed_price=fill)
        walls.append(time.perf_counter() - t0)
        open_gas.append(opened.sent.gas_used)
        close_gas = closed.gas_used
        if system.quote(opened.quote_id)["quoteStatus"] != 7:  # CLOSED
            raise AssertionError("the lifecycle did not close the quote")

    median = statistics.median(walls)
    tx_per_s = 2 * len(walls) / sum(walls)
    return [
        {
            "benchmark": f"deploy + wire (5 contracts, {len(system.wiring_gas)} txs)",
            "value": round(deployed * 1000),
            "unit": "ms",
            "note": "includes starting the eth-tester provider",
        },
        {
            "benchmark": "lifecycle: instant open + close, wall",
            "value": round(median * 1000, 1),
            "unit": "ms",
            "note": f"median of {lifecycles}; building and signing included",
        },
        {
            "benchmark": "lifecycle transactions per second",
            "value": round(tx_per_s, 1),
            "unit": "tx/s",
            "note": "executeTemplate (4 ops) + executeBatch (close + fill)",
        },
        {
            "benchmark": "lifecycles per second",
            "value": round(len(walls) / sum(walls), 2),
            "unit": "1/s",
            "note": "",
        },
        {
            "benchmark": "gas: first instant open (executeTemplate)",
            "value": open_gas[0],
            "unit": "gas",
            "note": "addMargin + sendQuote (creates the VA) + lockQuote + openPosition",
        },
        {
            "benchmark": "gas: later instant opens",
            "value": open_gas[-1],
            "unit": "gas",
            "note": "single-VA mode: the VA is reused",
        },
        {
            "benchmark": "gas: close + PartyB fill (executeBatch)",
            "value": close_gas,
            "unit": "gas",
            "note": "",
        },
    ]
