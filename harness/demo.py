"""`symmio-harness demo`: the whole v0.8.5 instant-trading lifecycle on the embedded chain.

Deploys our mock contracts on eth-tester + py-evm, then runs every step for real: steps 1-5 as
transactions from a fresh user EOA; steps 6-8 as a frontend does them, through the mock services
(`harness.services`) run in-process over ASGI (no socket): the locked params come from the solver,
the instant_open body is POSTed to the solver, which validates it and runs it as ONE
`executeTemplate` transaction (addMarginToNextVA + sendQuote signed by the session key, lockQuote +
openPosition signed by the hedger for the PartyB, the quote id injected from sendQuote's result),
and the notifications websocket reports the quote id and the VA; a partial instant_close by the
session key (signerAccount = the VA) is POSTed and filled by the PartyB; the TP/SL order is signed
with the domain the COH serves and POSTed to it, and a mock price move makes the TP/SL bot close
the rest through its own delegation. Every user signature is recovered again before it is sent,
and `--record DIR` writes the context (the real deployed addresses and chain id) and each HTTP
body. Private keys (user, session key, TP/SL bot, hedger) are generated fresh in-process and never
printed or written.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from . import deployments, eip712, flow, pricing, wire
from .chain import Chain, Sent, System, deploy_system
from .context import CohLimits, Context, Symbol, dump_context
from .deployments import SolverKind
from .keys import LocalKey, generate_session_key
from .primitives import keccak
from .services.backend import Backend, SymbolMarket
from .services.client import CohClient, SolverClient
from .services.published import TX_HASH_HEADER
from .services.rasa import CLOSE_PATH as RASA_CLOSE_PATH
from .services.rasa import OPEN_PATH as RASA_OPEN_PATH
from .services.rasa import POSITION_STATE_WS
from .services.server import (
    COH_PREFIX,
    IN_PROCESS_BASE,
    SOLVER_PREFIX,
    Services,
    in_process_client,
)
from .services.solver import NOTIFICATIONS_PATH
from .signatures import recover_digest

DEMO_CHAIN_ID = 31337
QUOTE_STATUS = {4: "OPENED", 5: "CLOSE_PENDING", 7: "CLOSED"}
#: the address a context gives for a contract the deployment does not have
NO_CONTRACT = "0x" + "00" * 20


def label_address(label: str) -> str:
    """A deterministic example address for a label (not a real deployment)."""
    from eth_utils import to_checksum_address

    return to_checksum_address(keccak(f"symmio-harness example {label}".encode())[12:])


EXAMPLE_SYMBOL = Symbol(id=1, name="BTCUSDT", price_precision=1, quantity_precision=3)


def example_context() -> Context:
    """An off-chain example context (fixed labels, chain 31337) for tests and docs."""
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
    #: closed by the session key in step 7; the TP/SL bot closes the rest
    close_quantity: Decimal = Decimal("0.010")
    slippage_pct: Decimal = Decimal("5")
    deposit: Decimal = Decimal("1000")
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
    """Writes `context.json` and numbered HTTP bodies (`NN-<kind>.json`) to a directory.

    The context records the clock the first body was made at (`recorded_at`, the chain's time):
    `validate` judges the capture's deadlines at that time, so a committed capture stays valid.
    """

    def __init__(self, directory: Path | None, clock: Callable[[], int] | None = None) -> None:
        self.directory = directory
        self.clock = clock
        self.recorded_at: int | None = None
        self.count = 0
        self.written: list[Path] = []
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)

    def context(self, context: Context) -> None:
        if self.directory is not None:
            path = self.directory / "context.json"
            dump_context(replace(context, recorded_at=self.recorded_at), path)
            self.written.append(path)

    def body(self, kind: str, body: Any) -> None:
        if self.recorded_at is None and self.clock is not None:
            self.recorded_at = self.clock()
        self.count += 1
        if self.directory is not None:
            path = self.directory / f"{self.count:02d}-{kind}.json"
            path.write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")
            self.written.append(path)


def _check(domain: Any, wrapped: Any, expected: str, who: str) -> None:
    signer = recover_digest(eip712.digest(domain, wrapped.signed_operation), wrapped.signature)
    if signer != expected:
        raise AssertionError(f"recovered {signer}, expected the {who} {expected}")


def _tx(number: str, step: str, sent: Sent, note: str = "") -> str:
    line = f"{number:<6}{step:<36} block {sent.block_number:>3}  gas {sent.gas_used:>9,}  {note}"
    return line.rstrip()


#: v0.8.6 (Arbitrum): the least SolverFeeCaps the example symbol's quotes must allow, as the
#: solver's contract-symbols would serve them (example values, not Enigma's)
EXAMPLE_FEE_CAP_MINIMUMS = (Decimal("0.0006"), Decimal("0.0006"))


def run_demo(
    out: Printer,
    record_dir: Path | None = None,
    market: Market | None = None,
    profile: deployments.Profile = deployments.DEFAULT,
) -> dict:
    """Deploy, run the lifecycle on the embedded chain, print a line per step and a summary.
    `profile` picks the deployment reproduced locally: its contracts generation (v0.8.6 grants
    the delegations as one owner-signed operation relayed by the GaslessLayer and opens with the
    capped sendQuote) and its services."""
    market = market or Market()
    generation = profile.generation
    recorder = Recorder(record_dir)  # fail early on an unwritable directory
    started = time.perf_counter()
    chain = Chain()
    recorder.clock = chain.now
    user, session, bot, hedger = (
        LocalKey.generate(),
        generate_session_key(),
        LocalKey.generate(),
        LocalKey.generate(),
    )
    symbol = EXAMPLE_SYMBOL
    if generation.solver_fee_caps:
        symbol = replace(
            symbol,
            min_open_solver_fee_cap=EXAMPLE_FEE_CAP_MINIMUMS[0],
            min_close_solver_fee_cap=EXAMPLE_FEE_CAP_MINIMUMS[1],
        )
    system = deploy_system(chain, hedger=hedger, symbols=(symbol,), generation=generation)
    domain = system.domain
    out(f"deployment profile {profile.name}: {profile.title}")
    contracts = "SymmioCore, AccountLayer, InstantLayer, MockPartyB"
    if system.gasless_layer is not None:
        contracts += ", GaslessLayer"
    out(
        f"embedded chain: eth-tester + py-evm, chain id {chain.chain_id}; deployed and wired "
        f"MockERC20 (6 decimals), {contracts} (v{generation.version}) "
        f"in {len(system.wiring_gas)} transactions"
    )
    chain.add_key(user)
    out(f"user EOA {user.address}, session key {session.address}, TP/SL bot {bot.address}")
    out(f"hedger signer of the PartyB {hedger.address} (fresh keys, none shown)")
    rows: list[tuple[str, Sent]] = []

    def step(number: str, label: str, sent: Sent, note: str = "") -> Sent:
        rows.append((label, sent))
        out(_tx(number, label, sent, note))
        return sent

    # --- steps 1-5: the user's own transactions
    sub_account, sent = system.create_sub_account(user.address, "demo")
    step("[1]", "createSubAccounts", sent, f"sub-account {sub_account}")
    units = pricing.to_token_units(market.deposit, 6, "deposit")
    note = f"{pricing.format_decimal(market.deposit)} mUSDC to the user"
    step("[2]", "mint (test-token faucet)", system.mint(user.address, units), note)
    step("", "approve (spender: SymmioCore)", system.approve(user.address, units))
    note = f"{pricing.format_decimal(market.deposit)} mUSDC"
    step("", "depositForAccount", system.deposit(user.address, sub_account, units), note)
    note = f"PartyB {system.party_b.address}"
    step("[3]", "_call(bindToPartyB)", system.bind(user.address, sub_account), note)
    expiry = chain.now() + 24 * 3600
    session_info = flow.session_key_delegation(sub_account, session.address, expiry, generation)
    bot_info = flow.tpsl_bot_delegation(sub_account, bot.address, expiry)
    if generation.grants_as_operations:
        # v0.8.6: one owner-signed grantDelegations operation, relayed (the owner pays no gas)
        grant = system.grant_operation(user, (session_info, bot_info), deadline=chain.now() + 600)
        _check(domain, grant, user.address, "owner")
        recorder.body("grant_operation", wire.wrapped_operation_to_wire(grant))
        sent = system.relay([grant])
        note = "session key " + " ".join(s.hex() for s in session_info.selectors)
        step("[4-5]", "relayWalletBatch(grantDelegations)", sent, note + " + TP/SL bot")
    else:
        for number, who, info in (
            ("[4]", "session key", session_info),
            ("[5]", "TP/SL bot", bot_info),
        ):
            selectors = " ".join(s.hex() for s in info.selectors)
            sent = system.grant_delegation(user.address, info)
            step(number, f"grantDelegation({who})", sent, selectors)

    # --- steps 6-8 as a frontend does them: through the mock services, in-process (ASGI)
    locked = {k: v for k, v in market.locked_params.items() if k != "leverage"}
    backend = Backend(
        system,
        bot,
        [SymbolMarket(symbol, market.mark_price, market.trading_fee, locked_params=locked)],
    )
    context = system.context(sub_account=sub_account, session_key=session.address)
    if generation.grants_as_operations:  # the grant operation's signer, for `validate`
        context = replace(context, owner=user.address)
    rasa = profile.solver is SolverKind.RASA
    served = Services(backend, profile=profile)
    # the TP/SL domain the profile's COH serves (Arbitrum's: its own name, the COH wallet)
    context = replace(context, conditional_order_domain=backend.context.conditional_order_domain)
    with in_process_client(served) as http:
        solver = SolverClient(f"{IN_PROCESS_BASE}{SOLVER_PREFIX}", client=http)
        coh = CohClient(f"{IN_PROCESS_BASE}{COH_PREFIX}", client=http)
        services = f"mock {profile.solver.value} solver" + (
            " and TP/SL handler (COH)" if profile.coh is not None else " (no COH: none deployed)"
        )
        out(f"{services} in-process over ASGI, no socket")

        # --- step 6: POST instant_open; the solver runs it as one transaction
        (listed,) = [s for s in solver.contract_symbols() if s["symbol_id"] == symbol.id]
        plan = flow.build_instant_open(
            context,
            session,
            sub_account=sub_account,
            symbol=symbol,
            side="long",
            quantity=market.quantity,
            leverage=market.leverage,
            mark_price=market.mark_price,
            locked_params=solver.locked_params(symbol.name, market.leverage),
            trading_fee=Decimal(listed["trading_fee"]),
            deadline=chain.now() + 3600,
            slippage_pct=market.slippage_pct,
        )
        _check(domain, plan.body.add_margin, session.address, "session key")
        _check(domain, plan.body.send_quote, session.address, "session key")
        recorder.body("instant_open", wire.instant_open_to_wire(plan.body))
        if rasa:
            temp_quote_id, open_tx, quote_id = _rasa_open(http, plan.body, sub_account)
            va = system.quote(quote_id)["partyA"]
            route, frame_text = "/instant_trade/open", "SendQuoteTransaction (position state)"
        else:
            with http.websocket_connect(SOLVER_PREFIX + NOTIFICATIONS_PATH) as ws:
                ws.send_json({"channel_patterns": [_pattern(sub_account)]})
                ws.receive_json()  # {"subscribed": [...]}: no frame can be missed from here on
                accepted = solver.instant_open(plan.body)
                frame = ws.receive_json()["data"]
            if (frame["last_seen_action"], frame["action_status"]) != (
                "SendQuoteTransaction",
                "success",
            ):
                raise AssertionError(f"expected SendQuoteTransaction/success, got {frame!r}")
            va, quote_id = frame["va_address"], frame["quote_id"]
            # the open's transaction: the mock's harness header (published bodies carry none)
            temp_quote_id = accepted.temp_quote_id
            open_tx = accepted.tx_hash or solver.temp_quote_tx_hash(temp_quote_id)
            route, frame_text = "/instant_trade/instant_open", "SendQuoteTransaction/success"
        assert open_tx is not None, "the mock names the open's transaction"
        open_sent = _sent(chain, "executeTemplate (instant open)", open_tx)
        qty = pricing.format_decimal(plan.quantity)
        step("[6]", "executeTemplate (instant open)", open_sent, f"quote {quote_id} on VA {va}")
        if plan.solver_fee_caps is not None:
            caps = " / ".join(
                pricing.format_decimal(pricing.from_wei(c).normalize())
                for c in plan.solver_fee_caps
            )
            out(f"    sendQuote 0x0ac30baf with SolverFeeCaps (open / close) {caps}")
        out(
            f"    POST {route} -> temp_quote_id {temp_quote_id}; websocket "
            f"{frame_text} -> quote {quote_id}, VA {va}"
        )
        out(
            f"    addMarginToNextVA + sendQuote (session key) + lockQuote + openPosition (hedger "
            f"for the PartyB) in one transaction: long {qty} {symbol.name}, requested <= "
            f"{pricing.format_decimal(plan.requested_price)}, opened at "
            f"{pricing.format_decimal(market.mark_price)}; {_status(system, quote_id)}"
        )

        # --- step 7: POST instant_close, the session key signing for the VA
        close = flow.build_instant_close(
            context,
            session,
            virtual_account=va,
            quote_id=quote_id,
            symbol=symbol,
            side="long",
            quantity=market.close_quantity,
            mark_price=market.mark_price,
            deadline=chain.now() + 3600,
            slippage_pct=market.slippage_pct,
        )
        _check(domain, close.body.operations[0], session.address, "session key")
        recorder.body("instant_close", wire.instant_close_to_wire(close.body))
        if rasa:
            closed_tx = _rasa_close(http, close.body)
        else:
            closed_tx = getattr(solver.instant_close(close.body), "tx_hash", None)
        assert closed_tx is not None, "the mock names the close's transaction"
        sent = _sent(chain, "executeBatch (instant close)", closed_tx)
        closed = pricing.format_decimal(close.quantity)
        note = f"closed {closed}, {_status(system, quote_id)}"
        step("[7]", "executeBatch (instant close)", sent, note)

        rest = plan.quantity - close.quantity
        coh_limits = None
        if profile.coh is None:
            left = pricing.format_decimal(rest)
            out(f"[8]   no TP/SL: {profile.name} has no COH; {left} stays open")
        else:
            coh_limits = _tpsl_step(
                step,
                out,
                recorder,
                chain,
                system,
                coh,
                session,
                market,
                symbol,
                sub_account,
                va,
                quote_id,
                rest,
            )

    recorder.context(
        replace(
            context,
            virtual_account=va,
            # the demo's deployment: no InstantLayer retired, no GaslessGateway (the zero
            # address says so), so those rules are checked and cannot fire
            retired_instant_layers=(),
            gasless_gateway=NO_CONTRACT,
            # as the TP/SL order was signed: the mark, the COH's limits, the position left open
            mark_prices=((symbol.id, market.mark_price),),
            coh_limits=coh_limits,
            open_quantities=((quote_id, rest),),
        )
    )
    elapsed = time.perf_counter() - started
    _summary(out, system, user, session, bot, sub_account, va, quote_id, open_sent, rows)
    out(f"lifecycle done in {elapsed:.2f} s")
    for path in recorder.written:
        out(f"wrote {path}")
    return {
        "deployment": profile.name,
        "contracts_version": generation.version,
        "chain_id": chain.chain_id,
        "sub_account": sub_account,
        "virtual_account": va,
        "quote_id": quote_id,
        "session_key": session.address,
        "gas": {label: sent.gas_used for label, sent in rows},
        "open_blocks": 1,
        "files": [str(p) for p in recorder.written],
    }


def _tpsl_step(
    step: Callable[..., Sent],
    out: Printer,
    recorder: Recorder,
    chain: Chain,
    system: System,
    coh: CohClient,
    session: LocalKey,
    market: Market,
    symbol: Symbol,
    sub_account: str,
    va: str,
    quote_id: int,
    rest: Decimal,
) -> CohLimits:
    """Step 8: TP/SL signed with the COH's served domain; a price move makes the bot close the
    rest. The COH's served limits, for the record's context."""
    step_ = pricing.step(symbol.price_precision)
    take_profit = (market.mark_price * Decimal("1.05")).quantize(step_)
    stop_loss = (market.mark_price * Decimal("0.95")).quantize(step_)
    order = flow.build_tpsl(
        coh.signing_spec(),
        session,
        sub_account=sub_account,
        virtual_account=va,
        affiliate=system.affiliate,
        quote_id=quote_id,
        symbol=symbol,
        side="long",
        quantity=rest,
        mark_price=market.mark_price,
        take_profit=take_profit,
        stop_loss=stop_loss,
    )
    signer = recover_digest(eip712.digest(order.domain, order.order), order.signature)
    if signer != session.address:
        raise AssertionError("the TP/SL signature does not recover to the session key")
    recorder.body("tpsl", wire.tpsl_to_wire(order))
    # the market the order was judged against, for the TP/SL rules of `validate`
    served = coh.configs()  # numbers read as Decimal: passed on as decimal strings
    coh_limits = CohLimits.from_served(
        {k: format(v, "f") if isinstance(v, Decimal) else v for k, v in served.items()}
    )
    coh_quote_id = coh.submit(order)
    moved = coh.set_mock_price(symbol.id, take_profit)
    (hit,) = moved["triggered"]
    sent = _sent(chain, "executeBatch (TP/SL bot close)", hit["tx_hash"])
    note = (
        f"take profit {pricing.format_decimal(take_profit)} hit (COH order {coh_quote_id}): "
        f"closed {pricing.format_decimal(rest)}, {_status(system, quote_id)}"
    )
    step("[8]", "executeBatch (TP/SL bot close)", sent, note)
    return coh_limits


def _rasa_open(http: Any, body: Any, sub_account: str) -> tuple[int, str | None, int]:
    """Step 6 on a Rasa solver (its published `/instant_trade/open`, answering an
    `InstantRFQResponse`); the on-chain quote id from its position-state websocket. (temp quote
    id, the open's transaction from the mock's harness header, quote id)"""
    with http.websocket_connect(SOLVER_PREFIX + POSITION_STATE_WS) as ws:
        ws.send_json({"address": [sub_account]})
        ws.receive_json()  # {"subscribed": [...]}: no frame can be missed from here on
        got = http.post(
            f"{SOLVER_PREFIX}/api{RASA_OPEN_PATH}", json=wire.instant_open_to_wire(body)
        )
        if got.status_code != 200:
            raise AssertionError(f"the Rasa open answered {got.status_code}: {got.text}")
        frame = ws.receive_json()
    if frame.get("last_seen_action") != "SendQuoteTransaction":
        raise AssertionError(f"expected SendQuoteTransaction, got {frame!r}")
    return got.json()["temp_quote_id"], got.headers.get(TX_HASH_HEADER), frame["quote_id"]


def _rasa_close(http: Any, body: Any) -> str | None:
    """Step 7 on a Rasa solver: a bare list of operations, answered `{successful, message}`."""
    got = http.post(f"{SOLVER_PREFIX}/api{RASA_CLOSE_PATH}", json=wire.instant_close_to_wire(body))
    if got.status_code != 200 or got.json().get("successful") is not True:
        raise AssertionError(f"the Rasa close answered {got.status_code}: {got.text}")
    return got.headers.get(TX_HASH_HEADER)


def _sent(chain: Chain, label: str, tx_hash: str) -> Sent:
    """The mined transaction a service reported by its hash."""
    receipt = chain.w3.eth.get_transaction_receipt(tx_hash)
    return Sent(label, tx_hash, receipt.blockNumber, receipt.gasUsed, receipt)


def _pattern(address: str) -> dict[str, str]:
    return {
        "app_name": "symmio-harness-demo",
        "address": address,
        "primary_identifier": "*",
        "secondary_identifier": "*",
    }


def _status(system: System, quote_id: int) -> str:
    quote = system.quote(quote_id)
    symbol = next(s for s in system.symbols if s.id == quote["symbolId"])
    left = pricing.from_wei(quote["quantity"] - quote["closedAmount"]).quantize(
        pricing.step(symbol.quantity_precision)
    )
    status = QUOTE_STATUS.get(quote["quoteStatus"], str(quote["quoteStatus"]))
    return f"quote {quote_id} {status}, {pricing.format_decimal(left)} open"


def _summary(
    out: Printer,
    system: System,
    user: LocalKey,
    session: LocalKey,
    bot: LocalKey,
    sub_account: str,
    va: str,
    quote_id: int,
    open_sent: Sent,
    rows: list[tuple[str, Sent]],
) -> None:
    table = [
        ("collateral (mUSDC, 6 decimals)", system.collateral.address),
        ("SymmioCore", system.core.address),
        ("AccountLayer", system.account_layer.address),
        ("InstantLayer", system.instant_layer.address),
        ("PartyB (MockPartyB)", system.party_b.address),
        ("hedger signer", system.hedger.address),
        ("user EOA", user.address),
        ("session key", session.address),
        ("TP/SL bot", bot.address),
        ("sub-account", sub_account),
        ("virtual account", va),
        ("quote id", str(quote_id)),
        ("chain id", str(system.chain.chain_id)),
    ]
    width = max(len(k) for k, _ in table + [(label, None) for label, _ in rows])
    out("")
    out(f"{'summary':<{width}}  value")
    for key, value in table:
        out(f"{key:<{width}}  {value}")
    out("")
    out(f"{'step':<{width}}  {'block':>5}  {'gas':>9}")
    for label, sent in rows:
        out(f"{label:<{width}}  {sent.block_number:>5}  {sent.gas_used:>9,}")
    total = sum(sent.gas_used for _, sent in rows)
    out(f"{'total':<{width}}  {'':>5}  {total:>9,}")
    out("")
    out(
        f"blocks used by the open: 1 (block {open_sent.block_number}, one executeTemplate) "
        "instead of 3 (sendQuote, lockQuote, openPosition as separate transactions)"
    )
