"""The embedded chain in a child process (`harness.chain.child`, what `serve --chain embedded`
executes on): the same flow gives the same chain, byte for byte, as the in-process chain; reverts,
the clock and snapshots cross the pipe as they were; the child runs nothing but what `Chain`
asks, ignores Ctrl-C, and never outlives its parent."""

from __future__ import annotations

import os
import signal
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.anvil import process_alive
from harness.chain import Chain, ChainError
from harness.chain import child as child_module
from harness.chain.child import ChildChainProcess, start_child_chain
from harness.revert import Reverted

from ..orphans import assert_child_dies_with_killed_parent
from .conftest import _deployed_with, _onboarded_from, _opened_from
from .scenario import Scenario, key_for

pytestmark = [pytest.mark.evm, pytest.mark.subprocess]

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def child() -> Iterator[tuple[Chain, ChildChainProcess]]:
    chain, process = start_child_chain()
    yield chain, process
    process.stop()


def _what_the_flow_leaves(chain: Chain) -> dict[str, Any]:
    """Deploy, onboard and open on `chain` (deterministic keys), then a refused open: everything
    a frontend could observe of it."""
    opened = _opened_from(_onboarded_from(_deployed_with(chain), key_for("user").address))
    refused = opened.open_plan(opened.bot)  # the bot's delegation is close-only
    receipt_gas = [
        chain.w3.eth.get_transaction_receipt(chain.w3.eth.get_block(n)["transactions"][0]).gasUsed
        for n in range(1, chain.latest_block() + 1)
        if chain.w3.eth.get_block(n)["transactions"]
    ]
    # the open's calldata carries signatures over clock-dependent deadlines: its gas varies by
    # a few zero bytes from run to run (on either chain), so it is left out
    receipt_gas.pop()
    return {
        "contracts": {name: c.address for name, c in opened.system.mock.items()},
        "sub_account": opened.sub_account,
        "virtual_account": opened.virtual_account,
        "quote_id": opened.quote_id,
        "balance": opened.system.balance(opened.sub),
        "gas_used_per_transaction": receipt_gas,
        "refused_open": chain.revert_of(opened.system.instant_open_tx(refused.body)),
    }


def test_the_child_chain_leaves_exactly_what_the_in_process_chain_leaves(
    child: tuple[Chain, ChildChainProcess],
) -> None:
    in_process = _what_the_flow_leaves(Chain())
    in_child = _what_the_flow_leaves(child[0])
    for key, expected in in_process.items():
        assert in_child[key] == expected, f"{key}: child {in_child[key]!r}, in-process {expected!r}"
    assert in_child["refused_open"] == ("InvalidDelegation", ())


def test_a_mined_revert_crosses_the_pipe_decoded(child: tuple[Chain, ChildChainProcess]) -> None:
    chain = child[0]
    s: Scenario = _onboarded_from(_deployed_with(chain), key_for("user").address)
    op = s.sign(s.stranger, s.add_margin_call())
    with pytest.raises(Reverted) as caught:
        s.system.execute_batch([op])
    assert caught.value.decoded == ("InvalidDelegation", ())


def test_time_travel_snapshots_and_reverts_on_the_child_chain(
    child: tuple[Chain, ChildChainProcess],
) -> None:
    chain = child[0]
    mark = chain.snapshot()
    start = chain.now()
    assert chain.advance(3600) == start + 3600 == chain.now()
    with pytest.raises(ChainError, match="cannot travel back in time"):
        chain.time_travel(start)
    chain.revert(mark)
    assert start <= chain.now() < start + 3600, "the snapshot's clock is back"


def test_the_child_runs_only_the_tester_methods_chain_calls(
    child: tuple[Chain, ChildChainProcess],
) -> None:
    tester = child[0].tester
    with pytest.raises(AttributeError):
        tester.reset_to_genesis  # noqa: B018
    with pytest.raises(ChainError, match="no request tester 'reset_to_genesis'"):
        child[1].ask("tester", "reset_to_genesis", ())
    assert child[0].now() > 0, "a refused request leaves the child answering"


def test_the_child_ignores_sigint_its_parent_decides_when_it_stops(
    child: tuple[Chain, ChildChainProcess],
) -> None:
    chain, process = child
    assert process.pid is not None
    os.kill(process.pid, signal.SIGINT)
    time.sleep(0.2)
    assert process.alive() and chain.now() > 0


def test_a_stopped_child_is_gone_and_a_later_request_says_so() -> None:
    chain, process = start_child_chain()
    pid = process.pid
    assert pid is not None and process_alive(pid)
    process.stop()
    assert not process_alive(pid)
    with pytest.raises(ChainError, match="the embedded chain's process is gone"):
        chain.now()


def test_stop_does_not_wait_forever_for_a_request_in_flight(monkeypatch) -> None:
    monkeypatch.setattr(child_module, "STOP_SECONDS", 0.3)
    chain, process = start_child_chain()
    failed: list[BaseException] = []

    def busy() -> None:
        try:
            chain.tester.mine_blocks(1_000_000)  # minutes of work for the child
        except BaseException as exc:
            failed.append(exc)

    worker = threading.Thread(target=busy)
    worker.start()
    time.sleep(0.3)
    started = time.monotonic()
    process.stop()
    worker.join(10)
    assert time.monotonic() - started < 5, "stop waited for the request in flight"
    assert not process.alive()
    assert len(failed) == 1 and isinstance(failed[0], ChainError), failed
    assert "gone" in str(failed[0])


@pytest.mark.slow
@pytest.mark.parametrize("parent_signal", [signal.SIGKILL, signal.SIGTERM])
def test_killing_the_parent_leaves_no_child_chain(parent_signal: signal.Signals) -> None:
    # the child sees its pipe close and exits (SIGKILL: no atexit, no finally in the parent)
    script = textwrap.dedent(
        """
        import time
        from harness.chain.child import start_child_chain
        chain, process = start_child_chain()
        print(process.pid, flush=True)
        time.sleep(120)
        """
    )
    assert_child_dies_with_killed_parent(script, parent_signal, "the embedded chain's process")
