"""A chain to drive: transactions, calls, decoded reverts, time and snapshots, over any web3.

`Chain` wraps one `Web3`: the embedded eth-tester + py-evm chain by default, or any JSON-RPC node
(anvil). Keys added with `add_key` send their own transactions: on eth-tester through its
keystore, elsewhere signed here (eth-account) and sent raw, so a node needs no unlocked
accounts but the funder. Every transaction has an explicit gas limit (web3's estimation would run
it ~10 times, toolchain notes); a reverting one is mined with status 0, replayed as a call on top
of its own block to name the error, and raised as `revert.Reverted`.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import requests
from eth_account import Account as EthAccount
from web3 import EthereumTesterProvider, HTTPProvider, Web3
from web3._utils.method_formatters import receipt_formatter
from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.datastructures import AttributeDict

from .. import artifacts, flow
from ..errors import HarnessError
from ..keys import LocalKey
from ..primitives import to_hex
from ..revert import Decoded, Reverted, decode_revert, revert_data

DEFAULT_GAS = 5_000_000
DEPLOY_GAS = 12_000_000
ETHER = 10**18
#: How long `send` waits for a JSON-RPC node's receipt (anvil mines at once; polling covers the
#: few sends whose receipt is missing right after the hash comes back, toolchain notes).
RECEIPT_TIMEOUT_S = 30.0


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


# ------------------------------------------------------------------------------ a JSON-RPC node

#: EIP-7966 "send and wait for the receipt" (anvil has it); JSON-RPC's "method not found" code
SEND_SYNC = "eth_sendTransactionSync"
METHOD_NOT_FOUND = -32601


def _block(block: str | int) -> str:
    """A block parameter as JSON-RPC writes it (a number as 0x hex, a tag as itself)."""
    return hex(block) if isinstance(block, int) else block


def _rpc_value(value: Any) -> str:
    """A transaction field as JSON-RPC writes it: a quantity as 0x hex, bytes as 0x hex."""
    if isinstance(value, int):
        return hex(value)
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    return str(value)


class NodeProvider(HTTPProvider):
    """web3's HTTP provider for one node, with what cannot change kept and every request counted:
    - one HTTP session (keep-alive) for every thread that calls (web3 keeps one per thread),
      reaching the node directly: no proxy or netrc looked up in the environment for each
      request (requests does by default; the node is a local one, `serve`'s anvil);
    - the chain id asked once: web3's validation asks `eth_chainId` again before every call and
      transaction it sends, and a node's chain id does not change while it runs;
    - `requests`: the JSON-RPC requests sent to the node, by method (a batch counts each of its
      requests), for the figures and tests that pin how many an operation needs."""

    def __init__(self, url: str, *, timeout: float = 30) -> None:
        session = requests.Session()
        session.trust_env = False
        super().__init__(url, request_kwargs={"timeout": timeout}, session=session)
        self.requests: Counter[str] = Counter()
        self._count_lock = threading.Lock()
        self._chain_id: str | None = None

    def make_request(self, method: Any, params: Any) -> Any:
        if method == "eth_chainId" and self._chain_id is not None:
            return {"jsonrpc": "2.0", "id": 0, "result": self._chain_id}
        self._count(method)
        answer = super().make_request(method, params)
        if method == "eth_chainId" and isinstance(answer.get("result"), str):
            self._chain_id = answer["result"]
        return answer

    def make_batch_request(self, batch_requests: list[tuple[Any, Any]]) -> Any:
        for method, _params in batch_requests:
            self._count(method)
        return super().make_batch_request(batch_requests)

    def _count(self, method: str) -> None:
        with self._count_lock:
            self.requests[method] += 1

    def request_count(self) -> int:
        """JSON-RPC requests sent so far (all methods)."""
        with self._count_lock:
            return sum(self.requests.values())


def node_web3(url: str, *, timeout: float = 30) -> Web3:
    """A `Web3` on the JSON-RPC node at `url` through a `NodeProvider`, without web3's gas price
    middleware: it fetches the latest block before every eth_sendTransaction only to check fee
    fields, and `Chain` sends none (the node fills them; a transaction signed here carries its
    own gasPrice and goes out raw, which the middleware never sees)."""
    w3 = Web3(NodeProvider(url, timeout=timeout))
    w3.middleware_onion.remove("gas_price_strategy")
    return w3


# ------------------------------------------------------------------------------ the chain

Call = flow.TxRequest | ContractFunction


class Chain:
    """One chain (eth-tester + py-evm by default); accounts[0] is the admin (the funder)."""

    def __init__(self, w3: Web3 | None = None, *, sign_locally: bool | None = None) -> None:
        self.w3 = w3 if w3 is not None else Web3(EthereumTesterProvider())
        self.tester = getattr(self.w3.provider, "ethereum_tester", None)
        #: a node reached through `node_web3`: calls and the clock go to it as plain JSON-RPC
        #: (web3's request machinery costs more than the request itself), everything else
        #: through web3
        self._node = self.w3.provider if isinstance(self.w3.provider, NodeProvider) else None
        self.chain_id: int = self.w3.eth.chain_id
        self.accounts: list[str] = _unlocked_accounts(self.w3)
        #: the first unlocked account: deployer, funder and solver-side sender (a public node has
        #: none; then only keys added with `add_key` send, and nobody funds them)
        self._admin: str | None = self.accounts[0] if self.accounts else None
        #: keys whose transactions are signed here (every added key off eth-tester)
        self.sign_locally = self.tester is None if sign_locally is None else sign_locally
        self._keys: dict[str, LocalKey] = {}
        #: JSON-RPC: the timestamp set for the next block by time_travel (None: the node's own)
        self._next_timestamp: int | None = None
        #: JSON-RPC: whether to send from unlocked accounts with eth_sendTransactionSync (until
        #: the node says it has no such method)
        self._sync_sends = True

    @property
    def admin(self) -> str:
        if self._admin is None:
            raise ChainError("the node has no unlocked account: send from a key added with add_key")
        return self._admin

    # --- accounts and contracts

    def add_key(self, key: LocalKey, fund_wei: int = 100 * ETHER) -> str:
        """Let `key` send transactions here, funded with ether by the admin.

        On eth-tester (unless `sign_locally`) the key goes into its keystore; otherwise
        transactions from it are signed in this process. It is never shown.
        """
        if key.address not in self.accounts:
            if self.sign_locally:
                self._keys[key.address] = key
            else:
                self._require_tester().add_account(key.export_private_key())
            self.accounts.append(key.address)
        if fund_wei:
            fund = {"from": self.admin, "to": key.address, "value": fund_wei, "gas": 21_000}
            self._mined("fund " + key.address, *self._submit(fund))
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
        frm = sender or self.admin
        data = factory.constructor(*args).data_in_transaction
        tx_hash, receipt = self._submit({"from": frm, "data": data, "gas": gas, "value": 0})
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
        tx_hash, receipt = self._submit(tx)
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
        if self._node is not None:
            tx = {"from": frm, "to": to, "data": _rpc_value(data), "gas": hex(gas)}
            return self._node_result(step, self._node.make_request("eth_call", [tx, _block(block)]))
        try:
            result = self.w3.eth.call({"from": frm, "to": to, "data": data, "gas": gas}, block)  # type: ignore[arg-type]
        except Exception as exc:
            raw = revert_data(exc)
            if raw is None:
                raise
            raise Reverted(step, decode_revert(raw), raw) from None
        return bytes(result)

    def call_all(self, calls: list[Call], *, block: str | int = "pending") -> list[bytes]:
        """Each of `calls` run without mining on the same block, from the admin or the
        TxRequest's sender: their return data, in order; the first that reverts raises. On a
        node, one JSON-RPC batch (one round trip)."""
        if self._node is None:
            return [self.call(call, block=block) for call in calls]
        resolved = [self._resolve(call, None) for call in calls]
        batch = [
            (
                "eth_call",
                [
                    {"from": frm, "to": to, "data": _rpc_value(data), "gas": hex(DEFAULT_GAS)},
                    _block(block),
                ],
            )
            for _step, frm, to, data in resolved
        ]
        answers = self._node.make_batch_request(batch)  # type: ignore[arg-type]
        if not isinstance(answers, list):  # the node refused the batch as a whole
            raise ChainError(f"eth_call batch: the node refused ({answers.get('error')})")
        return [
            self._node_result(step, answer)
            for (step, *_), answer in zip(resolved, answers, strict=True)
        ]

    @staticmethod
    def _node_result(step: str, answer: Any) -> bytes:
        """An eth_call's answer from a `NodeProvider`: its bytes; Reverted (decoded) when the
        error carries revert data, ChainError naming the node's message otherwise."""
        error = answer.get("error")
        if error is None:
            return bytes.fromhex(answer["result"][2:])
        raw = revert_data(error)
        if raw is None:
            raise ChainError(f"{step}: eth_call refused by the node ({error.get('message')})")
        raise Reverted(step, decode_revert(raw), raw)

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

    def _submit(self, tx: dict[str, Any]) -> tuple[bytes, Any]:
        """Send `tx` and wait until it is mined: its hash and its receipt. From an unlocked
        account on a `node_web3` node that has EIP-7966's `eth_sendTransactionSync` (anvil),
        that is one request answering with the receipt once the transaction is mined;
        elsewhere the hash, then the receipt (polled for on a node)."""
        if self._node is not None and self._sync_sends and tx["from"] not in self._keys:
            receipt = self._send_sync(tx)
            if receipt is not None:
                return bytes(receipt["transactionHash"]), receipt
        tx_hash = self._transact(tx)
        return tx_hash, self._receipt(tx_hash)

    def _send_sync(self, tx: dict[str, Any]) -> Any:
        """`tx` by `eth_sendTransactionSync`; its receipt (formatted as web3's
        get_transaction_receipt formats one), or None when the node has no such method (it
        is not asked again). Any other error is raised and the transaction never sent again:
        a node may have taken it before failing (an EIP-7966 timeout), so a resend could run
        it twice."""
        params = {
            k: v if k in ("from", "to") else _rpc_value(v) for k, v in tx.items() if k != "to" or v
        }
        assert self._node is not None
        answer = self._node.make_request(SEND_SYNC, [params])
        error = answer.get("error")
        if error is not None:
            if error.get("code") == METHOD_NOT_FOUND:
                self._sync_sends = False
                return None
            raise ChainError(f"{SEND_SYNC}: the node refused ({error.get('message')})")
        return AttributeDict.recursive(receipt_formatter(answer["result"]))

    def _transact(self, tx: dict[str, Any]) -> bytes:
        """Send `tx` (from an unlocked/keystore account, or signed here); its hash."""
        key = self._keys.get(tx["from"])
        if key is None:
            return bytes(self.w3.eth.send_transaction(tx))  # type: ignore[arg-type]
        full = {
            **tx,
            "chainId": self.chain_id,
            "nonce": self.w3.eth.get_transaction_count(key.address, "pending"),
            "gasPrice": self.w3.eth.gas_price,
        }
        if "to" not in full:
            full["to"] = b""
        signed = EthAccount.sign_transaction(full, key.export_private_key())
        return bytes(self.w3.eth.send_raw_transaction(signed.raw_transaction))

    def _receipt(self, tx_hash: bytes) -> Any:
        """The receipt, polled for on a JSON-RPC node (eth-tester has it at once)."""
        if self.tester is not None:
            return self.w3.eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]
        return self.w3.eth.wait_for_transaction_receipt(
            tx_hash,  # type: ignore[arg-type]
            timeout=RECEIPT_TIMEOUT_S,
            poll_latency=0.005,
        )

    def _mined(self, step: str, tx_hash: bytes, receipt: Any) -> Any:
        if receipt.status != 1:
            raise ChainError(f"{step}: the transaction failed")
        return receipt

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
        if self._node is not None:  # the one field read, without web3's block formatting
            answer = self._node.make_request("eth_getBlockByNumber", ["latest", False])
            if "error" in answer:
                raise ChainError(f"eth_getBlockByNumber: the node refused ({answer['error']})")
            latest = int(answer["result"]["timestamp"], 16)
        else:
            latest = self.w3.eth.get_block("latest")["timestamp"]
        if self._next_timestamp is not None and self._next_timestamp > latest:
            return self._next_timestamp
        return latest + 1

    def latest_block(self) -> int:
        return self.w3.eth.block_number

    def time_travel(self, timestamp: int) -> None:
        """Make `timestamp` the next transaction's block time (never backwards)."""
        current = self.now()
        if timestamp < current:
            raise ChainError(f"cannot travel back in time (now {current}, asked {timestamp})")
        if self.tester is None:
            # a JSON-RPC dev node (anvil): the next block gets exactly `timestamp`
            self._rpc("evm_setNextBlockTimestamp", [timestamp])
            self._next_timestamp = timestamp
        else:
            if timestamp - 1 > current:
                # mines a block at about timestamp - 1; right after a snapshot revert eth-tester
                # lands one second short, so the loop below mines the rest one block at a time
                self.tester.time_travel(timestamp - 1)
            for _ in range(3):
                if self.now() >= timestamp:
                    break
                self.tester.mine_blocks(1)  # the mined block takes the pending timestamp
        if self.now() != timestamp:
            raise ChainError(f"time travel landed at {self.now()}, not {timestamp}")

    def advance(self, seconds: int) -> int:
        target = self.now() + seconds
        self.time_travel(target)
        return target

    def snapshot(self) -> int:
        """A snapshot of the latest block. On eth-tester restoring re-imports that block,
        re-running its transactions (~0.1 s for an instant open), so an empty block is mined
        first if needed."""
        if self.tester is None:
            return int(self._rpc("evm_snapshot", []), 16)
        if self.w3.eth.get_block("latest")["transactions"]:
            self.tester.mine_blocks(1)
        return self.tester.take_snapshot()

    def revert(self, snapshot_id: int) -> None:
        """Back to a snapshot. On eth-tester any snapshot can be restored, in any order; a
        JSON-RPC node forgets the snapshots taken after the one restored."""
        if self.tester is None:
            if not self._rpc("evm_revert", [hex(snapshot_id)]):
                raise ChainError(f"the node has no snapshot {snapshot_id}")
            self._next_timestamp = None
            return
        self.tester.revert_to_snapshot(snapshot_id)

    def _rpc(self, method: str, params: list[Any]) -> Any:
        answer = self.w3.provider.make_request(method, params)  # type: ignore[arg-type]
        if "error" in answer:
            raise ChainError(f"{method}: the node refused ({answer['error'].get('message')})")
        return answer.get("result")

    def rpc_requests(self) -> int | None:
        """JSON-RPC requests sent to the node so far (a chain on `node_web3`); None where
        nothing counts them (the embedded chain, another provider)."""
        provider = self.w3.provider
        return provider.request_count() if isinstance(provider, NodeProvider) else None

    def view_sender(self) -> dict[str, str]:
        """The `from` of an eth_call: the admin when there is one (web3 would otherwise list
        the node's accounts to guess one), else none."""
        return {"from": self._admin} if self._admin is not None else {}

    def _require_tester(self) -> Any:
        if self.tester is None:
            raise ChainError("this needs the embedded eth-tester chain")
        return self.tester


def _unlocked_accounts(w3: Web3) -> list[str]:
    """The node's unlocked accounts; a public node may have none or refuse to say."""
    try:
        return list(w3.eth.accounts)
    except Exception:  # e.g. "method not supported" from a hosted RPC
        return []
