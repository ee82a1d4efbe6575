"""What the mock services share: the embedded chain, the market, the notifier, one lock.

`Backend` executes on the chain (`harness.chain.System`) under a lock (eth-tester is not
thread-safe, and uvicorn, Starlette's TestClient and tests may all call in); the HTTP handlers
hand their chain work to one worker thread (`Backend.run`), never running it on the event loop,
and judge bodies before it on a small pool of their own (`Backend.judging`, against
`Backend.clock_ahead`, a clock that needs no chain), so a refusal never queues behind executions.
It keeps the mark price per symbol that the solver fills at and the TP/SL bot triggers on
(`Backend.prices`, a `MarkBook`: the one place marks are stored; it announces every change to
its listeners, e.g. the price service's websocket), and remembers which sub-account owns each
virtual account so that close and TP/SL frames reach the sub-account's subscribers. The TP/SL
bot's key is held here and never shown.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator, Mapping, MutableMapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, TypeVar

from .. import calldata as cd
from .. import pricing
from ..chain import Chain, MockSystem, deploy_system
from ..chain.node import node_web3
from ..context import CohLimits, ConditionalOrderDomainConfig, Context, Symbol
from ..errors import InputError
from ..flow import Signer
from ..keys import LocalKey
from ..primitives import UINT256_MAX, keccak
from ..protocol import CURRENT, Protocol
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


#: topic0 of the InstantLayer's DelegationGranted(delegator, delegate, selector, expiry)
DELEGATION_GRANTED = keccak(b"DelegationGranted(address,address,bytes4,uint256)")
#: test collateral each funded test account holds (anvil's dev accounts 1..9)
TEST_ACCOUNT_UNITS = 10_000


def now_ms() -> int:
    """Wall-clock unix time in milliseconds (the price service's `time` unit)."""
    return time.time_ns() // 1_000_000


#: threads judging bodies before the chain worker (parse, rules, signatures: CPU work, no chain)
JUDGE_THREADS = 2
#: seconds ahead of the chain's last known time at which bodies are judged before the worker:
#: an acceptance there stands while the chain's clock is not past it (plumbing.settle); a body
#: whose deadline falls within the margin is judged again by the worker at the chain's clock
CLOCK_MARGIN_SECONDS = 60


#: the largest mark the chain can hold: its 18-decimal (wei) value is a uint256, as every price
#: the contracts take (`requestedOpenPrice`, `closePrice`, the solver's fill) is
MAX_MARK_WEI = UINT256_MAX
#: the same limit as a price (exact, 18 decimal places)
MAX_MARK_PRICE = pricing.from_wei(MAX_MARK_WEI)


def mark_to_wei(price: Decimal, field: str = "price") -> int:
    """The mark's wei value, checked before anything stores it: positive, at most 18 decimal
    places, and a number the chain can hold (InputError naming `field` and the limit)."""
    wei = pricing.to_wei(price, field)
    if wei <= 0:
        raise InputError(field, "must be greater than zero")
    if wei > MAX_MARK_WEI:
        raise InputError(
            field,
            f"{pricing.format_decimal(price)} is more than the chain can hold: its wei value "
            f"(x 10^{pricing.WEI_DECIMALS}) must fit a uint256, so at most "
            f"{pricing.format_decimal(MAX_MARK_PRICE)}",
        )
    return wei


@dataclass(frozen=True)
class Mark:
    """A symbol's mark and when it was set (unix ms)."""

    symbol_id: int
    price: Decimal
    time_ms: int


class MarkBook(MutableMapping[int, Decimal]):
    """The mark price per symbol id: the one place marks are stored. Every assignment (a
    `POST /coh/mock/price`, a test moving the mark) stamps the time and then calls each listener
    (from the assigning thread, after the book's own lock is released), so a price feed
    publishes every change. A symbol's mark is never removed."""

    def __init__(self, marks: Mapping[int, Decimal]) -> None:
        self._lock = threading.Lock()
        stamp = now_ms()
        self._marks: dict[int, Mark] = {sid: Mark(sid, p, stamp) for sid, p in marks.items()}
        self._listeners: list[Callable[[], None]] = []

    def __getitem__(self, symbol_id: int) -> Decimal:
        return self._marks[symbol_id].price

    def __setitem__(self, symbol_id: int, price: Decimal) -> None:
        mark_to_wei(price, f"mark of symbol {symbol_id}")  # validated before it is stored
        with self._lock:
            self._marks[symbol_id] = Mark(symbol_id, price, now_ms())
            listeners = list(self._listeners)
        for listener in listeners:
            listener()

    def __delitem__(self, symbol_id: int) -> None:
        raise TypeError(f"symbol {symbol_id}: a mark is moved, never removed")

    def __iter__(self) -> Iterator[int]:
        return iter(list(self._marks))

    def __len__(self) -> int:
        return len(self._marks)

    def snapshot(self) -> list[Mark]:
        """Every mark with its time, by symbol id (one consistent read)."""
        with self._lock:
            return [self._marks[sid] for sid in sorted(self._marks)]

    def listen(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call `listener()` after every change; returns the function that stops it."""
        with self._lock:
            self._listeners.append(listener)

        def stop() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return stop


class Backend:
    """The chain the services execute on and the state they share."""

    def __init__(
        self,
        system: MockSystem,
        tpsl_bot: Signer,
        markets: Sequence[SymbolMarket] | None = None,
        *,
        rpc_url: str | None = None,
        test_accounts: Sequence[str] = (),
    ) -> None:
        self.system = system
        #: the JSON-RPC URL frontends send their own transactions to (None: embedded chain)
        self.rpc_url = rpc_url
        self.test_accounts = tuple(test_accounts)
        self.bot = tpsl_bot
        self.context: Context = system.context()
        self.lock = threading.RLock()
        markets = markets or [SymbolMarket(s) for s in system.symbols]
        self.markets: dict[int, SymbolMarket] = {m.symbol.id: m for m in markets}
        self.prices = MarkBook({m.symbol.id: m.mark_price for m in markets})
        self.notifier = Notifier()
        self.faults = Faults()
        self.va_owner: dict[str, str] = {}
        #: the limits the COH over this backend enforces (set by it), for /context
        self.coh_limits: CohLimits | None = None
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="symmio-chain")
        self._judges = ThreadPoolExecutor(JUDGE_THREADS, thread_name_prefix="symmio-judge")
        #: the chain's clock when last read, and the monotonic time it was read at
        self._clock_seen = (0, 0.0)
        self.now()

    async def run(self, work: Callable[[], T]) -> T:
        """Run chain work off the event loop on the one chain thread (serialized: requests
        queue there, while requests that need no chain are answered meanwhile)."""
        return await asyncio.get_running_loop().run_in_executor(self._worker, self._locked, work)

    async def judging(self, work: Callable[[], T]) -> T:
        """Run work that needs no chain (judging a body) off the event loop, on the judges'
        pool: never behind the chain worker's queue, never holding the chain lock."""
        return await asyncio.get_running_loop().run_in_executor(self._judges, work)

    def _locked(self, work: Callable[[], T]) -> T:
        with self.lock:
            return work()

    @property
    def chain(self) -> Chain:
        return self.system.chain

    def now(self) -> int:
        """The chain's clock (a chain read: call it where chain work runs)."""
        with self.lock:
            now = self.chain.now()
            self._clock_seen = (now, time.monotonic())
            return now

    def clock_ahead(self) -> int:
        """A clock at least as late as the chain's in the usual course, read without the chain:
        its time when last read, plus the wall time since, plus CLOCK_MARGIN_SECONDS. Not a
        bound (a test or a frontend may move the chain's time on): `plumbing.settle` checks it
        against the chain's clock before an early verdict stands."""
        seen, at = self._clock_seen
        return seen + int(time.monotonic() - at) + CLOCK_MARGIN_SECONDS

    def market_by_name(self, name: str) -> SymbolMarket | None:
        return next((m for m in self.markets.values() if m.symbol.name == name), None)

    def mark_wei(self, symbol_id: int) -> int | None:
        price = self.prices.get(symbol_id)
        return None if price is None else pricing.to_wei(price, "mark_price")

    def owner_of_va(self, va: str) -> str:
        """The sub-account a VA belongs to (for notifications); the VA itself if unknown."""
        return self.va_owner.get(va, va)

    def serve_coh_domain(self, name: str, version: str) -> None:
        """Serve the COH domain a deployment's COH serves: its name and version, this chain, and
        the COH wallet as verifyingContract. The COH wallet is the address users delegate the
        TP/SL close to (Trading-SDK `SymmioTpSlConfig.cohWalletAddress`: "every user must grant a
        delegation to cohWalletAddress"; its signing-spec fixture signs under
        `SymmioConditionalOrder`/`1`/chain/cohWalletAddress): here, the TP/SL bot."""
        config = ConditionalOrderDomainConfig(name, version, verifying_contract=self.bot.address)
        self.context = replace(self.context, conditional_order_domain=config)

    def context_json(
        self,
        owner: str | None = None,
        *,
        price_url: str | None = None,
        price_ws_url: str | None = None,
        gasless_url: str | None = None,
    ) -> dict[str, Any]:
        """GET /context: the context file (as `validate --context` reads it) of this deployment,
        plus where to send transactions and read marks (the served price URLs; on v0.8.6 the
        mock gasless relay's `gasless_url`); with `owner`,
        that owner's latest sub-account, its session key (the latest delegate holding
        addMarginToNextVA) and, once a position was opened, its virtual account. The TP/SL
        market rules' keys come live: every symbol's mark (`mark_prices`, as the COH judges
        orders at this moment) and the COH's limits."""
        with self.lock:
            marks = tuple(sorted(self.prices.items()))
        out = replace(
            self.context,
            collateral=self.system.collateral.address,
            tpsl_bot=self.bot.address,
            test_accounts=self.test_accounts,
            rpc_url=self.rpc_url,
            price_url=price_url,
            price_ws_url=price_ws_url,
            gasless_url=gasless_url,
            mark_prices=marks,
            coh_limits=self.coh_limits,
        ).to_json()
        if owner is not None:
            with self.lock:
                out.update(self._owner_keys(owner))
        return out

    def _owner_keys(self, owner: str) -> dict[str, str]:
        al = self.system.account_layer.functions
        subs = self.system.view(al.getUserSubAccountsAddresses(owner, 0, 1000))
        if not subs:
            return {}
        sub = subs[-1]
        found = {"sub_account": sub}
        logs = self.chain.w3.eth.get_logs(
            {
                "address": self.system.instant_layer.address,
                "fromBlock": 0,
                "toBlock": "latest",
                "topics": [DELEGATION_GRANTED, b"\0" * 12 + bytes.fromhex(sub[2:])],  # type: ignore[list-item]
            }
        )
        selector = cd.ADD_MARGIN_TO_NEXT_VA.selector
        for log in reversed(logs):
            if bytes(log["data"])[:4] == selector:
                delegate = self.chain.w3.to_checksum_address(bytes(log["topics"][2])[12:])
                if self.system.is_delegation_active(sub, delegate, selector):
                    found["session_key"] = delegate
                break
        vas = [va for va, parent in self.va_owner.items() if parent == sub]
        if vas:
            found["virtual_account"] = vas[-1]
        return found

    def reserved_addresses(self) -> dict[str, str]:
        """Addresses that can never be a user's session key, by lower-case address -> what
        each is: the zero address, every contract of the deployment, and the keys the mock
        signs with itself (the hedger, the TP/SL bot, the deployer and solver)."""
        system = self.system
        named = {
            "0x" + "00" * 20: "the zero address",
            system.instant_layer.address: "the InstantLayer contract",
            system.account_layer.address: "the AccountLayer contract",
            system.core.address: "the Symmio core contract",
            system.collateral.address: "the collateral token contract",
            system.party_b.address: "the PartyB (hedger) contract",
            system.hedger.address: "the hedger's signing key",
            self.bot.address: "the TP/SL bot",
            system.admin: "the deployer and solver account",
        }
        if system.gasless_layer is not None:
            named[system.gasless_layer.address] = "the GaslessLayer contract"
        return {address.lower(): what for address, what in named.items()}

    def session_key_refusal(self, session_key: str) -> str | None:
        """Why `session_key` cannot be delegated to a fresh user (None when it can): a reserved
        address (`reserved_addresses`), or a key already holding an active delegation of
        another user (a session key belongs to one user)."""
        what = self.reserved_addresses().get(session_key.lower())
        if what is not None:
            return f"{session_key} is {what}; a session key is an EOA the frontend holds"
        logs = self.chain.w3.eth.get_logs(
            {
                "address": self.system.instant_layer.address,
                "fromBlock": 0,
                "toBlock": "latest",
                "topics": [
                    DELEGATION_GRANTED,
                    None,
                    b"\0" * 12 + bytes.fromhex(session_key[2:]),
                ],  # type: ignore[list-item]
            }
        )
        for entry in logs:
            delegator = self.chain.w3.to_checksum_address(bytes(entry["topics"][1])[12:])
            selector = bytes(entry["data"])[:4]
            if self.system.is_delegation_active(delegator, session_key, selector):
                return (
                    f"{session_key} is already the session key of sub-account {delegator} "
                    "(a session key belongs to one user)"
                )
        return None

    def onboard(self, session_key: str, deposit: Decimal = Decimal(1000)) -> Onboarded:
        """Steps 1-5 for a fresh user EOA generated here: sub-account, deposit, bind, and the
        delegations to `session_key` and to the TP/SL bot (one day). For frontends that hold
        only a session key (`POST /mock/onboard`)."""
        with self.lock:
            refused = self.session_key_refusal(session_key)  # checked before anything is sent
            if refused is not None:
                raise InputError("session_key", refused)
            user = LocalKey.generate()
            self.chain.add_key(user)
            expiry = self.chain.now() + 24 * 3600
            decimals = self.system.collateral.functions.decimals().call()
            units = pricing.to_token_units(deposit, decimals, "deposit")
            # the key, not only its address: on v0.8.6 the owner signs a grant operation
            done = self.system.onboard(
                user, session_key, self.bot.address, deposit_units=units, expiry=expiry
            )
            return Onboarded(user.address, done.sub_account, session_key, self.bot.address, expiry)


def embedded_backend(
    markets: Sequence[SymbolMarket] | None = None,
    symbols: Sequence[Symbol] | None = None,
    *,
    generation: type[Protocol] = CURRENT,
    chain: Chain | None = None,
) -> Backend:
    """A fresh embedded chain (or `chain`, fresh: e.g. `harness.chain.child.start_child_chain`'s)
    with the system of `generation` deployed, a fresh hedger and TP/SL bot key."""
    if symbols is None:
        symbols = [m.symbol for m in markets] if markets else [Symbol(1, "BTCUSDT", 1, 3)]
    chain = chain if chain is not None else Chain()
    system = deploy_system(
        chain, hedger=LocalKey.generate(), symbols=tuple(symbols), generation=generation
    )
    return Backend(system, LocalKey.generate(), markets)


def rpc_backend(
    rpc_url: str,
    test_accounts: Sequence[str],
    markets: Sequence[SymbolMarket] | None = None,
    symbols: Sequence[Symbol] | None = None,
    *,
    generation: type[Protocol] = CURRENT,
) -> Backend:
    """Our system (of `generation`) deployed on a JSON-RPC node (anvil) whose first unlocked
    account is the admin; each of `test_accounts` gets TEST_ACCOUNT_UNITS of collateral (the
    admin mints: their nonces stay untouched for the frontends' own wallets)."""
    if symbols is None:
        symbols = [m.symbol for m in markets] if markets else [Symbol(1, "BTCUSDT", 1, 3)]
    chain = Chain(node_web3(rpc_url, timeout=30))
    system = deploy_system(
        chain, hedger=LocalKey.generate(), symbols=tuple(symbols), generation=generation
    )
    decimals = system.collateral.functions.decimals().call()
    units = pricing.to_token_units(Decimal(TEST_ACCOUNT_UNITS), decimals, "test collateral")
    token = system.mock["MockERC20"].functions
    for account in test_accounts:
        chain.send(token.mint(account, units), chain.admin)
    return Backend(
        system, LocalKey.generate(), markets, rpc_url=rpc_url, test_accounts=test_accounts
    )
