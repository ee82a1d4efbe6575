"""Drive a deployment (ours or a real one) through the real contracts' surface only.

`System` runs the flow against an InstantLayer, AccountLayer, Symmio core and collateral token
at given addresses on any `Chain`: steps 1-5 as the user's transactions (built by
`harness.flow`), the solver's side (PartyB operations signed by the hedger for the PartyB
contract, `executeBatch`, `executeTemplate`, the instant open in one transaction, the close with
the PartyB's fill), delegation management and the views the flow reads. Every contract object is
built from `surface.abi(...)`, so a function outside the real surface cannot be called from here
(a test also records every call a lifecycle makes). Mock-only conveniences (the faucet, the mock
core's quote and balance views) live in `harness.chain.mocks`.

Values only known after a transaction (a new sub-account, a quote id) come from the functions'
own return values: the transaction is first run as a call on the pending block, then sent. The
driver sends one transaction at a time, so nothing can come between the two.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from web3.contract import Contract
from web3.contract.contract import ContractFunction

from .. import calldata as cd
from .. import eip712, flow
from .. import upnl_sig as upnl
from ..context import Context, Symbol
from ..model import (
    Account,
    DelegationInfo,
    Domain,
    FlexFillAuth,
    InstantClose,
    InstantOpen,
    ReplayAttackHeader,
    SignedDelegation,
    SignedOperation,
    WrappedOperation,
)
from ..protocol import V0_8_5, Protocol
from . import surface
from .node import Chain, ChainError, Sent

#: The PartyB close fill (not part of the user's flow, so not in harness.calldata).
FILL_CLOSE_REQUEST = cd.Function(
    "fillCloseRequest",
    (
        ("quoteId", "uint256"),
        ("filledAmount", "uint256"),
        ("closedPrice", "uint256"),
        ("upnlSig", cd.PAIR_SIG),
    ),
    (),
    "symmio_core",
)

#: v0.8.6 GaslessLayer: relays owner-signed operations (walletIds all 0: InstantLayer operations).
RELAY_WALLET_BATCH = cd.Function(
    "relayWalletBatch",
    (
        ("signedOps", f"{cd.OP7}[]"),
        ("signatures", "bytes[]"),
        ("fills", "bytes[][]"),
        ("flexFillerSignatures", "bytes[][]"),
        ("walletIds", "uint256[]"),
    ),
    ("bytes[]",),
    "gasless_layer",
)

#: Instant open = [addMarginToNextVA, sendQuote, lockQuote, openPosition]: the quote id that
#: sendQuote returns (result 1, word 0) is written over the first argument (offset 0 after the
#: selector) of lockQuote and openPosition. Entries: (insertionPoints, sourceIndices, offsets).
INSTANT_OPEN_TEMPLATE: tuple[tuple[list[int], list[int], list[int]], ...] = (
    ([], [], []),
    ([], [], []),
    ([0], [1], [0]),
    ([0], [1], [0]),
)
#: The same without addMarginToNextVA (`{sendQuote}` alone: the VA already holds the margin):
#: [sendQuote, lockQuote, openPosition], the quote id from result 0.
INSTANT_OPEN_NO_MARGIN_TEMPLATE: tuple[tuple[list[int], list[int], list[int]], ...] = (
    ([], [], []),
    ([0], [0], [0]),
    ([0], [0], [0]),
)


@dataclass(frozen=True)
class Deployment:
    """Where a system lives, and the solver-side facts a driver needs about it."""

    collateral: str
    symmio_core: str
    account_layer: str
    instant_layer: str
    party_b: str
    affiliate: str
    symbols: tuple[Symbol, ...]
    open_template_id: int = 0
    #: the template for an instant_open without addMargin (None: the solver takes none)
    open_no_margin_template_id: int | None = None
    #: signs the PartyB's operations (ERC-1271 on the PartyB contract): the solver side only;
    #: None for a frontend's view of a deployment
    hedger: flow.Signer | None = None
    #: the protocol generation of the contracts (which surfaces they implement)
    generation: type[Protocol] = V0_8_5
    #: v0.8.6: the GaslessLayer relaying owner-signed operations (None: none)
    gasless_layer: str | None = None

    @classmethod
    def seen_from(cls, context: Context, collateral: str) -> Deployment:
        """A frontend's view of the deployment `context` describes (its PartyB is the hedger;
        no hedger key, default templates; the context's generation and GaslessLayer)."""
        if context.hedger is None or context.affiliate is None:
            raise ChainError("a deployment needs the context's hedger and affiliate")
        return cls(
            collateral=collateral,
            symmio_core=context.symmio_core,
            account_layer=context.account_layer,
            instant_layer=context.instant_layer,
            party_b=context.hedger,
            affiliate=context.affiliate,
            symbols=tuple(context.symbols or ()),
            generation=context.generation,
            gasless_layer=context.gasless_layer,
        )


