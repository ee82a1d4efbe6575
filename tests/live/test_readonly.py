"""Stage 1 (read-only) of the live smoke run against deployments we start: our system on the
embedded chain with the mock services in-process, drifted profiles and services, a bare anvil."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from dataclasses import replace

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient
from web3 import Web3

from harness.anvil import Anvil
from harness.live.config import Profile
from harness.live.readonly import FAIL, PASS, SKIP, ReadOnlyRun, Unreachable
from harness.services import Services, embedded_backend

from ..anvil_needed import needs_anvil

BASE = "http://testserver"


@pytest.fixture(scope="module")
def deployment() -> Iterator[tuple[Services, TestClient, Profile]]:
    services = Services(embedded_backend())
    system = services.backend.system
    profile = Profile(
        name="embedded",
        rpc_url="http://unused.invalid",
        chain_id=system.chain.chain_id,
        instant_layer=system.instant_layer.address,
        account_layer=system.account_layer.address,
        symmio_core=system.core.address,
        collateral=system.collateral.address,
        solver_base=f"{BASE}/solver",
        tpsl_base=f"{BASE}/coh",
    )
    with TestClient(services.app, base_url=BASE) as http:
        yield services, http, profile


def run(served, /, **changes) -> dict[str, tuple[str, str]]:
    services, http, profile = served
    checks = ReadOnlyRun(
        replace(profile, **changes), w3=services.backend.system.chain.w3, http=http
    ).run()
    return {c.id: (c.status, c.detail) for c in checks}


@pytest.mark.evm
def test_every_read_only_check_passes_against_our_deployment(deployment) -> None:
    results = run(deployment)
    failed = {k: v for k, v in results.items() if v[0] != PASS}
    assert failed == {}
    assert len(results) == 21  # chain id, 4 codes, separator, 6 typehashes, 3 digests, cooldown,
    # generation, 3 solver checks, the COH spec
    assert results["il.generation"][1].startswith("v0.8.5")


@pytest.mark.evm
def test_a_profile_expecting_v086_names_the_contracts_version_mismatch(deployment) -> None:
    status, detail = run(deployment, deployment="arbitrum")["il.generation"]
    assert status == FAIL, detail
    assert "contracts-version mismatch: the profile expects v0.8.6 (arbitrum)" in detail, detail


@pytest.mark.evm
def test_a_wrong_chain_id_is_drift_naming_both_values(deployment) -> None:
    results = run(deployment, chain_id=999)
    status, detail = results["chain.id"]
    assert status == FAIL and "ours 999" in detail, detail


@pytest.mark.evm
def test_a_retired_instant_layer_is_named(deployment) -> None:
    il = deployment[2].instant_layer
    status, detail = run(deployment, retired_instant_layers=(il,))["il.generation"]
    assert status == FAIL and "retired InstantLayer" in detail


@pytest.mark.evm
def test_a_coh_domain_drift_names_the_field(deployment) -> None:
    other = "0x" + "12" * 20
    # the COH serves the InstantLayer as verifyingContract; a profile on another one drifts
    results = run(deployment, instant_layer=Web3.to_checksum_address(other))
    status, detail = results["coh.signing_spec"]
    assert status == FAIL and "domain.verifyingContract" in detail, detail
    assert results["code.instant_layer"][0] == FAIL


@pytest.mark.evm
def test_a_drift_shows_both_values_as_json_not_python_reprs(deployment) -> None:
    other = Web3.to_checksum_address("0x" + "12" * 20)
    detail = run(deployment, instant_layer=other)["coh.signing_spec"][1]
    served = deployment[2].instant_layer
    assert detail == (f'drift at domain.verifyingContract: ours "{other}", served "{served}"'), (
        detail
    )


@pytest.mark.evm
def test_the_locked_params_show_values_not_python_reprs(deployment) -> None:
    status, detail = run(deployment)["solver.locked_params"]
    number = r"[0-9]+(\.[0-9]*[1-9])?"  # positional, no trailing zeros, never Decimal('2')
    shape = rf"\S+ x1: cva {number} %, lf {number} %, partyAmm {number} %, partyBmm {number} %, "
    assert status == PASS and re.fullmatch(shape + "leverage 1", detail), detail


@pytest.mark.evm
def test_services_not_configured_are_skipped_with_the_variable(deployment) -> None:
    results = run(deployment, solver_base=None, tpsl_base=None)
    assert results["solver.eip712_config"] == (SKIP, "SYMMIO_SOLVER_BASE is not set")
    assert results["coh.signing_spec"] == (SKIP, "SYMMIO_TPSL_BASE is not set")


def test_an_unreachable_rpc_is_one_line() -> None:
    profile = Profile("x", rpc_url="http://127.0.0.1:9", chain_id=1)
    with pytest.raises(Unreachable) as caught:
        ReadOnlyRun(profile, timeout=1).run()
    assert str(caught.value) == (
        "SYMMIO_RPC_URL http://127.0.0.1:9: no JSON-RPC answer (ConnectionError)"
    )


@pytest.mark.anvil
@needs_anvil
def test_a_bare_anvil_fails_every_contract_check_with_a_reason() -> None:
    nobody = "0x" + "ab" * 20
    with Anvil() as node:
        profile = Profile(
            "bare",
            rpc_url=node.rpc_url,
            chain_id=node.chain_id,
            instant_layer=Web3.to_checksum_address(nobody),
            account_layer=Web3.to_checksum_address(nobody),
            symmio_core=Web3.to_checksum_address(nobody),
        )
        checks = ReadOnlyRun(profile).run()
    by_id = {c.id: c for c in checks}
    assert by_id["chain.id"].status == PASS
    contract_checks = [c for c in checks if c.id.startswith(("code.", "il."))]
    assert contract_checks and all(c.status == FAIL for c in contract_checks)
    assert all("no code at" in c.detail for c in contract_checks), contract_checks
