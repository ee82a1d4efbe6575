"""Whether the tests that need a real anvil node can run here.

`NO_ANVIL` is the reason they cannot ('' when they can), `needs_anvil` the skip marker. `.ci/run`
sets SYMMIO_REQUIRE_ANVIL=1, so on CI a missing anvil fails at import instead of skipping.
"""

from __future__ import annotations

import os

import pytest

from harness.anvil import AnvilError, find_anvil

try:
    find_anvil()
    NO_ANVIL = ""
except AnvilError as exc:
    if os.environ.get("SYMMIO_REQUIRE_ANVIL"):
        raise
    NO_ANVIL = str(exc)

needs_anvil = pytest.mark.skipif(bool(NO_ANVIL), reason=NO_ANVIL)
