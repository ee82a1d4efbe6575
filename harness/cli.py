"""The `symmio-harness` command line. Thin: each command calls a module that does the work."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from .errors import HarnessError
from .protocol import BODY_KINDS, BY_VERSION, VERSION

#: `-h` as well as `--help` on the app and every command and sub-command.
CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"]}
#: Plain (click) help: paragraphs re-flow as wholes, every value shows its metavar, and a flag
#: shows none (rich help shows a type column such as `<bool>` even where a metavar is set).
HELP_MODE = None

app = typer.Typer(
    name="symmio-harness",
    help=f"Conformance and integration harness for Symmio v{VERSION} Instant Trading.\n\n"
    "Run a command with -h for its options.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings=CONTEXT_SETTINGS,
    rich_markup_mode=HELP_MODE,
)
console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)  # one line per error


def version_line() -> str:
    """The installed package's version and the protocol version it pins, on one line."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        package = version("symmio-harness")
    except PackageNotFoundError:  # run from a source tree that was never installed
        package = "unknown"
    return f"symmio-harness {package} (Symmio v{VERSION} Instant Trading)"


def _print_version(value: bool) -> None:
    if value:
        print(version_line())
        raise typer.Exit(0)


def _choices(enum: type[StrEnum]) -> str:
    """An enum's values as the metavar `[a|b|c]`, so the help lists what the option accepts."""
    return "[" + "|".join(member.value for member in enum) + "]"


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            help="Print the package version and the Symmio version it pins, then exit.",
        ),
    ] = False,
) -> None:
    """The options before a command (the help text is the app's)."""


class DemoDeployment(StrEnum):
    local = "local"
    base = "base"
    arbitrum = "arbitrum"


@app.command(context_settings=CONTEXT_SETTINGS, short_help="Run the whole lifecycle once.")
def demo(
    record: Annotated[
        Path | None,
        typer.Option(
            "--record",
            metavar="DIR",
            help="Also write DIR/context.json and every HTTP body as DIR/NN-<kind>.json.",
        ),
    ] = None,
    deployment: Annotated[
        DemoDeployment,
        typer.Option(
            metavar=_choices(DemoDeployment),
            help="Which deployment to reproduce locally (the deployments command lists them).",
        ),
    ] = DemoDeployment.local,
) -> None:
    """Run the whole lifecycle on an embedded chain and print each step."""
    from . import deployments
    from .demo import run_demo

    try:
        run_demo(console.print, record_dir=record, profile=deployments.profile(deployment.value))
    except HarnessError as exc:
        err_console.print(f"demo failed: {exc}")
        raise typer.Exit(1) from None
    except OSError as exc:
        reason = (exc.strerror or type(exc).__name__).lower()  # never `[Errno N] ...: 'path'`
        err_console.print(f"demo failed: cannot write the record directory {record}: {reason}")
        raise typer.Exit(2) from None


class ServeChain(StrEnum):
    embedded = "embedded"
    anvil = "anvil"


class ServeDeployment(StrEnum):
    """The deployment profiles `serve` runs locally (harness.deployments)."""

    local = "local"
    base = "base"
    arbitrum = "arbitrum"


