"""`symmio-harness demo`: the whole v0.8.5 flow on a built-in example context.

Every step is built by `harness.flow`, every signature is recovered again before it is shown,
and `--record DIR` writes the context and each HTTP body the flow produced. Private keys (the
example user, the session key) are generated fresh in-process and never printed or written.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from . import calldata as cd
from . import eip712, flow, pricing, wire
from .addresses import sub_account_address, virtual_account_address
from .context import Context, Symbol, dump_context
from .keys import LocalKey, generate_session_key
from .primitives import keccak, to_hex
from .signatures import recover_digest

DEMO_CHAIN_ID = 31337


def label_address(label: str) -> str:
    """A deterministic example address for a label (not a real deployment)."""
    from eth_utils import to_checksum_address

    return to_checksum_address(keccak(f"symmio-harness example {label}".encode())[12:])


EXAMPLE_SYMBOL = Symbol(id=1, name="BTCUSDT", price_precision=1, quantity_precision=3)


def example_context() -> Context:
    return Context(
        chain_id=DEMO_CHAIN_ID,
        instant_layer=label_address("InstantLayer"),
        account_layer=label_address("AccountLayer"),
        symmio_core=label_address("SymmioCore"),
        hedger=label_address("PartyB"),
        affiliate=label_address("Affiliate"),
        symbols=(EXAMPLE_SYMBOL,),
    )


@dataclass(frozen=True)
class Market:
    """Example market data a frontend would read from the solver and the price feed."""

    mark_price: Decimal = Decimal("65000.5")
    trading_fee: Decimal = Decimal("0.0006")
    leverage: int = 10
    quantity: Decimal = Decimal("0.015")
    slippage_pct: Decimal = Decimal("5")
    locked_params: dict[str, str] = field(
        default_factory=lambda: {
            "cva": "2",
            "lf": "1",
            "partyAmm": "5",
            "partyBmm": "0",
            "leverage": "10",
        }
    )


Printer = Callable[[str], None]


class Recorder:
    """Writes `context.json` and numbered HTTP bodies (`NN-<kind>.json`) to a directory."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory
        self.count = 0
        self.written: list[Path] = []
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)

    def context(self, context: Context) -> None:
        if self.directory is not None:
            path = self.directory / "context.json"
            dump_context(context, path)
            self.written.append(path)

    def body(self, kind: str, body: Any) -> None:
        self.count += 1
        if self.directory is not None:
            path = self.directory / f"{self.count:02d}-{kind}.json"
            path.write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")
            self.written.append(path)


def _tx_line(tx: flow.TxRequest) -> str:
    return (
        f"{tx.step:<26} to {tx.to}  selector 0x{tx.data[:4].hex()}  "
        f"({len(tx.data)} bytes of calldata)"
    )


def _check(domain: Any, wrapped: Any, expected: str) -> str:
    signer = recover_digest(eip712.digest(domain, wrapped.signed_operation), wrapped.signature)
    if signer != expected:
        raise AssertionError(f"recovered {signer}, expected {expected}")
    return f"signature {to_hex(wrapped.signature)[:12]}… recovers to the session key"


