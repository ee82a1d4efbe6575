"""pytest plugin (entry point `symmio`): a frontend's payloads as tests of its own repository.

    pytest --symmio-payloads DIR [--symmio-context FILE] [--symmio-now UNIX] [--symmio-kind KIND]

Every body under DIR (files, directories, HAR captures, as `symmio-harness validate` reads
them) becomes one test item: it fails with one line per violated rule (rule ID, JSON path, what
was expected), passes with warnings shown in pytest's warnings summary, and is skipped, with the
reason, only when there is nothing to check (an empty directory, a capture without any of the
three POSTs). Each fired rule is recorded as a user property ("violation"/"warning" -> rule ID),
so `--junitxml` carries the rule IDs. The `symmio_validator` fixture gives tests a configured
`harness.validator.engine.Validator`.

Thin over `harness.validator`; nothing is imported from it until the options are used.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from .errors import PayloadViolation
from .protocol import BODY_KINDS, VERSION

if TYPE_CHECKING:
    from .inputs import Source
    from .validator.engine import Options, Validator

KINDS = ("auto", *BODY_KINDS)

#: The packaged fixtures (symmio_chain, symmio_user, symmio_services, mock_solver, ...).
pytest_plugins = ["harness.pytest_fixtures"]


class SymmioPayloadWarning(UserWarning):
    """A payload conforms but breaks a warning rule (e.g. SDK-style JSON numbers)."""


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("symmio", f"Symmio v{VERSION} payload validation (symmio-harness)")
    group.addoption(
        "--symmio-payloads",
        action="append",
        default=[],
        metavar="DIR",
        help="validate every JSON body / HAR capture under DIR as one test each (repeatable)",
    )
    group.addoption(
        "--symmio-context",
        default=None,
        metavar="FILE",
        help="context file (chain, contracts, accounts, session key, symbols) for the payloads",
    )
    group.addoption(
        "--symmio-now",
        type=int,
        default=None,
        metavar="UNIX",
        help="judge deadlines at this unix time (default: the wall clock)",
    )
    group.addoption(
        "--symmio-kind", default="auto", choices=KINDS, help="body type of every payload"
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "symmio_payload: a frontend payload checked by the symmio-harness validator"
    )


def _options(config: pytest.Config) -> Options:
    cached = getattr(config, "_symmio_options", None)
    if cached is not None:
        return cached
    from .context import describe_error, load_context
    from .errors import ContextError
    from .validator.engine import Options

    context_file = config.getoption("symmio_context")
    context = None
    if context_file is not None:
        try:
            context = load_context(context_file)
        except ContextError as exc:
            raise pytest.UsageError(
                f"--symmio-context {context_file}: {describe_error(exc)}"
            ) from None
    options = Options(config.getoption("symmio_kind"), context, config.getoption("symmio_now"))
    config._symmio_options = options  # type: ignore[attr-defined]
    return options


def pytest_report_header(config: pytest.Config) -> str | None:
    if not config.getoption("symmio_payloads"):
        return None
    from .validator.results import Report

    options = _options(config)
    not_run = Report([], options, 0).rules_not_run()
    context = config.getoption("symmio_context") or "none"
    return f"symmio: context {context}; {len(not_run)} context-gated rule(s) not run"


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    dirs = config.getoption("symmio_payloads")
    if not dirs:
        return
    from .inputs import iter_sources

    _options(config)  # a bad context file stops the run here, as a usage error
    for source in iter_sources(dirs):
        file = Path(source.name.split("#", 1)[0])
        where = {"path": file.resolve()} if file.is_file() else {}
        items.append(SymmioPayload.from_parent(session, name=source.name, source=source, **where))


class SymmioPayload(pytest.Item):
    """One HTTP body validated against the rule catalogue."""

    def __init__(self, *, source: Source, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.source = source
        self.add_marker("symmio_payload")

    def runtest(self) -> None:
        if self.source.problem is not None and self.source.problem[0] == "input.empty":
            pytest.skip(f"nothing to validate: {self.source.problem[1]}")
        validator = _validator(self.config)
        result = validator.validate_source(self.source)
        for finding in result.findings:
            kind = {"error": "violation", "warning": "warning"}.get(finding.severity, "information")
            self.user_properties.append((kind, finding.rule))
        for finding in result.warnings:
            warnings.warn(
                SymmioPayloadWarning(
                    f"{result.file}: {finding.rule} {finding.path or '(body)'}: {finding.message}"
                ),
                stacklevel=1,
            )
        if result.violations:
            raise PayloadViolation(result)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, PayloadViolation):
            from .report import result_lines

            result = excinfo.value.result
            head = (
                f"{result.file} cannot be used"
                if not result.usable
                else f"{result.file} [{result.kind}] breaks {len(result.violations)} rule(s)"
            )
            return "\n".join([head, *result_lines(result)])
        return super().repr_failure(excinfo, style=style)  # type: ignore[arg-type]

    def reportinfo(self) -> tuple[Any, int | None, str]:
        return self.path, None, f"symmio payload {self.name}"


def _validator(config: pytest.Config) -> Validator:
    cached = getattr(config, "_symmio_validator", None)
    if cached is None:
        from .validator.engine import Validator

        cached = Validator(_options(config))
        config._symmio_validator = cached  # type: ignore[attr-defined]
    return cached


@pytest.fixture
def symmio_validator(pytestconfig: pytest.Config) -> Validator:
    """A Validator configured by --symmio-context / --symmio-now / --symmio-kind."""
    return _validator(pytestconfig)
