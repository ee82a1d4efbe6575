"""Stage 2 of a live smoke run: the whole flow at the smallest size the symbol allows, on rails.

Opt-in only (`pytest --live-trade`). The rails:
- the chain id must be the profile's and in `trade.allowed_chain_ids` (empty: nothing allowed);
- the position's notional must not exceed `trade.max_notional`, and the gas the user's own
  transactions cost must stay within `trade.gas_budget_wei` (checked before each transaction);
- every transaction is first run as an `eth_call` on the pending block, and not sent if that
  reverts (the decoded error is reported);
- a dry run prints what the run needs (collateral to deposit, gas budget) against the user's
  balances before anything is spent, and stops if they do not cover it;
- cleanup always runs, each part on its own: close the position if it is still open, cancel the
  TP/SL order if it is still placed, initiate the revocation of the test delegations.
A spend ledger (gas per transaction, expected trading fees, notional) goes into the report.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal
from typing import Any

from web3 import Web3

from .. import flow, pricing
from ..chain import Chain, Deployment, Sent, System
from ..context import Context, Symbol
from ..errors import HarnessError
from ..keys import LocalKey
from ..model import DelegationInfo, Domain, TpslRequest
from ..revert import Reverted
from ..services.client import CohClient, SolverClient
from ..services.notify_client import SyncNotifications
from ..services.price_client import PriceReadError, mark_of
from ..services.solver import NOTIFICATIONS_PATH
from .config import USER_KEY_ENV, Profile

#: how long the open, the close and the TP/SL confirmation may take on a real solver
SETTLE_TIMEOUT_S = 120.0
DELEGATION_DAYS = 1


class RailRefused(HarnessError):
    """A rail stopped the run before anything (more) was spent."""


@dataclass(frozen=True)
class Spend:
    step: str
    gas_used: int
    gas_price_wei: int

    @property
    def wei(self) -> int:
        return self.gas_used * self.gas_price_wei


@dataclass
class Ledger:
    transactions: list[Spend] = field(default_factory=list)
    notional: Decimal = Decimal(0)
    trading_fees: Decimal = Decimal(0)

    @property
    def gas_wei(self) -> int:
        return sum(s.wei for s in self.transactions)

    def lines(self) -> list[str]:
        rows = [
            f"  {s.step:<34} {s.gas_used:>10,} gas  {s.wei:>22,} wei" for s in self.transactions
        ]
        return [
            "spend ledger:",
            *rows,
            f"  gas, total: {self.gas_wei:,} wei",
            f"  notional: {pricing.format_decimal(self.notional)}",
            f"  expected trading fees (open + close): {pricing.format_decimal(self.trading_fees)}",
        ]


@dataclass
class TradeReport:
    ledger: Ledger
    steps: list[str] = field(default_factory=list)
    cleanup: list[str] = field(default_factory=list)
    quote_id: int | None = None
    virtual_account: str | None = None
    closed: bool = False


def smallest_quantity(symbol_row: dict[str, Any], mark: Decimal) -> Decimal:
    """One lot, or the fewest lots whose notional reaches the symbol's minimum quote value."""
    lot = Decimal(1).scaleb(-int(symbol_row["quantity_precision"]))
    minimum = pricing.non_negative(
        symbol_row.get("min_acceptable_quote_value", "0"), "min_acceptable_quote_value"
    )
    lots = (minimum / mark / lot).to_integral_value(rounding=ROUND_CEILING)
    return max(lot, lots * lot)


