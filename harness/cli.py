"""The `symmio-harness` command line. Thin: each command calls a module that does the work."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from .errors import HarnessError

app = typer.Typer(
    name="symmio-harness",
    help="Conformance and integration harness for Symmio v0.8.5 Instant Trading.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False)


@app.callback()
def _root() -> None:
    """Conformance and integration harness for Symmio v0.8.5 Instant Trading."""


@app.command()
def demo(
    record: Annotated[
        Path | None,
        typer.Option(
            "--record",
            metavar="DIR",
            help="Also write DIR/context.json and every HTTP body as DIR/NN-<kind>.json.",
        ),
    ] = None,
) -> None:
    """Run the whole flow on the built-in example context and print each step."""
    from .demo import run_offchain_demo

    try:
        run_offchain_demo(console.print, record_dir=record)
    except HarnessError as exc:
        err_console.print(f"demo failed: {exc}")
        raise typer.Exit(1) from None
    except OSError as exc:
        err_console.print(f"demo failed: cannot write the record directory: {exc}")
        raise typer.Exit(2) from None


def main() -> None:
    app()
