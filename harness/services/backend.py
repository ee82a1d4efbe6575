"""What the mock services share: the embedded chain, the market, the notifier, one lock.

`Backend` executes on the chain (`harness.chain.System`) under a lock (eth-tester is not
thread-safe, and uvicorn, Starlette's TestClient and tests may all call in); the HTTP handlers
hand their chain work to one worker thread (`Backend.run`), never running it on the event loop.
It keeps the mark price per symbol that the solver fills at and the TP/SL bot triggers on,
and remembers which sub-account owns each virtual account so that close and TP/SL frames reach
the sub-account's subscribers. The TP/SL bot's key is held here and never shown.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TypeVar

from .. import pricing
from ..chain import Chain, System, deploy_system
from ..context import Context, Symbol
from ..flow import Signer
from ..keys import LocalKey
from .faults import Faults
from .notifications import Notifier

T = TypeVar("T")

DEFAULT_LOCKED_PARAMS: Mapping[str, str] = {
    "cva": "2",
    "lf": "1",
    "partyAmm": "5",
    "partyBmm": "0",
}


@dataclass(frozen=True)
class SymbolMarket:
    """What the solver serves about a symbol (contract-symbols, locked params) and its mark."""

    symbol: Symbol
    mark_price: Decimal = Decimal("65000.5")
    trading_fee: Decimal = Decimal("0.0006")
    max_leverage: int = 50
    locked_params: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_LOCKED_PARAMS))
    min_acceptable_quote_value: Decimal = Decimal(5)
    asset: str = "BTC"
    quote_asset: str = "USDT"


@dataclass(frozen=True)
class Onboarded:
    user: str
    sub_account: str
    session_key: str
    tpsl_bot: str
    expiry: int


class Backend:
    """The chain the services execute on and the state they share."""

    def __init__(
        self,
        system: System,
        tpsl_bot: Signer,
        markets: Sequence[SymbolMarket] | None = None,
    ) -> None:
        self.system = system
        self.bot = tpsl_bot
        self.context: Context = system.context()
        self.lock = threading.RLock()
        markets = markets or [SymbolMarket(s) for s in system.symbols]
        self.markets: dict[int, SymbolMarket] = {m.symbol.id: m for m in markets}
        self.prices: dict[int, Decimal] = {m.symbol.id: m.mark_price for m in markets}
        self.notifier = Notifier()
        self.faults = Faults()
        self.va_owner: dict[str, str] = {}
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="symmio-chain")

    async def run(self, work: Callable[[], T]) -> T:
        """Run chain work off the event loop on the one chain thread (serialized: requests
        queue there, while requests that need no chain are answered meanwhile)."""
        return await asyncio.get_running_loop().run_in_executor(self._worker, self._locked, work)

    def _locked(self, work: Callable[[], T]) -> T:
        with self.lock:
            return work()

    @property
    def chain(self) -> Chain:
        return self.system.chain

    def now(self) -> int:
        with self.lock:
            return self.chain.now()

    def market_by_name(self, name: str) -> SymbolMarket | None:
        return next((m for m in self.markets.values() if m.symbol.name == name), None)

    def mark_wei(self, symbol_id: int) -> int | None:
        price = self.prices.get(symbol_id)
        return None if price is None else pricing.to_wei(price, "mark_price")

    def owner_of_va(self, va: str) -> str:
        """The sub-account a VA belongs to (for notifications); the VA itself if unknown."""
        return self.va_owner.get(va, va)

    def onboard(self, session_key: str, deposit: Decimal = Decimal(1000)) -> Onboarded:
        """Steps 1-5 for a fresh user EOA generated here: sub-account, deposit, bind, and the
        delegations to `session_key` and to the TP/SL bot (one day). For frontends that hold
        only a session key (`POST /mock/onboard`)."""
        with self.lock:
            user = LocalKey.generate()
            self.chain.add_key(user)
            expiry = self.chain.now() + 24 * 3600
            decimals = self.system.collateral.functions.decimals().call()
            units = pricing.to_token_units(deposit, decimals, "deposit")
            done = self.system.onboard(
                user.address, session_key, self.bot.address, deposit_units=units, expiry=expiry
            )
            return Onboarded(user.address, done.sub_account, session_key, self.bot.address, expiry)


def embedded_backend(
    markets: Sequence[SymbolMarket] | None = None, symbols: Sequence[Symbol] | None = None
) -> Backend:
    """A fresh embedded chain with the system deployed, a fresh hedger and TP/SL bot key."""
    if symbols is None:
        symbols = [m.symbol for m in markets] if markets else [Symbol(1, "BTCUSDT", 1, 3)]
    chain = Chain()
    system = deploy_system(chain, hedger=LocalKey.generate(), symbols=tuple(symbols))
    return Backend(system, LocalKey.generate(), markets)
