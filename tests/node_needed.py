"""Whether the tests that run the TypeScript example under node can run here.

`NO_NODE` is the reason they cannot ('' when they can), `needs_node` the skip marker, `NODE` the
node binary and `EXAMPLE` the example's folder. `.ci/run` sets SYMMIO_REQUIRE_NODE=1, so on CI a
missing node or `node_modules` fails at import instead of skipping.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "typescript"
NODE = shutil.which("node")
NO_NODE = (
    "node is not on PATH"
    if NODE is None
    else "examples/typescript/node_modules is missing: run `npm ci --prefix examples/typescript`"
    if not (EXAMPLE / "node_modules" / "ethers").is_dir()
    else ""
)
if NO_NODE and os.environ.get("SYMMIO_REQUIRE_NODE"):
    raise RuntimeError(NO_NODE)

needs_node = pytest.mark.skipif(bool(NO_NODE), reason=NO_NODE)