@app.command(
    context_settings=CONTEXT_SETTINGS,
    short_help="Serve the mock services on a chain for a frontend.",
)
def serve(
    host: Annotated[
        str,
        typer.Option(metavar="HOST", help="Address to listen on (loopback only by default)."),
    ] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(metavar="PORT", help="Port to listen on; 0 picks a free one (printed).")
    ] = 0,
    allow_non_loopback: Annotated[
        bool,
        typer.Option(
            "--allow-non-loopback", help="Listen on a non-loopback address (test keys inside)."
        ),
    ] = False,
    chain: Annotated[
        ServeChain,
        typer.Option(
            metavar=_choices(ServeChain),
            help="The chain: embedded (eth-tester + py-evm, in a child process of serve's own) "
            "or anvil (a local JSON-RPC node).",
        ),
    ] = ServeChain.embedded,
    deployment: Annotated[
        ServeDeployment,
        typer.Option(
            metavar=_choices(ServeDeployment),
            help="The deployment profile: local (the default), base (Rasa, no COH) or arbitrum.",
        ),
    ] = ServeDeployment.local,
    cors_origin: Annotated[
        list[str] | None,
        typer.Option(
            "--cors-origin",
            metavar="ORIGIN",
            help="Allow this browser origin (repeatable; * for any; default: the loopback "
            "origins).",
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No log line per request.")] = False,
    price_tick: Annotated[
        float,
        typer.Option(
            "--price-tick",
            min=0.01,
            metavar="SECONDS",
            help="The price websocket's steady snapshot interval (besides one per mark move).",
        ),
    ] = 1.0,
) -> None:
    """Serve the mock solver, TP/SL handler, price service and notifications on a chain.

    It prints the base URLs, the context and (with --chain anvil) the JSON-RPC URL and funded
    test accounts for any frontend to point at.

    Ctrl-C or SIGTERM stops it (and its anvil)."""
    from .deployments import profile
    from .services.server import serve as run_server

    def out(line: str) -> None:
        print(line, flush=True)

    try:
        run_server(
            host,
            port,
            allow_non_loopback=allow_non_loopback,
            out=out,
            chain=chain.value,
            cors_origins=cors_origin or None,
            quiet=quiet,
            price_tick_seconds=price_tick,
            profile=profile(deployment.value),
        )
    except HarnessError as exc:
        err_console.print(f"serve failed: {exc}")
        raise typer.Exit(2) from None
    except OSError as exc:
        err_console.print(f"serve failed: cannot listen on {host}:{port}: {exc.strerror or exc}")
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        pass


#: The body kinds come from `protocol.BODY_KINDS` (spelled once), plus auto.
BodyKind = StrEnum("BodyKind", {"auto": "auto", **{kind: kind for kind in BODY_KINDS}})  # type: ignore[misc]


#: The contracts versions `validate` can judge as (`protocol.BY_VERSION`, spelled once).
ContractsVersion = StrEnum("ContractsVersion", {v: v for v in BY_VERSION})  # type: ignore[misc]


class ReportFormat(StrEnum):
    text = "text"
    json = "json"
    junit = "junit"
    jsonl = "jsonl"
    sarif = "sarif"
    ctrf = "ctrf"


class InputFormat(StrEnum):
    auto = "auto"
    json = "json"
    jsonl = "jsonl"


class RulesFormat(StrEnum):
    text = "text"
    json = "json"
    markdown = "markdown"


@app.command(context_settings=CONTEXT_SETTINGS, short_help="Check frontend payloads rule by rule.")
def validate(
    paths: Annotated[
        list[str],
        # Described in the docstring: typer's argument list would show a `<list[str]>` type.
        typer.Argument(metavar="PATH", show_default=False, hidden=True),
    ],
    kind: Annotated[
        BodyKind,
        typer.Option(
            metavar=_choices(BodyKind),
            help="Body type; auto infers it from the shape (a HAR entry from its URL).",
        ),
    ] = BodyKind.auto,
    context: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE", help="Context file, which enables the rules that need its keys."
        ),
    ] = None,
    now: Annotated[
        int | None,
        typer.Option(
            metavar="UNIX",
            help="Judge deadlines at this unix time (default: the context's recorded_at, "
            "else now).",
        ),
    ] = None,
    contracts_version: Annotated[
        ContractsVersion | None,
        typer.Option(
            metavar=_choices(ContractsVersion),
            help="Judge the bodies as this protocol version; wins over the context's "
            "contracts_version (default: the context's, else 0.8.5).",
        ),
    ] = None,
    fmt: Annotated[
        ReportFormat,
        typer.Option("--format", metavar=_choices(ReportFormat), help="Report format."),
    ] = ReportFormat.text,
    jobs: Annotated[int, typer.Option(metavar="N", help="Worker processes for large inputs.")] = 1,
    input_format: Annotated[
        InputFormat,
        typer.Option(
            "--input",
            metavar=_choices(InputFormat),
            help="How to read each PATH: auto by suffix (.jsonl = one body per line) and shape, "
            "json as one body, jsonl as JSON Lines (- for stdin included).",
        ),
    ] = InputFormat.auto,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict",
            help="Exit 2 when a rule could not be checked (no context, or a key it needs).",
        ),
    ] = False,
    deployment: Annotated[
        str | None,
        typer.Option(
            metavar="NAME",
            help="Judge against this real deployment (the deployments command lists them): "
            "its registry addresses are the context unless one is given.",
        ),
    ] = None,
) -> None:
    """Check frontend payloads rule by rule.

    Each PATH is a JSON body file, a JSON Lines file (.jsonl), a directory of them, a HAR
    capture, or - for stdin.

    Exit status: 0 when all conform (warnings allowed), 1 on a violation, 2 when an input or
    the context cannot be used."""
    from .report import validate_command

    code = validate_command(
        paths,
        kind=kind.value,
        context_file=str(context) if context is not None else None,
        now=now,
        contracts_version=contracts_version.value if contracts_version is not None else None,
        fmt=fmt.value,
        jobs=jobs,
        out=sys.stdout,
        err=sys.stderr,
        input_format=input_format.value,
        strict=strict,
        deployment=deployment,
    )
    raise typer.Exit(code)


