"""The actors and states of the on-chain tests (the fixtures that build them are in conftest).

Keys are deterministic so a failure reproduces; they are test keys and hold nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from harness import calldata as cd
from harness import flow, pricing
from harness.chain import Chain, System
from harness.context import Context, Symbol
from harness.demo import Market
from harness.keys import LocalKey
from harness.model import FlexField, WrappedOperation
from harness.primitives import keccak

DEPOSIT_UNITS = 1_000 * 10**6  # 1,000 mUSDC (6 decimals)
MARKET = Market()  # the demo's example market: one set of example numbers for the project
MARK, QUANTITY = MARKET.mark_price, MARKET.quantity
LOCKED = pricing.LockedParamsPct.from_response(MARKET.locked_params)


def key_for(label: str) -> LocalKey:
    return LocalKey(keccak(f"symmio-harness evm test {label}".encode()))


@dataclass
class Scenario:
    """The system, the actors and (depending on the state) the user's accounts."""

    system: System
    user: LocalKey
    session: LocalKey
    bot: LocalKey
    hedger: LocalKey
    stranger: LocalKey
    snapshot: int
    sub_account: str | None = None
    virtual_account: str | None = None
    quote_id: int | None = None
    expiry: int = 0

    @property
    def chain(self) -> Chain:
        return self.system.chain

    @property
    def symbol(self) -> Symbol:
        return self.system.symbols[0]

    @property
    def sub(self) -> str:
        assert self.sub_account is not None, "this state has no sub-account"
        return self.sub_account

    @property
    def va(self) -> str:
        assert self.virtual_account is not None, "this state has no virtual account"
        return self.virtual_account

    def context(self) -> Context:
        return self.system.context(sub_account=self.sub_account, session_key=self.session.address)

    def restore(self) -> Scenario:
        self.chain.revert(self.snapshot)
        return self

    # --- operation helpers

    def add_margin_call(self, amount: int = 10**18, sub_account: str | None = None) -> bytes:
        """addMarginToNextVA(sub, MARKET_LONG, symbol, amount); the amount is at offset 96."""
        return cd.ADD_MARGIN_TO_NEXT_VA.encode(
            sub_account or self.sub, cd.VA_ISO_MARKET_LONG, self.symbol.id, amount
        )

    def sign(
        self,
        key: LocalKey,
        call_data: bytes,
        *,
        account: str | None = None,
        target: str | None = None,
        deadline: int = 0,
        nonce: int = 0,
        max_uses: int = 1,
        salt: bytes | None = None,
        flex_fields: tuple[FlexField, ...] = (),
    ) -> WrappedOperation:
        """A PartyA operation signed by `key` (default: the sub-account's, on the AccountLayer)."""
        return flow.sign_operation(
            self.context(),
            key,
            target or self.system.account_layer.address,
            call_data,
            account or self.sub,
            deadline=deadline,
            nonce=nonce,
            max_uses=max_uses,
            salt=salt,
            flex_fields=flex_fields,
        )

    def open_plan(self, key: LocalKey | None = None, sub_account: str | None = None, **kw):
        return flow.build_instant_open(
            replace(self.context(), sub_account=sub_account or self.sub),
            key or self.session,
            sub_account=sub_account or self.sub,
            symbol=self.symbol,
            side="long",
            quantity=kw.pop("quantity", QUANTITY),
            leverage=10,
            mark_price=MARK,
            locked_params=LOCKED,
            trading_fee=Decimal("0.0006"),
            deadline=kw.pop("deadline", self.chain.now() + 3_600),
            **kw,
        )

    def close_plan(self, key: LocalKey, quantity: Decimal, mark: Decimal = MARK, **kw):
        return flow.build_instant_close(
            self.context(),
            key,
            virtual_account=self.va,
            quote_id=kw.pop("quote_id", self.quote_id),
            symbol=self.symbol,
            side="long",
            quantity=quantity,
            mark_price=mark,
            deadline=kw.pop("deadline", self.chain.now() + 3_600),
            **kw,
        )


FILL_PRICE = pricing.to_wei(MARK, "mark")  # the PartyB fills opens and closes at the mark
