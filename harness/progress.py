"""A progress counter for long runs, on a terminal only.

`validate` writes its text report to stdout while the results stream by; on a terminal's stderr
this draws `validate: 1,234 inputs checked` in place (a carriage return, no new line), at most
`INTERVAL` seconds apart and only once a run has lasted `DELAY` seconds, and erases it before
anything else is written. Off a terminal (a pipe, a file, CI) it writes nothing at all, and the
machine-readable formats never ask for it.
"""

from __future__ import annotations

import time
from typing import TextIO

#: seconds a run lasts before the counter first appears (a quick run shows nothing)
DELAY = 0.2
#: seconds between two redraws
INTERVAL = 0.1
#: ANSI: carriage return, then erase to the end of the line
_ERASE = "\r\x1b[K"


def is_terminal(stream: TextIO) -> bool:
    """True when `stream` is an interactive terminal (a StringIO or a pipe is not)."""
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


class Progress:
    """Counts results; draws the count on `err` when enabled (see the module docstring).

    Call `clear()` before writing to `out` and `update(n)` after; `out` is flushed before each
    draw so that the report's lines and the counter never interleave mid-line."""

    def __init__(self, err: TextIO, out: TextIO, *, label: str, enabled: bool) -> None:
        self.err = err
        self.out = out
        self.label = label
        self.enabled = enabled
        self.shown = False
        self._start = time.monotonic()
        self._last = float("-inf")

    @classmethod
    def for_report(cls, err: TextIO, out: TextIO, fmt: str, label: str) -> Progress:
        """Enabled for the text report with stderr on a terminal; never for a machine format."""
        return cls(err, out, label=label, enabled=fmt == "text" and is_terminal(err))

    def update(self, count: int) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._start < DELAY or now - self._last < INTERVAL:
            return
        self._last = now
        self.out.flush()
        noun = "input" if count == 1 else "inputs"
        self.err.write(f"{_ERASE}{self.label}: {count:,} {noun} checked")
        self.err.flush()
        self.shown = True

    def clear(self) -> None:
        if self.shown:
            self.err.write(_ERASE)
            self.err.flush()
            self.shown = False
