"""examples/typescript/flow.mjs on v0.8.6: an independent ethers client, configured only from
GET /context, runs steps 1-8 against `serve --chain anvil --deployment arbitrum` with the
grants as ONE owner-signed grant operation relayed through the mock gasless relay (as the
Trading-SDK's relayInstantOperations posts it, polled to its terminal status) and the capped
sendQuote (0x0ac30baf) carrying SolverFeeCaps; every body it sent passes `symmio-harness validate`
with no warning (issue 17 "Done when"; real-world.md §2)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness import calldata as cd
from harness.protocol import V0_8_6

from .anvil_needed import needs_anvil
from .node_needed import EXAMPLE, NODE, needs_node
from .test_typescript_example import _serve_chain_anvil, unclean, validate_recorded

pytestmark = [
    pytest.mark.subprocess,
    needs_node,
    needs_anvil,
    pytest.mark.anvil,
    pytest.mark.server,
    pytest.mark.slow,
]

#: what flow.mjs records on v0.8.6, in the order it sends them
RECORDED = (
    "01-grant_operation.json",
    "02-instant_open.json",
    "03-instant_close.json",
    "04-tpsl.json",
)


@pytest.fixture(scope="module")
def v086_run(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[subprocess.CompletedProcess[str], Path]]:
    record = tmp_path_factory.mktemp("flow_v086") / "capture"
    serve_dir = tmp_path_factory.mktemp("serve_v086")
    with _serve_chain_anvil(serve_dir, "--deployment", "arbitrum") as (base, _rpc):
        done = subprocess.run(
            [NODE, str(EXAMPLE / "flow.mjs"), base, "--record", str(record)],
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        yield done, record


def test_flow_runs_steps_1_to_8_on_v086_with_grants_as_a_relayed_operation(
    v086_run: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    done, _ = v086_run
    assert done.returncode == 0, f"flow.mjs failed:\n{done.stdout}{done.stderr}"
    assert "steps 1-8 done (v0.8.6, grants as a relayed operation)" in done.stdout, done.stdout
    assert "grantDelegations relayed gaslessly" in done.stdout, done.stdout


def test_flow_v086_records_the_grant_operation_and_the_capped_open(
    v086_run: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    done, record = v086_run
    assert done.returncode == 0, f"flow.mjs failed:\n{done.stdout}{done.stderr}"
    recorded = sorted(p.name for p in record.glob("[0-9][0-9]-*.json"))
    assert recorded == list(RECORDED), f"recorded bodies: {recorded}"
    grant = json.loads((record / RECORDED[0]).read_text())["signedOperation"]
    context = json.loads((record / "context.json").read_text())
    assert grant["callData"][:10] == "0x" + cd.GRANT_DELEGATIONS.selector.hex(), grant["callData"]
    assert grant["target"] == context["instant_layer"], "a grant operation targets the InstantLayer"
    assert grant["signer"] == context["owner"], "the owner signs the grant operation"
    infos = cd.GRANT_DELEGATIONS.decode(bytes.fromhex(grant["callData"][2:]))["infos"]
    session_selectors = cd.session_key_selectors(V0_8_6)
    assert [tuple(info[2]) for info in infos] == [
        tuple(session_selectors),
        tuple(cd.TPSL_BOT_SELECTORS),
    ], "the v0.8.6 session-key set, then the TP/SL bot's"
    opened = json.loads((record / RECORDED[1]).read_text())["sendQuote"]["signedOperation"]
    capped = "0x" + cd.SEND_QUOTE.selector.hex()  # 0x0ac30baf, real-world.md §2.1
    assert opened["callData"][:10] == capped, f"not the capped sendQuote: {opened['callData'][:10]}"


def test_every_body_flow_v086_sent_passes_validate_with_no_warning(
    v086_run: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    done, record = v086_run
    assert done.returncode == 0, f"flow.mjs failed:\n{done.stdout}{done.stderr}"
    runs = (
        ("grant_operation", [RECORDED[0]]),
        ("auto", list(RECORDED[1:])),
    )
    not_clean: dict[str, object] = {}
    for kind, names in runs:
        not_clean |= unclean(validate_recorded(record, names, kind))
    assert not not_clean, f"bodies not passing cleanly: {not_clean}"
