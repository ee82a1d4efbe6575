"""What a finding weighs: the one vocabulary of severities, below every module that names one.

`errors` (a wire problem's severity) and `validator.catalogue` (each rule's severity) both
import it; it imports nothing of the harness, so neither depends on the other for it.
"""

from __future__ import annotations

from typing import Literal

#: "info": a conforming form the validator names without judging it (a published form the
#: builder guide writes otherwise, real-world.md §0: "the validator names which one it saw as
#: information")
Severity = Literal["error", "warning", "info"]

ERROR: Severity = "error"
WARNING: Severity = "warning"
INFO: Severity = "info"
