"""One exception hierarchy for the whole harness.

Every error a user can provoke with bad input is a `HarnessError` whose message names the field
(or JSON path) and the rule it broke. Nothing below raises a bare ValueError at a user.
"""

from __future__ import annotations

from dataclasses import dataclass

from .severity import Severity


class HarnessError(Exception):
    """Base of every error the harness raises on purpose."""


class InputError(HarnessError, ValueError):
    """An argument given to a builder, encoder or formula breaks a rule.

    `field` names the argument (or path) so that the message can say what was wrong where.
    """

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.reason = message
        super().__init__(f"{field}: {message}")


class SignatureError(HarnessError, ValueError):
    """A signature is malformed or cannot be recovered (length, v, high s, r/s range).

    `rule` is the catalogue rule it breaks (sig.length, sig.v, sig.range, sig.low-s,
    sig.unrecoverable), so that no caller re-runs the checks to find out which.
    """

    def __init__(self, message: str, rule: str = "sig.range") -> None:
        self.rule = rule
        super().__init__(message)


class CalldataError(HarnessError, ValueError):
    """Calldata does not decode, or does not decode canonically, for the expected function."""


class NotCanonical(HarnessError, ValueError):
    """Internal to the fast paths (`abicodec`, the wire reader's canonical path): the value is
    not in canonical form. Never escapes: the caller turns it into a finding or falls back to the
    reader that names every problem."""


class NotJson(HarnessError, ValueError):
    """Internal to `inputs.load_json`: the text is not RFC 8259 JSON (NaN, Infinity)."""


class PayloadViolation(HarnessError, AssertionError):
    """A payload collected by the pytest plugin breaks a rule; carries the validator's result."""

    def __init__(self, result: object) -> None:
        self.result = result
        super().__init__(getattr(result, "file", "payload"))


@dataclass(frozen=True, slots=True)
class Problem:
    """One defect found while reading wire JSON or a context file.

    `rule` is the catalogue rule ID it breaks (`harness.validator.catalogue`), or a
    `context.*` code for the context file; `path` is a JSON path such as
    `sendQuote.signedOperation.maxUses`; `message` says what was expected and what was found.
    The severity is the catalogue's, never the reader's.
    """

    path: str
    rule: str
    message: str

    @property
    def code(self) -> str:
        return self.rule

    @property
    def severity(self) -> Severity:
        # The catalogue is data (it imports `protocol` and `severity`, never this module):
        # loaded on first use, so that `import harness` does not pay for the rule table.
        from .validator.catalogue import severity_of

        return severity_of(self.rule)

    def __str__(self) -> str:
        where = self.path or "(body)"
        return f"{where}: {self.message}"


class WireError(HarnessError, ValueError):
    """Wire JSON did not parse strictly. Carries every problem found, not just the first."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        lines = "; ".join(str(p) for p in self.problems) or "invalid wire JSON"
        super().__init__(lines)


class ContextError(HarnessError, ValueError):
    """A context file cannot be used (unreadable, not JSON, or a field breaks its rule)."""

    def __init__(self, problems: list[Problem] | str) -> None:
        if isinstance(problems, str):
            self.problems: list[Problem] = [Problem("", "context.invalid", problems)]
        else:
            self.problems = list(problems)
        super().__init__("; ".join(str(p) for p in self.problems))
