"""The deployment registry: every real address with a status and a source, retired layers named
with what replaced them, and the `deployments` command printing the same."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from harness import deployments as d
from harness.cli import app
from harness.primitives import eip55
from harness.protocol import V0_8_5, V0_8_6


def test_the_trading_deployments_are_arbitrum_v086_and_base_v085() -> None:
    trading = {p.name: p for p in d.REGISTRY.values() if p.status is d.Status.TRADING}
    assert set(trading) == {"arbitrum", "base"}
    assert (trading["arbitrum"].generation, trading["arbitrum"].solver) == (
        V0_8_6,
        d.SolverKind.ENIGMA,
    )
    assert (trading["base"].generation, trading["base"].solver, trading["base"].coh) == (
        V0_8_5,
        d.SolverKind.RASA,
        None,
    )


@pytest.mark.parametrize("name", [n for n, p in d.REGISTRY.items() if p.chain_id is not None])
def test_every_real_address_is_checksummed_with_a_status_and_a_source(name: str) -> None:
    p = d.REGISTRY[name]
    roles = [a.role for a in p.addresses]
    assert len(roles) == len(set(roles)), f"{name}: a role listed twice: {roles}"
    for a in (*p.addresses, *p.retired):
        assert a.address == eip55(a.address) and a.source, a


def test_a_retired_layer_names_the_current_layer_that_replaced_it() -> None:
    for p in d.REGISTRY.values():
        for a in p.retired:
            assert a.replaced_by == p.instant_layer, f"{p.name}: {a}"
            found = d.owner_of_layer(a.address.lower())
            assert found is not None and found[0] is p and found[1].status is not d.Status.TRADING


def test_no_address_belongs_to_two_deployments() -> None:
    seen: dict[str, str] = {}
    for p in d.REGISTRY.values():
        for a in (*p.addresses, *p.retired):
            other = seen.setdefault(a.address, p.name)
            assert other == p.name, f"{a.address} is in {other} and {p.name}"


def test_the_coh_wallet_names_its_deployment() -> None:
    assert d.owner_of_coh_wallet(d.ARBITRUM.coh.wallet.lower()) is d.ARBITRUM  # type: ignore[union-attr]
    assert d.owner_of_coh_wallet(d.BASE.instant_layer) is None  # type: ignore[arg-type]


def test_an_unknown_profile_is_refused_listing_the_known_ones() -> None:
    with pytest.raises(ValueError, match="unknown deployment 'optimism' .*arbitrum, base"):
        d.profile("optimism")


def test_the_deployments_command_prints_the_registry_as_json_and_text() -> None:
    runner = CliRunner()
    got = runner.invoke(app, ["deployments", "--format", "json"])
    assert got.exit_code == 0, got.output
    data = json.loads(got.output)
    assert [p["name"] for p in data] == list(d.REGISTRY)
    assert data[0] == d.to_json(d.REGISTRY[data[0]["name"]])
    text = runner.invoke(app, ["deployments"])
    assert text.exit_code == 0
    for p in d.REGISTRY.values():
        for a in (*p.addresses, *p.retired):
            assert a.address in text.output
    assert "retired (replaced by 0xCB8F789d6f7e59B3D266490e1Aa8e35cFb755132)" in text.output
