"""harness.anvil: finding, starting and stopping a local anvil node, with no orphan left behind.

The tests that need the real binary are marked `anvil` and skipped (with the fix in the reason)
when it is not installed; `.ci/run` installs it (`npm ci --prefix tools/anvil`), so CI runs them.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from harness import anvil as anvil_mod
from harness.anvil import (
    ANVIL_CHAIN_ID,
    DEV_MNEMONIC,
    Anvil,
    AnvilError,
    dev_accounts,
    find_anvil,
    process_alive,
    rpc_call,
)
from harness.artifacts import load_artifact

from .orphans import assert_child_dies_with_killed_parent, wait_gone

REPO = Path(__file__).resolve().parents[1]

try:
    ANVIL_BINARY: Path | None = find_anvil()
    SKIP_REASON = ""
except AnvilError as exc:
    if os.environ.get("SYMMIO_REQUIRE_ANVIL"):  # .ci/run sets it: CI must not skip these
        raise
    ANVIL_BINARY = None
    SKIP_REASON = str(exc)

needs_anvil = pytest.mark.skipif(ANVIL_BINARY is None, reason=SKIP_REASON)


def _fake_binary(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "fake-anvil"
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(0o755)
    return path


# ------------------------------------------------------------------ without the binary


def test_missing_anvil_is_one_line_naming_the_npm_fix(tmp_path: Path) -> None:
    with pytest.raises(AnvilError) as err:
        find_anvil(environ={}, tools_dir=tmp_path, search_path="")
    message = str(err.value)
    assert "\n" not in message, f"expected one line, got {message!r}"
    assert "anvil not found" in message and "npm ci --prefix tools/anvil" in message, message


def test_symmio_anvil_env_var_that_is_not_executable_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(AnvilError, match=r"SYMMIO_ANVIL=.*nope is not an executable file"):
        find_anvil(environ={"SYMMIO_ANVIL": str(missing)}, tools_dir=tmp_path, search_path="")


def test_symmio_anvil_env_var_wins_over_tools_dir_and_path(tmp_path: Path) -> None:
    fake = _fake_binary(tmp_path, "exit 0")
    assert find_anvil(environ={"SYMMIO_ANVIL": str(fake)}, search_path="") == fake


def test_tools_dir_binary_is_found_before_path(tmp_path: Path) -> None:
    binary = tmp_path / "node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil"
    binary.parent.mkdir(parents=True)
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755)
    assert find_anvil(environ={}, tools_dir=tmp_path, search_path="") == binary


def test_dev_accounts_are_anvils_well_known_first_accounts() -> None:
    # Known answers: anvil's (and hardhat's) first two dev accounts for the "junk" mnemonic.
    first, second = dev_accounts(2)
    assert first.address == "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266", first.address
    assert first.private_key == (
        "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
    ), "dev key 0 differs from anvil's"
    assert second.address == "0x70997970C51812dc3A010C7d01b50e0d17dc79C8", second.address
    assert DEV_MNEMONIC.split() == ["test"] * 11 + ["junk"]


def test_invalid_port_is_refused_in_one_line() -> None:
    with pytest.raises(AnvilError, match=r"^port: expected an integer 0\.\.65535 .*, got 70000$"):
        Anvil(port=70000)


@pytest.mark.subprocess
def test_busy_port_is_one_line_before_anything_starts(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        node = Anvil(port=port, binary=_fake_binary(tmp_path, "sleep 30"))
        with pytest.raises(AnvilError) as err:
            node.start()
    assert str(err.value) == f"anvil cannot listen on 127.0.0.1:{port}: the port is busy"
    assert node.pid is None, "no process may be left behind"


@pytest.mark.subprocess
def test_anvil_exiting_during_start_up_is_one_line_with_its_last_words(tmp_path: Path) -> None:
    fake = _fake_binary(tmp_path, 'echo "starting"; echo "error: bad hardfork" >&2; exit 3')
    with pytest.raises(AnvilError) as err:
        Anvil(binary=fake, startup_timeout=10).start()
    assert str(err.value) == "anvil exited during start-up (exit code 3): error: bad hardfork"


@pytest.mark.subprocess
def test_anvil_that_never_answers_is_stopped_after_the_start_up_bound(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    fake = _fake_binary(tmp_path, f'echo $$ > "{pid_file}"; exec sleep 60')
    node = Anvil(binary=fake, startup_timeout=0.5)
    with pytest.raises(AnvilError, match=r"^anvil did not start listening within 0\.5 s$"):
        node.start()
    pid = int(pid_file.read_text())
    assert wait_gone(pid), f"the silent child {pid} was left running"


@pytest.mark.subprocess
def test_stop_escalates_to_sigkill_when_sigterm_is_ignored(tmp_path: Path) -> None:
    # A fake anvil that ignores SIGTERM but, like anvil, binds the port it is given (0: any),
    # says where it listens and serves eth_chainId, so start() succeeds.
    server = tmp_path / "server.py"
    server.write_text(
        textwrap.dedent(
            """
            import json, signal, sys
            from http.server import BaseHTTPRequestHandler, HTTPServer
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            port = int(sys.argv[sys.argv.index("--port") + 1])
            class H(BaseHTTPRequestHandler):
                def do_POST(self):
                    self.rfile.read(int(self.headers["Content-Length"]))
                    body = json.dumps({"jsonrpc": "2.0", "id": 1, "result": hex(31337)}).encode()
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                def log_message(self, *a):
                    pass
            server = HTTPServer(("127.0.0.1", port), H)
            print(f"Listening on 127.0.0.1:{server.server_port}", flush=True)
            server.serve_forever()
            """
        )
    )
    fake = _fake_binary(tmp_path, f'exec "{sys.executable}" "{server}" "$@"')
    node = Anvil(binary=fake, startup_timeout=20, stop_timeout=0.5).start()
    pid = node.pid
    assert pid is not None
    started = time.monotonic()
    node.stop()
    assert not process_alive(pid), "the SIGTERM-ignoring child survived stop()"
    assert time.monotonic() - started < 10, "stop() did not stay within its bound"


# ------------------------------------------------------------------ with the real binary


@pytest.fixture(scope="module")
def node():
    if ANVIL_BINARY is None:
        pytest.skip(SKIP_REASON)
    with Anvil() as running:
        yield running


@pytest.mark.anvil
@needs_anvil
def test_anvil_answers_json_rpc_with_chain_id_31337_on_loopback(node: Anvil) -> None:
    assert node.rpc_url.startswith("http://127.0.0.1:"), node.rpc_url
    assert int(rpc_call(node.rpc_url, "eth_chainId"), 16) == ANVIL_CHAIN_ID


@pytest.mark.anvil
@needs_anvil
def test_derived_dev_accounts_are_the_nodes_funded_accounts(node: Anvil) -> None:
    served = rpc_call(node.rpc_url, "eth_accounts")
    derived = [a.address.lower() for a in node.accounts]
    assert served == derived, f"anvil serves {served}, we derived {derived}"
    balance = int(
        rpc_call(node.rpc_url, "eth_getBalance", [node.accounts[0].address, "latest"]), 16
    )
    assert balance == 10_000 * 10**18, f"dev account 0 holds {balance} wei"


@pytest.mark.anvil
@needs_anvil
def test_mock_erc20_deploys_from_dev_key_0_through_web3_http(node: Anvil) -> None:
    from eth_account import Account
    from web3 import Web3

    w3 = Web3(Web3.HTTPProvider(node.rpc_url, request_kwargs={"timeout": 10}))
    artifact = load_artifact("MockERC20")
    key = node.accounts[0].private_key
    sender = Account.from_key(key).address
    factory = w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
    tx = factory.constructor("Mock USDC", "mUSDC", 6).build_transaction(
        {
            "from": sender,
            "nonce": w3.eth.get_transaction_count(sender),
            "gas": 3_000_000,
            "chainId": w3.eth.chain_id,
            "maxFeePerGas": w3.eth.gas_price * 2,
            "maxPriorityFeePerGas": 0,
        }
    )
    signed = Account.sign_transaction(tx, key)
    tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=20, poll_latency=0.05)
    assert receipt.status == 1, f"deployment reverted: {receipt}"
    token = w3.eth.contract(address=receipt.contractAddress, abi=artifact["abi"])
    assert token.functions.decimals().call() == 6
    assert token.functions.symbol().call() == "mUSDC"


@pytest.mark.anvil
@needs_anvil
def test_stop_ends_the_process_and_is_idempotent() -> None:
    node = Anvil().start()
    pid = node.pid
    assert pid is not None and process_alive(pid)
    node.stop()
    node.stop()
    assert not process_alive(pid), f"anvil {pid} still runs after stop()"
    assert node.pid is None and not node.running


@pytest.mark.anvil
@needs_anvil
def test_two_nodes_run_side_by_side_on_their_own_ports() -> None:
    with Anvil() as first, Anvil(port=0) as second:
        assert first.port != second.port
        assert int(rpc_call(second.rpc_url, "eth_blockNumber"), 16) == 0


@pytest.mark.anvil
@pytest.mark.subprocess
@needs_anvil
@pytest.mark.parametrize("parent_signal", [signal.SIGKILL, signal.SIGTERM])
def test_killing_the_parent_leaves_no_anvil(parent_signal: signal.Signals) -> None:
    # The parent starts anvil, prints its PID, then waits; we kill the parent (SIGKILL: no
    # atexit, no finally) and the kernel's parent-death signal must end anvil.
    script = textwrap.dedent(
        """
        import sys, time
        from harness.anvil import Anvil
        node = Anvil().start()
        print(node.pid, flush=True)
        time.sleep(120)
        """
    )
    assert_child_dies_with_killed_parent(script, parent_signal, "anvil")


@pytest.mark.anvil
@pytest.mark.subprocess
@needs_anvil
def test_a_normal_exit_without_stop_leaves_no_anvil() -> None:
    script = "from harness.anvil import Anvil; print(Anvil().start().pid, flush=True)"
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=60,
        check=True,
    )
    anvil_pid = int(done.stdout.decode().strip())
    assert wait_gone(anvil_pid), f"anvil {anvil_pid} outlived a normal interpreter exit"


def test_module_keeps_no_record_of_stopped_nodes(tmp_path: Path) -> None:
    fake = _fake_binary(tmp_path, "exit 1")
    before = dict(anvil_mod._RUNNING)
    with pytest.raises(AnvilError):
        Anvil(binary=fake, startup_timeout=5).start()
    after = dict(anvil_mod._RUNNING)
    assert after == before, f"a failed start is still tracked: {after}"


@pytest.mark.anvil
@needs_anvil
def test_anvil_binds_a_port_of_its_own_and_start_reads_it_from_its_output() -> None:
    node = Anvil(binary=ANVIL_BINARY).start()
    try:
        assert node.port and f"Listening on 127.0.0.1:{node.port}" in node.log_tail(1 << 16)
        assert int(rpc_call(node.rpc_url, "eth_chainId"), 16) == node.chain_id
    finally:
        node.stop()
