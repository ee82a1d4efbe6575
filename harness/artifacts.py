"""The compiled mock contracts (`contracts_abi/<Name>.json`): where they are, and reading them.

An installed wheel carries them as `harness/_artifacts/` (hatch force-include); a checkout reads
`<repo>/contracts_abi/`. Neither node nor solc is needed: the artifacts are committed.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from .errors import HarnessError

#: Every deployable contract of contracts/, in deployment order: the v0.8.5 mocks, then the
#: v0.8.6 ones (contracts/v086/: each inherits its v0.8.5 mock; the GaslessLayer is v0.8.6's).
CONTRACT_NAMES = (
    "MockERC20",
    "SymmioCore",
    "AccountLayer",
    "InstantLayer",
    "MockPartyB",
    "SymmioCoreV086",
    "AccountLayerV086",
    "InstantLayerV086",
    "GaslessLayer",
)

_PACKAGED = Path(__file__).resolve().parent / "_artifacts"
_CHECKOUT = Path(__file__).resolve().parents[1] / "contracts_abi"


class ArtifactError(HarnessError):
    """An artifact is missing or unreadable."""


@cache
def artifacts_dir() -> Path:
    """The first directory that holds the artifacts: the packaged copy, else the checkout's."""
    for candidate in (_PACKAGED, _CHECKOUT):
        if (candidate / "InstantLayer.json").is_file():
            return candidate
    raise ArtifactError(
        f"no compiled contracts found (looked in {_PACKAGED} and {_CHECKOUT}); "
        "run contracts/build.sh in a checkout"
    )


@cache
def load_artifact(name: str) -> dict[str, Any]:
    """One artifact (`abi`, `bytecode`, `compiler`, ...). Cached: treat it as read-only."""
    if name not in CONTRACT_NAMES:
        raise ArtifactError(f"unknown contract {name!r} (known: {', '.join(CONTRACT_NAMES)})")
    path = artifacts_dir() / f"{name}.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ArtifactError(f"{path}: cannot read the artifact ({exc})") from None


def abi(name: str) -> list[dict[str, Any]]:
    return load_artifact(name)["abi"]


def canonical_type(param: dict[str, Any]) -> str:
    """An ABI parameter's canonical type: tuples spelled out, array suffixes kept."""
    kind = param["type"]
    if kind.startswith("tuple"):
        inner = ",".join(canonical_type(c) for c in param["components"])
        return f"({inner}){kind[len('tuple') :]}"
    return kind


def signature(entry: dict[str, Any]) -> str:
    """`name(type,...)` of an ABI function, event or error entry."""
    return f"{entry['name']}({','.join(canonical_type(i) for i in entry['inputs'])})"
