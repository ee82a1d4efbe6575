"""examples/typescript/v086check.mjs: ethers v6 and viem agree with harness on v0.8.6 operations.

The vector holds the v0.8.6 corpus's operations (fixtures/generate.py: the capped opens in the
three upnlSig regimes and one with fee-limit salts, grant operations single and batch), each with
its EIP-712 digest (harness.eip712), the function its callData calls, its SolverFeeCaps or
delegations. The script derives the selectors from signatures it spells itself, computes the
digests and recovers the signers with ethers, and round-trips the callData through ethers' ABI
coder. viem is not among the example's dependencies, so ethers is the one independent encoder
here (the v0.8.5 cross-check, tests/test_typescript_example.py, is ethers-only too).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from harness import calldata as cd
from harness import eip712, wire
from harness.upnl_sig import UpnlSigRegime

from .node_needed import EXAMPLE, NODE, needs_node
from .validator.corpus import generate as g

pytestmark = [pytest.mark.subprocess, needs_node]


def _case(name: str, wrapped, **extra) -> dict:
    domain = eip712.instant_layer_domain(g.V086.chain_id, g.V086.instant_layer)
    op = wrapped.signed_operation
    return {
        "name": name,
        "function": cd.functions_of(g.V086.generation)[op.call_data[:4]].name,
        "body": wire.wrapped_operation_to_wire(wrapped),
        "digest": "0x" + eip712.digest(domain, op).hex(),
        **extra,
    }


def _grants(wrapped) -> list[list]:
    call = wrapped.signed_operation.call_data
    if call[:4] == cd.GRANT_DELEGATIONS.selector:
        infos = cd.GRANT_DELEGATIONS.decode(call)["infos"]
    else:
        infos = (cd.GRANT_DELEGATION.decode(call)["info"],)
    return [[a[0], d, ["0x" + s.hex() for s in sels], e] for a, d, sels, e in infos]


def _open_case(name: str, body) -> dict:
    caps = cd.SEND_QUOTE.decode(body.send_quote.signed_operation.call_data)["solverFeeCaps"]
    return _case(name, body.send_quote, solver_fee_caps=[str(c) for c in caps])


def _vector() -> dict:
    cases = [
        _open_case(f"capped open {regime.name}", g.open_body(regime, g.V086))
        for regime in UpnlSigRegime
    ]
    salts = (g.fee_limit_salt(10**16, b"addmargn"), g.fee_limit_salt(2 * 10**16, b"sendquot"))
    cases.append(
        _open_case("capped open, fee-limit salts", g.open_body(context=g.V086, salts=salts))
    )
    batch = g.grant_op(
        (
            g.session_key_info(),
            g.DelegationInfo(g.Account(g.SUB_ACCOUNT), g.COH_WALLET, cd.TPSL_BOT_SELECTORS, g.FAR),
        )
    )
    for name, wrapped in (
        ("grant operation", g.grant_op()),
        ("grant operation, batch", batch),
        ("grant operation, fee-limit salt", g.grant_op(salt_bytes=g.fee_limit_salt(10**16))),
        ("grant operation, deadline 0", g.grant_op(deadline=0)),
    ):
        cases.append(_case(name, wrapped, grants=_grants(wrapped)))
    return {"chain_id": g.V086.chain_id, "instant_layer": g.V086.instant_layer, "cases": cases}


def _check(tmp_path: Path, vector: dict) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "v086.json"
    path.write_text(json.dumps(vector, indent=2))
    return subprocess.run(
        [NODE, str(EXAMPLE / "v086check.mjs"), str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_ethers_and_viem_compute_the_same_v086_digests_signers_and_calldata(
    tmp_path: Path,
) -> None:
    done = _check(tmp_path, _vector())
    assert done.returncode == 0, f"v086check failed:\n{done.stderr}{done.stdout}"
    assert "8 operations" in done.stdout and "ethers and viem" in done.stdout, done.stdout


def test_a_digest_that_differs_is_named_by_both_libraries(tmp_path: Path) -> None:
    vector = _vector()
    first = vector["cases"][0]
    first["digest"] = "0x" + "00" * 32
    done = _check(tmp_path, vector)
    assert done.returncode == 1, done.stdout
    assert f"{first['name']}: digest 0x" in done.stderr, done.stderr
    assert f"{first['name']}: viem digest 0x" in done.stderr, done.stderr