def run_offchain_demo(
    out: Printer,
    record_dir: Path | None = None,
    now: int | None = None,
    market: Market | None = None,
) -> dict[str, Any]:
    """Build and check every step of the flow against the example context; return a summary."""
    market = market or Market()
    now = int(time.time()) if now is None else now
    user = LocalKey.generate()
    session = generate_session_key()
    tpsl_bot = label_address("TpslBot")
    recorder = Recorder(record_dir)
    sub_account = sub_account_address(label_address("Affiliate"), user.address, 1)
    context = replace(example_context(), sub_account=sub_account, session_key=session.address)
    domain = eip712.instant_layer_domain(context.chain_id, context.instant_layer)
    symbol = EXAMPLE_SYMBOL
    out(f"example context: chain {context.chain_id}, InstantLayer {context.instant_layer}")
    out(f"user EOA {user.address} (fresh key, not shown)")

    out("[1] " + _tx_line(flow.create_sub_account(context, user.address, "demo")))
    out(f"    sub-account (address formula, global nonce 1): {sub_account}")
    collateral = label_address("USDC")
    amount = pricing.to_token_units(Decimal("1000"), 6, "deposit")
    out("[2] " + _tx_line(flow.approve_collateral(context, user.address, collateral, amount)))
    out("    " + _tx_line(flow.deposit(context, user.address, sub_account, amount)))
    out("[3] " + _tx_line(flow.bind(context, user.address, sub_account)))
    expiry = now + 24 * 3600
    out(f"[4] session key {session.address} (fresh key, not shown)")
    session_info = flow.session_key_delegation(sub_account, session.address, expiry)
    out("    " + _tx_line(flow.grant_delegation(context, user.address, session_info)))
    out("    selectors " + ", ".join("0x" + s.hex() for s in session_info.selectors))
    bot_info = flow.tpsl_bot_delegation(sub_account, tpsl_bot, expiry)
    out("[5] " + _tx_line(flow.grant_delegation(context, user.address, bot_info)))
    out("    selectors " + ", ".join("0x" + s.hex() for s in bot_info.selectors))

    deadline = now + 3600
    locked = pricing.LockedParamsPct.from_response(market.locked_params)
    plan = flow.build_instant_open(
        context,
        session,
        sub_account=sub_account,
        symbol=symbol,
        side="long",
        quantity=market.quantity,
        leverage=market.leverage,
        mark_price=market.mark_price,
        locked_params=locked,
        trading_fee=market.trading_fee,
        deadline=deadline,
        slippage_pct=market.slippage_pct,
    )
    open_body = wire.instant_open_to_wire(plan.body)
    recorder.body("instant_open", open_body)
    out(
        f"[6] instant_open: long {pricing.format_decimal(plan.quantity)} {symbol.name} "
        f"at <= {pricing.format_decimal(plan.requested_price)} (mark "
        f"{pricing.format_decimal(market.mark_price)}, slippage {market.slippage_pct}%)"
    )
    out(
        f"    locked cva {plan.locked.cva} lf {plan.locked.lf} partyAmm {plan.locked.party_amm} "
        f"partyBmm {plan.locked.party_bmm} (wei); margin {plan.margin_wei} wei"
    )
    out("    addMargin: " + _check(domain, plan.body.add_margin, session.address))
    out("    sendQuote: " + _check(domain, plan.body.send_quote, session.address))

    virtual_account = virtual_account_address(sub_account, 1)
    quote_id = 1
    close = flow.build_instant_close(
        context,
        session,
        virtual_account=virtual_account,
        quote_id=quote_id,
        symbol=symbol,
        side="long",
        quantity=plan.quantity,
        mark_price=market.mark_price,
        deadline=deadline,
        slippage_pct=market.slippage_pct,
    )
    recorder.body("instant_close", wire.instant_close_to_wire(close.body))
    out(
        f"[7] instant_close: quote {quote_id} on VA {virtual_account} at >= "
        f"{pricing.format_decimal(close.close_price)}"
    )
    out("    close: " + _check(domain, close.body.operations[0], session.address))

    tpsl_domain = context.tpsl_domain()
    tp = (market.mark_price * Decimal("1.05")).quantize(pricing.step(symbol.price_precision))
    sl = (market.mark_price * Decimal("0.95")).quantize(pricing.step(symbol.price_precision))
    order = flow.build_tpsl(
        tpsl_domain,
        session,
        sub_account=sub_account,
        virtual_account=virtual_account,
        affiliate=context.affiliate or "",
        quote_id=quote_id,
        symbol=symbol,
        side="long",
        quantity=plan.quantity,
        mark_price=market.mark_price,
        take_profit=tp,
        stop_loss=sl,
    )
    recorder.body("tpsl", wire.tpsl_to_wire(order))
    signer = recover_digest(eip712.digest(tpsl_domain, order.order), order.signature)
    if signer != session.address:
        raise AssertionError(f"TP/SL signature recovers to {signer}")
    out(
        f"[8] TP/SL: take profit {pricing.format_decimal(tp)}, stop loss "
        f"{pricing.format_decimal(sl)} on last_close; signed under domain "
        f"{tpsl_domain.name!r} v{tpsl_domain.version}; signature recovers to the session key"
    )

    recorder.context(replace(context, virtual_account=virtual_account))
    for path in recorder.written:
        out(f"wrote {path}")
    return {
        "sub_account": sub_account,
        "virtual_account": virtual_account,
        "session_key": session.address,
        "selectors": {"add_margin": cd.ADD_MARGIN_TO_NEXT_VA.selector.hex()},
        "files": [str(p) for p in recorder.written],
    }
