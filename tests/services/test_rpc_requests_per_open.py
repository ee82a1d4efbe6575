"""What an instant_open costs the node on anvil, as a count (the same on any machine): the JSON-RPC
requests the provider sent, by method. An open needs the chain's clock (its deadlines), one batch
of two calls (the next VA and the template's results: the quote id) and the transaction, sent and
mined in one request; the chain id is asked once for the node's whole life."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator

import pytest

from harness.anvil import Anvil
from harness.chain.node import METHOD_NOT_FOUND, SEND_SYNC, Chain, NodeProvider, node_web3
from harness.keys import LocalKey
from harness.revert import Reverted
from harness.services import loadgen
from harness.services.backend import Backend, rpc_backend

from ..anvil_needed import needs_anvil

pytestmark = [pytest.mark.anvil, needs_anvil]

#: the requests one instant_open sends to the node (a body without a PartyB flex field; the
#: SDK's upnlSig range adds one clock read for the fill's timestamp)
REQUESTS_PER_OPEN = Counter({"eth_getBlockByNumber": 1, "eth_call": 2, SEND_SYNC: 1})


@pytest.fixture(scope="module")
def node() -> Iterator[Anvil]:
    with Anvil() as started:
        yield started


@pytest.fixture(scope="module")
def backend(node: Anvil) -> Backend:
    return rpc_backend(node.rpc_url, ())


def _provider(backend: Backend) -> NodeProvider:
    provider = backend.chain.w3.provider
    assert isinstance(provider, NodeProvider), f"rpc_backend's provider is {provider!r}"
    return provider


def test_an_open_sends_the_clock_one_batch_of_two_calls_and_one_synchronous_send(
    backend: Backend,
) -> None:
    keys = [LocalKey.generate() for _ in range(2)]
    users = [(k, backend.onboard(k.address).sub_account) for k in keys]
    bodies = loadgen.open_bodies(backend.context, users, 2)
    sent = loadgen.rpc_requests_of_opens(backend, bodies)
    expected = Counter({m: n * len(bodies) for m, n in REQUESTS_PER_OPEN.items()})
    assert sent == expected, f"{len(bodies)} opens sent {dict(sent)}, expected {dict(expected)}"


def test_the_chain_id_is_asked_once_however_many_calls_validate_it(backend: Backend) -> None:
    provider = _provider(backend)
    for _ in range(3):
        backend.system.usage_count(bytes(32))  # a web3 contract call: validated by chain id
        assert backend.chain.w3.eth.chain_id == backend.chain.chain_id
    assert provider.requests["eth_chainId"] == 1, dict(provider.requests)


def test_every_thread_shares_the_one_http_session(backend: Backend) -> None:
    manager = _provider(backend)._request_session_manager
    seen = []
    worker = threading.Thread(target=lambda: seen.append(manager.cache_and_return_session("x")))
    worker.start()
    worker.join()
    assert seen == [manager.cache_and_return_session("x")], "another thread got its own session"


def test_a_node_without_synchronous_send_gets_the_hash_then_the_receipt_asked_once(
    node: Anvil,
) -> None:
    chain = Chain(node_web3(node.rpc_url))
    provider = chain.w3.provider
    assert isinstance(provider, NodeProvider)
    plain = provider.make_request
    refused: list[str] = []

    def without_sync(method, params):  # type: ignore[no-untyped-def]
        if method == SEND_SYNC:
            refused.append(method)
            return {"jsonrpc": "2.0", "id": 1, "error": {"code": METHOD_NOT_FOUND}}
        return plain(method, params)

    provider.make_request = without_sync  # type: ignore[method-assign]
    funded = [chain.add_key(LocalKey.generate(), fund_wei=10) for _ in range(2)]  # a send each
    assert [chain.w3.eth.get_balance(a) for a in funded] == [10, 10], "a transfer was not mined"
    assert refused == [SEND_SYNC], f"eth_sendTransactionSync asked {len(refused)} times"
    assert provider.requests["eth_sendTransaction"] == 2, dict(provider.requests)


def test_a_reverting_send_over_the_node_is_decoded_like_its_call(backend: Backend) -> None:
    token = backend.system.mock["MockERC20"].functions
    overdraw = token.transfer(LocalKey.generate().address, 10**30)  # the admin holds none
    called = backend.chain.revert_of(overdraw)
    with pytest.raises(Reverted) as sent:
        backend.chain.send(overdraw)
    assert sent.value.decoded == called, f"the send reverted {sent.value.decoded}, a call {called}"
    assert called == ("Error", ("ERC20: transfer amount exceeds balance",)), called