@dataclass(frozen=True)
class Onboarded:
    """A user after steps 1-5."""

    user: str
    sub_account: str
    steps: dict[str, Sent]


@dataclass(frozen=True)
class Opened:
    """An instant open: the quote id sendQuote returned and the VA it was sent from."""

    quote_id: int
    virtual_account: str
    sent: Sent


class System:
    """A deployment driven through the real surface (see the module docstring)."""

    def __init__(self, chain: Chain, deployment: Deployment) -> None:
        self.chain = chain
        self.deployment = deployment
        w3 = chain.w3
        names = surface.names(deployment.generation)
        self.collateral: Contract = w3.eth.contract(deployment.collateral, abi=surface.abi("ERC20"))
        self.core: Contract = w3.eth.contract(
            deployment.symmio_core, abi=surface.abi(names.symmio_core)
        )
        self.account_layer: Contract = w3.eth.contract(
            deployment.account_layer, abi=surface.abi(names.account_layer)
        )
        self.instant_layer: Contract = w3.eth.contract(
            deployment.instant_layer, abi=surface.abi(names.instant_layer)
        )
        #: v0.8.6: the GaslessLayer (None where the generation or the deployment has none)
        self.gasless_layer: Contract | None = (
            w3.eth.contract(deployment.gasless_layer, abi=surface.abi(names.gasless_layer))
            if names.gasless_layer is not None and deployment.gasless_layer is not None
            else None
        )
        #: the driver never calls the PartyB contract: its operations go through the InstantLayer
        self.party_b: Contract = w3.eth.contract(deployment.party_b, abi=[])

    @property
    def generation(self) -> type[Protocol]:
        return self.deployment.generation

    @property
    def hedger(self) -> flow.Signer:
        if self.deployment.hedger is None:
            raise ChainError(
                "this deployment has no hedger key: PartyB operations are the solver's"
            )
        return self.deployment.hedger

    @property
    def affiliate(self) -> str:
        return self.deployment.affiliate

    @property
    def symbols(self) -> tuple[Symbol, ...]:
        return self.deployment.symbols

    @property
    def open_template_id(self) -> int:
        return self.deployment.open_template_id

    @property
    def admin(self) -> str:
        return self.chain.admin

    @property
    def domain(self) -> Domain:
        return eip712.instant_layer_domain(self.chain.chain_id, self.instant_layer.address)

    def context(self, **optional: Any) -> Context:
        """The context file's content for this deployment (the PartyB contract is the hedger).
        After v0.8.5 it names its generation (`contracts_version`) and the GaslessLayer; the
        symbols carry their fee-cap minimums. A v0.8.5 context stays as it was (no version:
        v0.8.5 is what a context without one means)."""
        later: dict[str, Any] = {}
        if self.generation is not V0_8_5:
            later["contracts_version"] = self.generation.version
            if self.gasless_layer is not None:
                later["gasless_layer"] = self.gasless_layer.address
        return Context(
            chain_id=self.chain.chain_id,
            instant_layer=self.instant_layer.address,
            account_layer=self.account_layer.address,
            symmio_core=self.core.address,
            hedger=self.party_b.address,
            affiliate=self.affiliate,
            symbols=self.symbols,
            **{**later, **optional},
        )

    # --- steps 1-5, from the user's EOA

    def create_sub_account(self, owner: str, name: str, **options: Any) -> tuple[str, Sent]:
        """Step 1; the new sub-account is what createSubAccounts returns."""
        tx = flow.create_sub_account(self.context(), owner, name, **options)
        (accounts,) = tx.function.decode_output(self.chain.call(tx))
        return self.chain.w3.to_checksum_address(accounts[0]), self.chain.send(tx)

    def approve(self, owner: str, units: int) -> Sent:
        """Step 2a: the allowance goes to the Symmio core (the ERC20 spender)."""
        ctx = self.context()
        return self.chain.send(flow.approve_collateral(ctx, owner, self.collateral.address, units))

    def deposit(self, owner: str, sub_account: str, units: int) -> Sent:
        return self.chain.send(flow.deposit(self.context(), owner, sub_account, units))

    def bind(self, owner: str, sub_account: str) -> Sent:
        return self.chain.send(flow.bind(self.context(), owner, sub_account))

    def grant_delegation(self, owner: str, info: DelegationInfo) -> Sent:
        return self.chain.send(flow.grant_delegation(self.context(), owner, info))

    def onboard(
        self,
        user: str | flow.Signer,
        session_key: str,
        tpsl_bot: str | None = None,
        *,
        deposit_units: int,
        expiry: int,
        name: str = "harness",
    ) -> Onboarded:
        """Steps 1-5 for `user` (who must hold `deposit_units` of collateral and be able to
        send here): sub-account, approve + deposit, bind to the PartyB, the session key's and
        the bot's delegations, with the generation's session-key set.

        Where the generation grants by operation (v0.8.6) and `user` is the owner's key, the
        delegations are one owner-signed grant operation (grantDelegations for the key and the
        bot, grantDelegation for the key alone) relayed by the GaslessLayer (executeBatch where
        the deployment has none); given only an address, the owner sends grantDelegation itself
        (which v0.8.6 keeps)."""
        owner = user if isinstance(user, str) else user.address
        sub, sent = self.create_sub_account(owner, name)
        steps = {"createSubAccounts": sent}
        steps["approve"] = self.approve(owner, deposit_units)
        steps["depositForAccount"] = self.deposit(owner, sub, deposit_units)
        steps["bindToPartyB"] = self.bind(owner, sub)
        session = flow.session_key_delegation(sub, session_key, expiry, self.generation)
        bot = flow.tpsl_bot_delegation(sub, tpsl_bot, expiry) if tpsl_bot is not None else None
        if self.generation.grants_as_operations and not isinstance(user, str):
            infos = (session,) if bot is None else (session, bot)
            op = self.grant_operation(user, infos if bot is not None else session)
            label = "grantDelegations" if bot is not None else "grantDelegation"
            steps[f"{label}(operation)"] = self.relay([op])
            return Onboarded(owner, sub, steps)
        steps["grantDelegation(session key)"] = self.grant_delegation(owner, session)
        if bot is not None:
            steps["grantDelegation(TP/SL bot)"] = self.grant_delegation(owner, bot)
        return Onboarded(owner, sub, steps)

    # --- v0.8.6: grant operations and the GaslessLayer

    def grant_operation(
        self,
        owner_key: flow.Signer,
        infos: DelegationInfo | tuple[DelegationInfo, ...],
        *,
        deadline: int = 0,
        salt: bytes | None = None,
    ) -> WrappedOperation:
        """An owner-signed grant operation (`flow.grant_operation`) for this deployment."""
        return flow.grant_operation(self.context(), owner_key, infos, deadline=deadline, salt=salt)

    def relay_tx(
        self, ops: Sequence[WrappedOperation], *, sender: str | None = None
    ) -> flow.TxRequest:
        """Owner-signed operations as the relayer submits them: GaslessLayer.relayWalletBatch
        (every walletId 0: InstantLayer operations), or executeBatch where there is none."""
        if self.gasless_layer is None:
            return self.batch_tx(ops, sender=sender)
        signed, signatures, fills, flex = self._batch_args(ops, None, None)
        data = RELAY_WALLET_BATCH.encode(signed, signatures, fills, flex, [0] * len(ops))
        to = self.gasless_layer.address
        return flow.TxRequest(
            "relayWalletBatch", sender or self.admin, to, data, RELAY_WALLET_BATCH
        )

    def relay(self, ops: Sequence[WrappedOperation], **options: Any) -> Sent:
        return self.chain.send(self.relay_tx(ops, **options))

    # --- solver side

    def sign_operation(self, key: flow.Signer, op: SignedOperation) -> WrappedOperation:
        """Sign an operation built by hand (negative tests, PartyB operations)."""
        return WrappedOperation(op, key.sign_digest(eip712.digest(self.domain, op)))

    def partyb_operation(
        self,
        call_data: bytes,
        *,
        deadline: int = 0,
        nonce: int = 0,
        max_uses: int = 1,
        salt: bytes | None = None,
    ) -> WrappedOperation:
        """A PartyB operation on the core: signer = signerAccount = the PartyB contract
        (isPartyB), signed by its hedger EOA and accepted through ERC-1271."""
        party_b = self.party_b.address
        op = SignedOperation(
            signer=party_b,
            target=self.core.address,
            call_data=call_data,
            signer_account=Account(party_b, True),
            flex_fields=(),
            max_uses=max_uses,
            replay_attack_header=ReplayAttackHeader(
                nonce, deadline, salt if salt is not None else secrets.token_bytes(32)
            ),
        )
        return self.sign_operation(self.hedger, op)

    def batch_tx(
        self,
        ops: Sequence[WrappedOperation],
        *,
        fills: Sequence[Sequence[bytes]] | None = None,
        flex_signatures: Sequence[Sequence[bytes]] | None = None,
        sender: str | None = None,
    ) -> flow.TxRequest:
        data = cd.EXECUTE_BATCH.encode(*self._batch_args(ops, fills, flex_signatures))
        il = self.instant_layer.address
        return flow.TxRequest("executeBatch", sender or self.admin, il, data, cd.EXECUTE_BATCH)

    def template_tx(
        self,
        template_id: int,
        ops: Sequence[WrappedOperation],
        *,
        fills: Sequence[Sequence[bytes]] | None = None,
        flex_signatures: Sequence[Sequence[bytes]] | None = None,
        sender: str | None = None,
    ) -> flow.TxRequest:
        args = self._batch_args(ops, fills, flex_signatures)
        data = cd.EXECUTE_TEMPLATE.encode(template_id, *args)
        il = self.instant_layer.address
        return flow.TxRequest(
            "executeTemplate", sender or self.admin, il, data, cd.EXECUTE_TEMPLATE
        )

    @staticmethod
    def _batch_args(
        ops: Sequence[WrappedOperation],
        fills: Sequence[Sequence[bytes]] | None,
        flex_signatures: Sequence[Sequence[bytes]] | None,
    ) -> tuple[list[Any], list[bytes], list[list[bytes]], list[list[bytes]]]:
        """(signedOps, signatures, fills, flexFillerSignatures); no fills = empty lists."""
        empty: list[list[bytes]] = [[] for _ in ops]
        return (
            [cd.operation_args(w.signed_operation) for w in ops],
            [w.signature for w in ops],
            [list(f) for f in fills] if fills is not None else empty,
            [list(f) for f in flex_signatures] if flex_signatures is not None else empty,
        )

    def execute_batch(self, ops: Sequence[WrappedOperation], **options: Any) -> Sent:
        return self.chain.send(self.batch_tx(ops, **options))

    def execute_template(
        self, template_id: int, ops: Sequence[WrappedOperation], **options: Any
    ) -> Sent:
        return self.chain.send(self.template_tx(template_id, ops, **options))

    def instant_open_tx(
        self,
        body: InstantOpen,
        *,
        opened_price: int | None = None,
        deadline: int | None = None,
        quote: dict[str, Any] | None = None,
        fill_price: int | None = None,
    ) -> flow.TxRequest:
        """The solver's one transaction for an instant_open body: addMargin + sendQuote (the
        user's signed operations) + lockQuote + openPosition (the PartyB's), quote id injected.
        The PartyB fills the whole quantity at `opened_price` (default: the requested price).
        `quote`: sendQuote's decoded arguments, when the caller has them already.

        A flex field the body gives the PartyB (the SDK's range over sendQuote's upnlSig,
        `harness.upnl_sig`) is filled with the placeholder re-encoded at `fill_price` (default:
        the opened price) and the chain's time; without a fill the InstantLayer reverts
        `InvalidFlexFillLength`. The PartyB fills as the transaction's sender where the driver
        can send as it (`as_party_b`: no filler signature needed), else it signs FlexFillAuth."""
        if quote is None:
            quote = self.decode_open(body.send_quote.signed_operation.call_data)
        price = quote["price"] if opened_price is None else opened_price
        until = quote["deadline"] if deadline is None else deadline
        # quote id 0 is the placeholder the template overwrites
        lock = self.partyb_operation(cd.LOCK_QUOTE.encode(0, cd.EMPTY_UPNL_SIG_4), deadline=until)
        open_ = self.partyb_operation(
            cd.OPEN_POSITION.encode(0, quote["quantity"], price, cd.EMPTY_PAIR_UPNL_SIG),
            deadline=until,
        )
        if body.add_margin is not None:
            template, ops = self.open_template_id, [body.add_margin, body.send_quote, lock, open_]
        else:
            template = self.deployment.open_no_margin_template_id
            if template is None:
                raise ChainError("this deployment has no template for an open without addMargin")
            ops = [body.send_quote, lock, open_]
        fills = [self._party_b_fills(op, price if fill_price is None else fill_price) for op in ops]
        unsigned = [[b"" for _ in f] for f in fills]  # one entry per field, even when unused
        tx = self.template_tx(template, ops, fills=fills, flex_signatures=unsigned)
        if not any(any(f) for f in fills):  # nothing to fill: the signed bytes stand
            return tx
        relayed = self.as_party_b(tx)
        if relayed is not None:
            return relayed
        signatures = [self._flex_fill_signatures(op, f) for op, f in zip(ops, fills, strict=True)]
        return self.template_tx(template, ops, fills=fills, flex_signatures=signatures)

    def _party_b_fills(self, op: WrappedOperation, price_wei: int) -> list[bytes]:
        """One fill per flex field of `op`: the upnlSig fill for a field naming the PartyB, empty
        (the signed bytes kept) for any other."""
        signed = op.signed_operation
        party_b = self.party_b.address.lower()
        return [
            upnl.solver_fill(
                signed.call_data,
                field.offset,
                field.length,
                price_wei=price_wei,
                timestamp=self.chain.now(),
            )
            if field.authorized_flex_filler.lower() == party_b
            else b""
            for field in signed.flex_fields
        ]

    def _flex_fill_signatures(self, op: WrappedOperation, fills: Sequence[bytes]) -> list[bytes]:
        """The hedger's FlexFillAuth over each non-empty fill (ERC-1271 on the PartyB)."""
        op_hash = eip712.digest(self.domain, op.signed_operation)
        return [
            self.hedger.sign_digest(eip712.digest(self.domain, FlexFillAuth(op_hash, i, value)))
            if value
            else b""
            for i, value in enumerate(fills)
        ]

    def as_party_b(self, tx: flow.TxRequest) -> flow.TxRequest | None:
        """`tx` sent with the PartyB contract as msg.sender, where this driver can send so; None
        here: the real surface has no call for it (a real PartyB's own relaying is its
        operator's), so the hedger signs its fills instead. Our mocks override it."""
        return None

    def template_results(self, tx: flow.TxRequest, raw: bytes) -> list[bytes]:
        """executeTemplate's results from the raw return data of `tx` (as built here)."""
        (results,) = tx.function.decode_output(raw)
        return list(results)

    def instant_open(
        self, body: InstantOpen, *, quote: dict[str, Any] | None = None, **options: Any
    ) -> Opened:
        """Send the instant open; the VA is the AccountLayer's prediction for the addMargin
        step (without one: for the side of a MARKET_DIRECTION sub-account, whose active VA it
        is), the quote id what sendQuote returns (read by running the template as a call)."""
        send = body.send_quote.signed_operation
        if quote is None:
            quote = self.decode_open(send.call_data)
        if body.add_margin is not None:
            margin = cd.ADD_MARGIN_TO_NEXT_VA.decode(body.add_margin.signed_operation.call_data)
            sub, iso = margin["subAccount"], margin["vaIsolationType"]
        else:
            sub = send.signer_account.addr
            iso = cd.va_isolation_type(cd.SUB_ISO_MARKET_DIRECTION, quote["positionType"])
        predict = self.account_layer.functions.predictNextVirtualAccountAddress(
            self.chain.w3.to_checksum_address(sub), iso, quote["symbolId"]
        )
        tx = self.instant_open_tx(body, quote=quote, **options)
        # the VA and the template's results read together (one round trip on a node)
        predicted, raw = self.chain.call_all([predict, tx])
        (va,) = cd.PREDICT_NEXT_VIRTUAL_ACCOUNT_ADDRESS.decode_output(predicted)
        va = self.chain.w3.to_checksum_address(va)
        results = self.template_results(tx, raw)
        step = 0 if body.add_margin is None else 1  # sendQuote's place in the template
        (quote_id,) = cd.SEND_QUOTE_WITH_AFFILIATE_AND_DATA.decode_output(results[step])
        return Opened(quote_id, va, self.chain.send(tx))

    def decode_open(self, call_data: bytes) -> dict[str, Any]:
        """The arguments of an open's callData: the generation's open (v0.8.6: the capped
        sendQuote), or the legacy open a v0.8.6 core still has (it stores zero caps)."""
        for fn in (cd.open_function(self.generation), cd.SEND_QUOTE_WITH_AFFILIATE_AND_DATA):
            if call_data[:4] == fn.selector:
                return fn.decode(call_data)
        raise ChainError(f"not an open of v{self.generation.version}: {call_data[:4].hex()}")

    def instant_close_tx(
        self,
        operations: InstantClose | Sequence[WrappedOperation],
        *,
        closed_price: int | None = None,
        closes: Sequence[dict[str, Any]] | None = None,
    ) -> flow.TxRequest:
        """Each close request followed by the PartyB's fill of the whole requested quantity at
        `closed_price` (default: the requested close price), in one executeBatch. `closes`: the
        requests' decoded arguments, when the caller has them already."""
        ops = operations.operations if isinstance(operations, InstantClose) else operations
        batch: list[WrappedOperation] = []
        for i, op in enumerate(ops):
            close = (
                closes[i]
                if closes is not None
                else cd.REQUEST_TO_CLOSE_POSITION.decode(op.signed_operation.call_data)
            )
            price = close["closePrice"] if closed_price is None else closed_price
            fill = FILL_CLOSE_REQUEST.encode(
                close["quoteId"], close["quantityToClose"], price, cd.EMPTY_PAIR_UPNL_SIG
            )
            batch += [op, self.partyb_operation(fill, deadline=close["deadline"])]
        return self.batch_tx(batch)

    def instant_close(
        self, operations: InstantClose | Sequence[WrappedOperation], **options: Any
    ) -> Sent:
        return self.chain.send(self.instant_close_tx(operations, **options))

    # --- delegation management beyond steps 4-5

    def grant_delegation_by_sig(
        self, sender: str, value: SignedDelegation, signature: bytes
    ) -> Sent:
        return self.chain.send(
            flow.grant_delegation_by_sig(self.context(), sender, value, signature)
        )

    def revoke_tx(
        self,
        sender: str,
        account: str,
        delegate: str,
        selectors: Sequence[bytes],
        *,
        finalize: bool = False,
    ) -> flow.TxRequest:
        """initiateRevokeDelegation (owner, delegate or REVOKER_ROLE) or, with `finalize`,
        finalizeRevokeDelegation (anyone, after the ETA)."""
        fn = cd.FINALIZE_REVOKE_DELEGATION if finalize else cd.INITIATE_REVOKE_DELEGATION
        data = fn.encode((account, False), delegate, list(selectors))
        return flow.TxRequest(fn.name, sender, self.instant_layer.address, data, fn)

    # --- views (eth_call with an explicit sender: web3 would otherwise list every account to
    # guess one; on the pending block when block.timestamp matters)

    def view(self, fn: ContractFunction, block: str = "latest") -> Any:
        return fn.call(self.chain.view_sender(), block)

    def operation_hash(self, op: SignedOperation) -> bytes:
        il = self.instant_layer.functions
        return bytes(self.view(il.getOperationHash(cd.operation_args(op))))

    def delegation_hash(self, value: SignedDelegation) -> bytes:
        il = self.instant_layer.functions
        return bytes(self.view(il.getDelegationHash(cd.signed_delegation_args(value))))

    def flex_fill_auth_hash(self, op_hash: bytes, field_index: int, value: bytes) -> bytes:
        il = self.instant_layer.functions
        return bytes(self.view(il.getFlexFillAuthHash(op_hash, field_index, value)))

    def is_delegation_active(self, delegator: str, delegate: str, selector: bytes) -> bool:
        """The contract's view: exactly the stored entry (a VA is not mapped to its parent)."""
        fn = self.instant_layer.functions.isDelegationActive(delegator, delegate, selector)
        return bool(self.view(fn, "pending"))

    def canonical_account(self, account: str) -> str:
        """The account delegations are stored under: a VA's parent sub-account, else itself."""
        detail = self.view(self.account_layer.functions.getVirtualAccount(account))
        return detail[1] if detail[3] else account

    def pending_revocation_eta(self, delegator: str, delegate: str, selector: bytes) -> int:
        fn = self.instant_layer.functions.pendingRevocationEta(delegator, delegate, selector)
        return self.view(fn)

    def nonce(self, account: str) -> int:
        return self.view(self.instant_layer.functions.nonces(account))

    def usage_count(self, digest: bytes) -> int:
        return self.view(self.instant_layer.functions.operationUsageCount(digest))
