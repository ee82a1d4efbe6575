"""The embedded chain: our mock Symmio contracts on eth-tester + py-evm, driven through web3.

- `Chain`: one in-process chain; sends `flow.TxRequest`s (or web3 contract functions) with an
  explicit gas limit, decodes every revert with `harness.revert`, travels in time, takes and
  restores snapshots. `now()` is the timestamp the next transaction or call runs at.
- `deploy_system`: deploys and wires the whole system (roles, PartyB and its hedger signer,
  symbols, target whitelist, the instant-open template) and returns a `System`.
- `System`: steps 1-5 as transactions from the user's EOA (built by `harness.flow`), the
  solver's side (PartyB operations signed by the hedger, `executeBatch`, `executeTemplate`, the
  instant open in one transaction, the close with the PartyB fill) and the views tests read.

Gas is always explicit: web3's estimation would run every transaction ~10 times (toolchain notes).
A transaction that reverts is mined with status 0; `send` then replays it as a call on top of
its own block (same timestamp) to name the error, and raises `revert.Reverted`.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from eth_utils import to_checksum_address
from web3 import EthereumTesterProvider, Web3
from web3.contract import Contract
from web3.contract.contract import ContractFunction

from . import artifacts, eip712, flow
from . import calldata as cd
from .context import Context, Symbol
from .errors import HarnessError
from .keys import LocalKey
from .model import (
    Account,
    DelegationInfo,
    Domain,
    InstantClose,
    InstantOpen,
    ReplayAttackHeader,
    SignedDelegation,
    SignedOperation,
    WrappedOperation,
)
from .primitives import keccak, to_hex
from .revert import Decoded, Reverted, decode_revert, revert_data

DEFAULT_GAS = 5_000_000
DEPLOY_GAS = 12_000_000
ETHER = 10**18
WAD = 10**18

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

#: Instant open = [addMarginToNextVA, sendQuote, lockQuote, openPosition]: the quote id that
#: sendQuote returns (result 1, word 0) is written over the first argument (offset 0 after the
#: selector) of lockQuote and openPosition. Entries: (insertionPoints, sourceIndices, offsets).
INSTANT_OPEN_TEMPLATE: tuple[tuple[list[int], list[int], list[int]], ...] = (
    ([], [], []),
    ([], [], []),
    ([0], [1], [0]),
    ([0], [1], [0]),
)


class ChainError(HarnessError):
    """The chain cannot do what was asked (not eth-tester, no revert where one was expected...)."""


@dataclass(frozen=True)
class Sent:
    """A mined, successful transaction."""

    step: str
    tx_hash: str
    block_number: int
    gas_used: int
    receipt: Any = field(repr=False)


# ------------------------------------------------------------------------------ ABI tuples


# ------------------------------------------------------------------------------ the chain

Call = flow.TxRequest | ContractFunction


class Chain:
    """One in-process chain (eth-tester + py-evm by default); accounts[0] is the admin."""

    def __init__(self, w3: Web3 | None = None) -> None:
        self.w3 = w3 if w3 is not None else Web3(EthereumTesterProvider())
        self.tester = getattr(self.w3.provider, "ethereum_tester", None)
        self.chain_id: int = self.w3.eth.chain_id
        self.accounts: list[str] = list(self.w3.eth.accounts)
        self.admin = self.accounts[0]

    # --- accounts and contracts

    def add_key(self, key: LocalKey, fund_wei: int = 100 * ETHER) -> str:
        """Let `key` send transactions here (eth-tester signs with it), funded with ether.

        The private key goes straight into eth-tester's keystore; it is never shown.
        """
        if key.address not in self.accounts:
            self._require_tester().add_account(key.export_private_key())
            self.accounts.append(key.address)
        if fund_wei:
            self.w3.eth.send_transaction(
                {"from": self.admin, "to": key.address, "value": fund_wei, "gas": 21_000}
            )
        return key.address

    def deploy(
        self, name: str, *args: Any, sender: str | None = None, gas: int = DEPLOY_GAS
    ) -> Contract:
        return self.deploy_sent(name, *args, sender=sender, gas=gas)[0]

    def deploy_sent(
        self, name: str, *args: Any, sender: str | None = None, gas: int = DEPLOY_GAS
    ) -> tuple[Contract, Sent]:
        """Deploy an artifact; the contract and its mined deployment."""
        art = artifacts.load_artifact(name)
        factory = self.w3.eth.contract(abi=art["abi"], bytecode=art["bytecode"])
        tx_hash = factory.constructor(*args).transact({"from": sender or self.admin, "gas": gas})
        receipt = self.w3.eth.get_transaction_receipt(tx_hash)
        if receipt.status != 1:
            raise ChainError(f"deploying {name} failed (gas used {receipt.gasUsed} of {gas})")
        sent = Sent(
            f"deploy {name}", to_hex(bytes(tx_hash)), receipt.blockNumber, receipt.gasUsed, receipt
        )
        return self.contract(name, receipt.contractAddress), sent

    def contract(self, name: str, address: str) -> Contract:
        return self.w3.eth.contract(address=address, abi=artifacts.abi(name))

    # --- transactions and calls

    def send(
        self, call: Call, sender: str | None = None, *, gas: int = DEFAULT_GAS, value: int = 0
    ) -> Sent:
        """Mine `call`; Reverted (decoded) if it fails.

        The sender is `sender` if given, else the TxRequest's, else the admin.
        """
        step, frm, to, data = self._resolve(call, sender)
        tx = {"from": frm, "to": to, "data": data, "gas": gas, "value": value}
        tx_hash = self.w3.eth.send_transaction(tx)  # type: ignore[arg-type]
        receipt = self.w3.eth.get_transaction_receipt(tx_hash)
        if receipt.status != 1:
            # The failed transaction changed nothing but its sender's nonce and balance, so the
            # same call on top of its own block, which carries that block's timestamp, reverts
            # the same way and yields the data (the pending block would be a second later).
            try:
                self.call(call, sender, gas=gas, block=receipt.blockNumber)
            except Reverted as exc:
                raise Reverted(step, exc.decoded, exc.data) from None
            raise Reverted(step, ("<reverted; the replay did not>", ()), b"")
        return Sent(step, to_hex(bytes(tx_hash)), receipt.blockNumber, receipt.gasUsed, receipt)

    def call(
        self,
        call: Call,
        sender: str | None = None,
        *,
        gas: int = DEFAULT_GAS,
        block: str | int = "pending",
    ) -> bytes:
        """Run `call` without mining (on the pending block: the next transaction's timestamp)."""
        step, frm, to, data = self._resolve(call, sender)
        try:
            result = self.w3.eth.call({"from": frm, "to": to, "data": data, "gas": gas}, block)  # type: ignore[arg-type]
        except Exception as exc:
            raw = revert_data(exc)
            if raw is None:
                raise
            raise Reverted(step, decode_revert(raw), raw) from None
        return bytes(result)

    def revert_of(
        self, call: Call, sender: str | None = None, *, gas: int = DEFAULT_GAS
    ) -> Decoded:
        """(error name, args) the call reverts with; ChainError if it does not revert."""
        try:
            self.call(call, sender, gas=gas)
        except Reverted as exc:
            return exc.decoded
        step = self._resolve(call, sender)[0]
        raise ChainError(f"{step}: expected a revert, the call succeeded")

    def _resolve(self, call: Call, sender: str | None) -> tuple[str, str, str, bytes]:
        if isinstance(call, flow.TxRequest):
            return call.step, sender or call.sender, call.to, call.data
        if isinstance(call, ContractFunction):
            # web3 has no public "calldata of this bound function"; this is its own encoder
            data = bytes.fromhex(call._encode_transaction_data()[2:])
            return call.fn_name, sender or self.admin, call.address, data
        raise TypeError(f"expected a flow.TxRequest or a web3 contract function, got {call!r}")

    # --- time and snapshots

    def now(self) -> int:
        """The block timestamp the next transaction (or pending-block call) runs at."""
        if self.tester is not None:
            return self.tester.get_block_by_number("pending")["timestamp"]
        return self.w3.eth.get_block("latest")["timestamp"] + 1

    def latest_block(self) -> int:
        return self.w3.eth.block_number

    def time_travel(self, timestamp: int) -> None:
        """Make `timestamp` the next transaction's block time (never backwards)."""
        tester = self._require_tester()
        current = self.now()
        if timestamp < current:
            raise ChainError(f"cannot travel back in time (now {current}, asked {timestamp})")
        if timestamp - 1 > current:
            # mines a block at about timestamp - 1; right after a snapshot revert eth-tester
            # lands one second short, so the loop below mines the rest one block at a time
            tester.time_travel(timestamp - 1)
        for _ in range(3):
            now = self.now()
            if now >= timestamp:
                break
            tester.mine_blocks(1)  # the mined block takes the pending timestamp
        if self.now() != timestamp:
            raise ChainError(f"time travel landed at {self.now()}, not {timestamp}")

    def advance(self, seconds: int) -> int:
        target = self.now() + seconds
        self.time_travel(target)
        return target

    def snapshot(self) -> int:
        """A snapshot of the latest block. Restoring re-imports that block, re-running its
        transactions (~0.1 s for an instant open), so an empty block is mined first if needed."""
        tester = self._require_tester()
        if self.w3.eth.get_block("latest")["transactions"]:
            tester.mine_blocks(1)
        return tester.take_snapshot()

    def revert(self, snapshot_id: int) -> None:
        """Back to a snapshot; any snapshot of this chain can be restored, in any order."""
        self._require_tester().revert_to_snapshot(snapshot_id)

    def _require_tester(self) -> Any:
        if self.tester is None:
            raise ChainError("this needs the embedded eth-tester chain")
        return self.tester


# ------------------------------------------------------------------------------ deployment


def default_affiliate() -> str:
    return to_checksum_address(keccak(b"symmio-harness affiliate")[12:])


@dataclass
class System:
    """The deployed and wired mock system, and the operations run against it."""

    chain: Chain
    collateral: Contract
    core: Contract
    account_layer: Contract
    instant_layer: Contract
    party_b: Contract
    hedger: flow.Signer
    affiliate: str
    symbols: tuple[Symbol, ...]
    open_template_id: int
    wiring_gas: dict[str, int]

    @property
    def admin(self) -> str:
        return self.chain.admin

    @property
    def domain(self) -> Domain:
        return eip712.instant_layer_domain(self.chain.chain_id, self.instant_layer.address)

    def context(self, **optional: Any) -> Context:
        """The context file's content for this deployment (the PartyB contract is the hedger)."""
        return Context(
            chain_id=self.chain.chain_id,
            instant_layer=self.instant_layer.address,
            account_layer=self.account_layer.address,
            symmio_core=self.core.address,
            hedger=self.party_b.address,
            affiliate=self.affiliate,
            symbols=self.symbols,
            **optional,
        )

    # --- steps 1-5, from the user's EOA

    def mint(self, to: str, units: int) -> Sent:
        """Test-token faucet (MockERC20.mint is open to anyone)."""
        return self.chain.send(self.collateral.functions.mint(to, units), to)

    def create_sub_account(self, owner: str, name: str, **options: Any) -> tuple[str, Sent]:
        """Step 1; returns the new sub-account's address (from SubAccountCreated)."""
        sent = self.chain.send(flow.create_sub_account(self.context(), owner, name, **options))
        (topics,) = _event_topics(sent, self.account_layer, "SubAccountCreated")
        return _topic_address(topics[2]), sent

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
        user: str,
        session_key: str,
        tpsl_bot: str | None = None,
        *,
        deposit_units: int,
        expiry: int,
        name: str = "harness",
    ) -> Onboarded:
        """Steps 1-5 for `user` (which must be able to send here): sub-account, faucet mint,
        approve + deposit, bind to the PartyB, the session key's and the bot's delegations."""
        sub, sent = self.create_sub_account(user, name)
        steps = {"createSubAccounts": sent, "mint": self.mint(user, deposit_units)}
        steps["approve"] = self.approve(user, deposit_units)
        steps["depositForAccount"] = self.deposit(user, sub, deposit_units)
        steps["bindToPartyB"] = self.bind(user, sub)
        session = flow.session_key_delegation(sub, session_key, expiry)
        steps["grantDelegation(session key)"] = self.grant_delegation(user, session)
        if tpsl_bot is not None:
            bot = flow.tpsl_bot_delegation(sub, tpsl_bot, expiry)
            steps["grantDelegation(TP/SL bot)"] = self.grant_delegation(user, bot)
        return Onboarded(user, sub, steps)

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
        self, body: InstantOpen, *, opened_price: int | None = None, deadline: int | None = None
    ) -> flow.TxRequest:
        """The solver's one transaction for an instant_open body: addMargin + sendQuote (the
        user's signed operations) + lockQuote + openPosition (the PartyB's), quote id injected.
        The PartyB fills the whole quantity at `opened_price` (default: the requested price)."""
        quote = cd.SEND_QUOTE_WITH_AFFILIATE_AND_DATA.decode(
            body.send_quote.signed_operation.call_data
        )
        price = quote["price"] if opened_price is None else opened_price
        until = quote["deadline"] if deadline is None else deadline
        # quote id 0 is the placeholder the template overwrites
        lock = self.partyb_operation(cd.LOCK_QUOTE.encode(0, cd.EMPTY_UPNL_SIG_4), deadline=until)
        open_ = self.partyb_operation(
            cd.OPEN_POSITION.encode(0, quote["quantity"], price, cd.EMPTY_PAIR_UPNL_SIG),
            deadline=until,
        )
        return self.template_tx(
            self.open_template_id, [body.add_margin, body.send_quote, lock, open_]
        )

    def instant_open(self, body: InstantOpen, **options: Any) -> Opened:
        sent = self.chain.send(self.instant_open_tx(body, **options))
        (topics,) = _event_topics(sent, self.core, "SendQuote")
        quote_id = int.from_bytes(topics[2], "big")
        return Opened(quote_id, _topic_address(topics[1]), sent)

    def instant_close_tx(
        self,
        operations: InstantClose | Sequence[WrappedOperation],
        *,
        closed_price: int | None = None,
    ) -> flow.TxRequest:
        """Each close request followed by the PartyB's fill of the whole requested quantity at
        `closed_price` (default: the requested close price), in one executeBatch."""
        ops = operations.operations if isinstance(operations, InstantClose) else operations
        batch: list[WrappedOperation] = []
        for op in ops:
            close = cd.REQUEST_TO_CLOSE_POSITION.decode(op.signed_operation.call_data)
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
        return fn.call({"from": self.admin}, block)

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
        fn = self.instant_layer.functions.isDelegationActive(delegator, delegate, selector)
        return bool(self.view(fn, "pending"))

    def pending_revocation_eta(self, delegator: str, delegate: str, selector: bytes) -> int:
        fn = self.instant_layer.functions.pendingRevocationEta(delegator, delegate, selector)
        return self.view(fn)

    def nonce(self, account: str) -> int:
        return self.view(self.instant_layer.functions.nonces(account))

    def usage_count(self, digest: bytes) -> int:
        return self.view(self.instant_layer.functions.operationUsageCount(digest))

    def quote(self, quote_id: int) -> dict[str, Any]:
        fn = self.core.functions.getQuote(quote_id)
        outputs = fn.abi["outputs"][0]["components"]
        return dict(zip([o["name"] for o in outputs], self.view(fn), strict=True))

    def balance(self, account: str) -> int:
        """The account's free balance inside the core (18 decimals)."""
        return self.view(self.core.functions.balanceOf(account))


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


