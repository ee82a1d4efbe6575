"""Property: for random values, the Python EIP-712 digests equal the contract's (spec §3)."""

from __future__ import annotations

import pytest
from hypothesis import given

from harness import eip712
from harness.chain import System
from harness.model import FlexFillAuth, SignedDelegation, SignedOperation
from tests.strategies import flex_fill_auths, signed_delegations, signed_operations

pytestmark = pytest.mark.evm


@given(op=signed_operations)
def test_python_digest_equals_get_operation_hash(
    read_only_system: System, op: SignedOperation
) -> None:
    system = read_only_system
    assert system.operation_hash(op) == eip712.digest(system.domain, op)


@given(value=signed_delegations)
def test_python_digest_equals_get_delegation_hash(
    read_only_system: System, value: SignedDelegation
) -> None:
    system = read_only_system
    assert system.delegation_hash(value) == eip712.digest(system.domain, value)


@given(auth=flex_fill_auths)
def test_python_digest_equals_get_flex_fill_auth_hash(
    read_only_system: System, auth: FlexFillAuth
) -> None:
    system = read_only_system
    on_chain = system.flex_fill_auth_hash(auth.op_hash, auth.field_index, auth.value)
    assert on_chain == eip712.digest(system.domain, auth)