class TradeRun:
    """Stage 2 against one profile, for one user key (never shown)."""

    def __init__(
        self,
        profile: Profile,
        user: LocalKey,
        *,
        out: Callable[[str], None] = print,
        timeout: float = SETTLE_TIMEOUT_S,
        w3: Web3 | None = None,
    ) -> None:
        # the key is given here, whatever the profile says about where it comes from
        missing = [m for m in profile.missing(stage=2) if not m.startswith(USER_KEY_ENV)]
        if missing:
            raise RailRefused(f"stage 2 needs {', '.join(missing)}")
        self.profile = profile
        self.user = user
        self.out = out
        self.timeout = timeout
        assert profile.rpc_url and profile.solver_base and profile.tpsl_base
        self.chain = Chain(w3 or Web3(Web3.HTTPProvider(profile.rpc_url)), sign_locally=True)
        self.chain.add_key(user, fund_wei=0)
        self.solver = SolverClient(profile.solver_base)
        self.coh = CohClient(profile.tpsl_base, app_name=profile.app_name)
        self.ledger = Ledger()
        self.report = TradeReport(self.ledger)

    # ---------------------------------------------------------------- rails
    def _check_chain(self) -> None:
        chain_id, p = self.chain.chain_id, self.profile
        if chain_id != p.chain_id:
            raise RailRefused(f"chain id {chain_id} is not the profile's {p.chain_id}")
        if chain_id not in p.trade.allowed_chain_ids:
            allowed = list(p.trade.allowed_chain_ids) or "none"
            raise RailRefused(
                f"chain id {chain_id} is not in trade.allowed_chain_ids ({allowed}): no trading"
            )

    def _send(self, tx: flow.TxRequest) -> Sent:
        """Simulate, check the gas budget, send, book the gas."""
        budget = self.profile.trade.gas_budget_wei
        try:
            self.chain.call(tx)
        except Reverted as exc:
            raise RailRefused(
                f"{tx.step}: the eth_call simulation reverts ({exc}); not sent"
            ) from None
        price = self.chain.w3.eth.gas_price
        if self.ledger.gas_wei >= budget:
            raise RailRefused(f"{tx.step}: the gas budget of {budget:,} wei is spent; not sent")
        sent = self.chain.send(tx)
        paid = int(sent.receipt.get("effectiveGasPrice", price))
        self.ledger.transactions.append(Spend(tx.step, sent.gas_used, paid))
        self.report.steps.append(f"{tx.step}: block {sent.block_number}, gas {sent.gas_used:,}")
        if self.ledger.gas_wei > budget:
            raise RailRefused(f"the gas spent ({self.ledger.gas_wei:,} wei) passed the budget")
        return sent

    # ---------------------------------------------------------------- the run
    def run(self) -> TradeReport:
        """Rails, dry run, steps 1-8 at the smallest size, cleanup; the report (and ledger)."""
        try:
            self._check_chain()
            trade = self._prepare()
            self._dry_run(trade)
            try:
                self._onboard(trade)
                self._open(trade)
                self._set_tpsl(trade)
                self._close(trade)
            finally:
                self._cleanup(trade)
                for line in self.ledger.lines():
                    self.out(line)
        finally:
            self.solver.close()
            self.coh.close()
        return self.report

    def _prepare(self) -> _Trade:
        p = self.profile
        assert p.collateral and p.hedger and p.affiliate
        row = self.solver.contract_symbols()[0]
        symbol = Symbol(
            row["symbol_id"], row["name"], row["price_precision"], row["quantity_precision"]
        )
        mark = self._mark(symbol)
        fee_rate = pricing.non_negative(row.get("trading_fee", "0"), "contract-symbols trading_fee")
        quantity = smallest_quantity(row, mark)
        self.ledger.notional = quantity * mark
        self.ledger.trading_fees = 2 * self.ledger.notional * fee_rate
        if self.ledger.notional > p.trade.max_notional:
            raise RailRefused(
                f"the smallest {symbol.name} position has notional {self.ledger.notional}, "
                f"above trade.max_notional {p.trade.max_notional}"
            )
        context = Context(
            chain_id=self.chain.chain_id,
            instant_layer=p.instant_layer or "",
            account_layer=p.account_layer or "",
            symmio_core=p.symmio_core or "",
            hedger=p.hedger,
            affiliate=p.affiliate,
            symbols=(symbol,),
        )
        deployment = Deployment.seen_from(context, p.collateral)
        trade = _Trade(
            system=System(self.chain, deployment),
            context=context,
            session=LocalKey.generate(),
            symbol=symbol,
            mark=mark,
            quantity=quantity,
            fee_rate=fee_rate,
            locked=self.solver.locked_params(symbol.name, 1),
            deadline=self.chain.now() + 3_600,
        )
        decimals = trade.system.view(trade.system.collateral.functions.decimals())
        margin_wei = trade.open_plan(self.user.address).margin_wei  # same margin for any sub
        trade.decimals = decimals
        trade.deposit_units = -(-margin_wei // 10 ** (18 - decimals))  # rounded up
        return trade

    def _dry_run(self, trade: _Trade) -> None:
        user = self.user.address
        eth = self.chain.w3.eth.get_balance(user)
        held = trade.system.view(trade.system.collateral.functions.balanceOf(user))
        budget = self.profile.trade.gas_budget_wei

        def units(n: int) -> str:
            return pricing.format_decimal(Decimal(n).scaleb(-trade.decimals))

        self.out(
            f"dry run (nothing spent yet): user {user} deposits {units(trade.deposit_units)} "
            f"collateral (holds {units(held)}); gas budget {budget:,} wei (holds {eth:,} wei); "
            f"{trade.quantity} {trade.symbol.name}, notional {self.ledger.notional}"
        )
        if held < trade.deposit_units:
            needed = units(trade.deposit_units)
            raise RailRefused(f"the user holds {units(held)} collateral, the run needs {needed}")
        if eth < budget:
            raise RailRefused(f"the user holds {eth:,} wei, the gas budget is {budget:,} wei")

    def _onboard(self, trade: _Trade) -> None:
        p, ctx, user = self.profile, trade.context, self.user.address
        assert p.collateral is not None
        create = flow.create_sub_account(ctx, user, "symmio-harness live")
        (sub,) = create.function.decode_output(self.chain.call(create))[0]
        self._send(create)
        trade.sub_account = self.chain.w3.to_checksum_address(sub)
        self._send(flow.approve_collateral(ctx, user, p.collateral, trade.deposit_units))
        self._send(flow.deposit(ctx, user, trade.sub_account, trade.deposit_units))
        self._send(flow.bind(ctx, user, trade.sub_account))
        expiry = self.chain.now() + DELEGATION_DAYS * 86_400
        grants = [flow.session_key_delegation(trade.sub_account, trade.session.address, expiry)]
        if p.tpsl_bot is not None:
            grants.append(flow.tpsl_bot_delegation(trade.sub_account, p.tpsl_bot, expiry))
        for grant in grants:
            self._send(flow.grant_delegation(ctx, user, grant))
            trade.delegations.append(grant)

    def _ws_url(self) -> str:
        if self.profile.notifications_url is not None:
            return self.profile.notifications_url
        base = self.profile.solver_base or ""
        ws = base.replace("https://", "wss://").replace("http://", "ws://")
        return ws + NOTIFICATIONS_PATH

    def _open(self, trade: _Trade) -> None:
        plan = trade.open_plan(trade.sub)
        with SyncNotifications(self._ws_url(), app_name=self.profile.app_name) as ws:
            ws.subscribe(trade.sub)
            accepted = self.solver.instant_open(plan.body)
            data = ws.wait_open(accepted.temp_quote_id, self.timeout)
        self.report.quote_id = int(data["quote_id"])
        self.report.virtual_account = self.chain.w3.to_checksum_address(data["va_address"])
        self.report.steps.append(
            f"instant_open: quote {self.report.quote_id} on {self.report.virtual_account}"
        )

    def _mark(self, symbol: Symbol) -> Decimal:
        """The symbol's mark from the price service (contract-symbols carries none: real-world
        spec §4 "Price service"), read before the open, the TP/SL and the close."""
        assert self.profile.price_base
        try:
            return mark_of(self.profile.price_base, symbol.name)
        except PriceReadError as exc:
            raise RailRefused(str(exc)) from None

    def _set_tpsl(self, trade: _Trade) -> None:
        """A take-profit far above the mark (never triggers): placed, then cancelled in cleanup."""
        assert self.report.quote_id is not None and self.report.virtual_account is not None
        trade.mark = self._mark(trade.symbol)
        domain = self.coh.signing_spec()
        order = flow.build_tpsl(
            domain,
            trade.session,
            sub_account=trade.sub,
            virtual_account=self.report.virtual_account,
            affiliate=trade.context.affiliate or "",
            quote_id=self.report.quote_id,
            symbol=trade.symbol,
            side="long",
            quantity=trade.quantity,
            mark_price=trade.mark,
            take_profit=(trade.mark * 3).quantize(Decimal(1).scaleb(-trade.symbol.price_precision)),
        )
        coh_id = self.coh.submit(order)
        trade.tpsl = (domain, order, coh_id)
        self.report.steps.append(f"TP/SL: take-profit order {coh_id} stored")

    def _close(self, trade: _Trade) -> None:
        assert self.report.quote_id is not None and self.report.virtual_account is not None
        quote_id = self.report.quote_id
        trade.mark = self._mark(trade.symbol)
        close = flow.build_instant_close(
            trade.context,
            trade.session,
            virtual_account=self.report.virtual_account,
            quote_id=quote_id,
            symbol=trade.symbol,
            side="long",
            quantity=trade.quantity,
            mark_price=trade.mark,
            deadline=self.chain.now() + 3_600,
        )

        def filled(frame: dict[str, Any]) -> bool:
            data = frame.get("data", {})
            return data.get("quote_id") == quote_id and data.get("last_seen_action") in (
                "FillMarketOrderInstantClose",
                "InstantRequestToClosePosition",
            )

        with SyncNotifications(self._ws_url(), app_name=self.profile.app_name) as ws:
            ws.subscribe(trade.sub)
            self.solver.instant_close(close.body)
            ws.wait_for(filled, self.timeout, f"instant_close of quote {quote_id}")
        self.report.closed = True
        self.report.steps.append(f"instant_close: quote {quote_id} closed")

    def _cleanup(self, trade: _Trade) -> None:
        """Each part on its own, whatever happened before."""

        def attempt(what: str, work: Callable[[], Any]) -> None:
            try:
                work()
            except Exception as exc:  # report and go on: the next part must still run
                self.report.cleanup.append(f"{what}: FAILED ({exc})"[:300])
            else:
                self.report.cleanup.append(f"{what}: done")

        if self.report.quote_id is not None and not self.report.closed:
            attempt("close the position", lambda: self._close(trade))
        if trade.tpsl is not None:
            domain, order, coh_id = trade.tpsl

            def cancel() -> None:
                message, signature = flow.build_tpsl_delete(
                    domain,
                    trade.session,
                    virtual_account=order.order.virtual_account,
                    coh_quote_id=coh_id,
                    conditional_order_type="take_profit",
                )
                self.coh.cancel(domain, message, signature, trade.session.address)

            attempt("cancel the TP/SL order", cancel)
        for grant in trade.delegations:
            tx = trade.system.revoke_tx(
                self.user.address, trade.sub, grant.delegated_signer, list(grant.selectors)
            )
            attempt(
                f"initiate revocation of {grant.delegated_signer}", lambda tx=tx: self._send(tx)
            )
        for line in self.report.cleanup:
            self.out("cleanup: " + line)


@dataclass
class _Trade:
    """One run's state."""

    system: System
    context: Context
    session: LocalKey
    symbol: Symbol
    mark: Decimal
    quantity: Decimal
    fee_rate: Decimal
    locked: pricing.LockedParamsPct
    deadline: int
    decimals: int = 18
    deposit_units: int = 0
    sub_account: str | None = None
    delegations: list[DelegationInfo] = field(default_factory=list)
    tpsl: tuple[Domain, TpslRequest, str] | None = None

    @property
    def sub(self) -> str:
        assert self.sub_account is not None, "no sub-account yet"
        return self.sub_account

    def open_plan(self, sub_account: str) -> flow.OpenPlan:
        return flow.build_instant_open(
            self.context,
            self.session,
            sub_account=sub_account,
            symbol=self.symbol,
            side="long",
            quantity=self.quantity,
            leverage=1,
            mark_price=self.mark,
            locked_params=self.locked,
            trading_fee=self.fee_rate,
            deadline=self.deadline,
        )
