"""Chains and the Symmio system on them.

- `node`: `Chain`, one web3 chain (the embedded eth-tester + py-evm by default, or a JSON-RPC
  node) with explicit gas, decoded reverts, time travel and snapshots.
- `surface`: the real contracts' public surface as data (`surface.json`).
- `driver`: `System`, the flow driven against a `Deployment` at given addresses through that
  surface only (usable against a real deployment).
- `mocks`: `deploy_system`, our mock contracts deployed and wired, as a `MockSystem`.
"""

from __future__ import annotations

from .driver import (
    FILL_CLOSE_REQUEST,
    INSTANT_OPEN_NO_MARGIN_TEMPLATE,
    INSTANT_OPEN_TEMPLATE,
    Deployment,
    Onboarded,
    Opened,
    System,
)
from .mocks import MockSystem, default_affiliate, deploy_system
from .node import DEFAULT_GAS, DEPLOY_GAS, ETHER, Call, Chain, ChainError, Sent

__all__ = [
    "DEFAULT_GAS",
    "DEPLOY_GAS",
    "ETHER",
    "FILL_CLOSE_REQUEST",
    "INSTANT_OPEN_NO_MARGIN_TEMPLATE",
    "INSTANT_OPEN_TEMPLATE",
    "Call",
    "Chain",
    "ChainError",
    "Deployment",
    "MockSystem",
    "Onboarded",
    "Opened",
    "Sent",
    "System",
    "default_affiliate",
    "deploy_system",
]