def deploy_system(
    chain: Chain | None = None,
    *,
    hedger: flow.Signer | None = None,
    collateral_decimals: int = 6,
    symbols: Sequence[Symbol] = (Symbol(1, "BTCUSDT", 1, 3),),
    min_quote_value: Decimal = Decimal(5),
    affiliate: str | None = None,
) -> System:
    """Deploy MockERC20, SymmioCore, AccountLayer, InstantLayer and MockPartyB, and wire them
    (contracts/README.md "Deploy and wire"); the instant-open template gets id 0."""
    chain = chain if chain is not None else Chain()
    hedger = hedger if hedger is not None else LocalKey.generate()
    admin = chain.admin
    gas: dict[str, int] = {}

    def deploy(name: str, *args: Any) -> Contract:
        contract, sent = chain.deploy_sent(name, *args)
        gas[sent.step] = sent.gas_used
        return contract

    def send(label: str, fn: ContractFunction) -> None:
        gas[label] = chain.send(fn, admin).gas_used

    usdc = deploy("MockERC20", "Mock USDC", "mUSDC", collateral_decimals)
    core = deploy("SymmioCore", usdc.address, admin)
    al = deploy("AccountLayer", admin)
    il = deploy("InstantLayer", core.address, admin)
    pb = deploy("MockPartyB", hedger.address, core.address, admin)

    send("core.setAccountLayer", core.functions.setAccountLayer(al.address))
    send("core.setInstantLayer", core.functions.setInstantLayer(il.address))
    send("core.registerPartyB", core.functions.registerPartyB(pb.address, True))
    min_value = int(min_quote_value * WAD)
    for s in symbols:
        send(f"core.addSymbol({s.id})", core.functions.addSymbol(s.id, s.name, min_value))
    send("al.setSymmioCoreAllowed", al.functions.setSymmioCoreAllowed(core.address, True))
    role = al.functions.INSTANT_LAYER_ROLE().call()
    send("al.grantRole(INSTANT_LAYER_ROLE)", al.functions.grantRole(role, il.address))
    send("il.setAccountLayer", il.functions.setAccountLayer(al.address))
    send("il.registerPartyBs", il.functions.registerPartyBs([pb.address]))
    send("pb.setInstantLayer", pb.functions.setInstantLayer(il.address))
    template_id = il.functions.templateCount().call()
    template = [list(map(list, op)) for op in INSTANT_OPEN_TEMPLATE]
    send("il.addTemplate(instant_open)", il.functions.addTemplate("instant_open", template))
    instant_mode = il.functions.setTemplateInstantOpenMode(template_id, True)
    send("il.setTemplateInstantOpenMode", instant_mode)
    return System(
        chain=chain,
        collateral=usdc,
        core=core,
        account_layer=al,
        instant_layer=il,
        party_b=pb,
        hedger=hedger,
        affiliate=affiliate or default_affiliate(),
        symbols=tuple(symbols),
        open_template_id=template_id,
        wiring_gas=gas,
    )


# ------------------------------------------------------------------------------ helpers


def _event_topics(sent: Sent, contract: Contract, event: str) -> list[list[bytes]]:
    """The topics of every `event` log `contract` emitted in the transaction."""
    entry = next(e for e in contract.abi if e.get("type") == "event" and e["name"] == event)
    topic0 = keccak(artifacts.signature(entry).encode())
    return [
        [bytes(t) for t in log["topics"]]
        for log in sent.receipt["logs"]
        if log["address"] == contract.address and bytes(log["topics"][0]) == topic0
    ]


def _topic_address(topic: bytes) -> str:
    return to_checksum_address(topic[12:])
