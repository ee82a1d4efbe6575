"""The real contracts' surface (harness/chain/surface.json) and our mocks against it."""

from __future__ import annotations

import pytest

from harness import artifacts
from harness.chain import surface
from harness.primitives import keccak

#: Values the facts file quotes (contracts-and-services.md section 2), checked against the data.
FACT_SELECTORS = {
    "InstantLayer": {
        "executeBatch": "06bcc336",
        "executeTemplate": "adc33a88",
        "grantDelegation": "fd7f4c5e",
        "getOperationHash": "6194d5f4",
        "initiateRevokeDelegation": "feae205f",
        "finalizeRevokeDelegation": "7f41bb6a",
        "isDelegationActive": "9d1daab3",
    },
    "AccountLayer": {"createSubAccounts": "817ed7f6", "_call": "bd367d8e"},
    # real-world.md §2.1, §2.5
    "InstantLayerV086": {"grantDelegations": "9cfb6914", "grantDelegation": "fd7f4c5e"},
    "SymmioCoreV086": {"sendQuote": "0ac30baf"},
}

#: The v0.8.6 errors real-world.md §2 quotes, by the surface that raises them.
FACT_ERRORS_V086 = {
    "InstantLayerV086": {
        "InvalidGrantOperation()": "f7b39f62",
        "InvalidDelegation()": "a9e649e9",
        "DelegationExpired(uint256)": "12b6b89c",
        "SelfDelegation()": "52e0d047",
    },
    "AccountLayerV086": {"AccountOutOfScope(address,address)": "4705304f"},
    "GaslessLayer": {"FeeLimitExceeded(uint256,uint256)": "c61c3974"},
}


@pytest.mark.parametrize("contract", surface.contracts())
def test_every_recorded_selector_is_the_keccak_of_its_signature(contract: str) -> None:
    s = surface.surface(contract)
    for sig, fn in s.functions.items():
        assert fn.selector == keccak(sig.encode())[:4], f"{contract}.{sig}"
    for sig, event in s.events.items():
        assert event.topic0 == keccak(sig.encode()), f"event {sig}"
    for sig, selector in s.errors.items():
        assert selector == keccak(sig.encode())[:4], f"error {sig}"


@pytest.mark.parametrize("contract", sorted(FACT_SELECTORS))
def test_selectors_quoted_by_the_facts_are_in_the_surface(contract: str) -> None:
    by_name = {
        sig.split("(")[0]: fn.selector.hex()
        for sig, fn in surface.surface(contract).functions.items()
    }
    for name, selector in FACT_SELECTORS[contract].items():
        assert by_name.get(name) == selector, name


@pytest.mark.parametrize("contract", sorted(FACT_ERRORS_V086))
def test_v086_errors_quoted_by_the_facts_are_in_the_surface(contract: str) -> None:
    errors = {sig: sel.hex() for sig, sel in surface.surface(contract).errors.items()}
    for sig, selector in FACT_ERRORS_V086[contract].items():
        assert errors.get(sig) == selector, sig


def test_a_v086_surface_inherits_its_v085_one() -> None:
    v085, v086 = surface.surface("InstantLayer"), surface.surface("InstantLayerV086")
    assert set(v085.functions) < set(v086.functions), "every v0.8.5 function, and more"
    assert set(v085.errors) < set(v086.errors), "every v0.8.5 error, and more"


def test_a_missing_error_of_an_incomplete_surface_is_named() -> None:
    compiled = [e for e in artifacts.abi("GaslessLayer") if e.get("name") != "FeeLimitExceeded"]
    assert surface.differences("GaslessLayer", compiled) == [
        "missing error FeeLimitExceeded(uint256,uint256)"
    ]


def test_struct_names_expand_to_canonical_tuples() -> None:
    assert surface.expand("grantDelegation(DelegationInfo)") == (
        "grantDelegation(((address,bool),address,bytes4[],uint256))"
    )
    assert surface.expand("(Template[])") == "((string,(uint256[],uint256[],uint256[])[],bool)[])"


@pytest.mark.parametrize("contract", surface.contracts())
def test_our_mock_implements_exactly_the_real_surface(contract: str) -> None:
    """Complete surfaces (the InstantLayer) match both ways; the others' listed functions exist
    with the real return types. Mock-only helpers: none on the InstantLayer."""
    compiled = artifacts.abi(surface.ARTIFACT_OF[contract])
    assert surface.differences(contract, compiled) == []


def test_a_difference_is_named() -> None:
    compiled = [e for e in artifacts.abi("InstantLayer") if e.get("name") != "nextTemplateId"]
    compiled.append(
        {
            "type": "function",
            "name": "templateCount",
            "inputs": [],
            "outputs": [{"type": "uint256"}],
            "stateMutability": "view",
        }
    )
    assert surface.differences("InstantLayer", compiled) == [
        "missing function nextTemplateId()",
        "extra function templateCount()",
    ]


def test_the_driver_abi_holds_only_the_surface() -> None:
    for contract in surface.contracts():
        names = {artifacts.signature(e) for e in surface.abi(contract) if e["type"] == "function"}
        assert names == set(surface.surface(contract).functions), contract