@app.command(context_settings=CONTEXT_SETTINGS, short_help="Print the rule catalogue.")
def rules(
    fmt: Annotated[
        RulesFormat,
        typer.Option("--format", metavar=_choices(RulesFormat), help="Output format."),
    ] = RulesFormat.text,
) -> None:
    """Print the validator's rule catalogue (IDs, severity, the spec sentence each enforces)."""
    from .report import rules_command

    sys.stdout.write(rules_command(fmt.value))


class DeploymentsFormat(StrEnum):
    text = "text"
    json = "json"


@app.command(context_settings=CONTEXT_SETTINGS, short_help="List the deployment profiles.")
def deployments(
    fmt: Annotated[
        DeploymentsFormat,
        typer.Option("--format", metavar=_choices(DeploymentsFormat), help="Output format."),
    ] = DeploymentsFormat.text,
) -> None:
    """List the deployment profiles: the real deployments (each address with its status and
    source, retired layers with what replaced them) and the local default."""
    import json

    from . import deployments as registry

    profiles = list(registry.REGISTRY.values())
    if fmt is DeploymentsFormat.json:
        sys.stdout.write(json.dumps([registry.to_json(p) for p in profiles], indent=2) + "\n")
    else:
        sys.stdout.write("\n\n".join(registry.describe(p) for p in profiles) + "\n")


live_app = typer.Typer(
    help="Live smoke runs against a real deployment (configured by a profile).",
    no_args_is_help=True,
    context_settings=CONTEXT_SETTINGS,
    rich_markup_mode=HELP_MODE,
)
app.add_typer(live_app, name="live", short_help="Smoke runs against a real deployment.")


class LiveFormat(StrEnum):
    text = "text"
    json = "json"


@live_app.command(
    "check", context_settings=CONTEXT_SETTINGS, short_help="Read-only checks of a deployment."
)
def live_check(
    profile: Annotated[
        str | None, typer.Option(metavar="NAME", help="Profile of the config file.")
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(metavar="FILE", help="Config file (default ./symmio-harness.toml)."),
    ] = None,
    fmt: Annotated[
        LiveFormat,
        typer.Option("--format", metavar=_choices(LiveFormat), help="Report format."),
    ] = LiveFormat.text,
) -> None:
    """Stage 1, read-only: compare the chain, contracts, EIP-712 and the services'
    configuration with ours.

    Exit status: 0 when all pass, 1 when a check failed, 2 on bad settings or an unreachable
    endpoint."""
    from .live.command import check_command

    raise typer.Exit(check_command(profile, config, fmt.value, sys.stdout, sys.stderr))


def main() -> None:
    app(prog_name="symmio-harness")
