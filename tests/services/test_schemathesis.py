"""Schemathesis over the published routes of a started `serve` (embedded chain).

The mock's own OpenAPI document (`GET /openapi.json`, read from the running server) drives the
generation; only the routes tagged `published` are exercised, each with bounded examples.
Checks: no 5xx, every response (2xx and refusals) conforms to the schema the document states,
and its status code is documented. (Schemathesis's own pytest collection is not used: its lazy
fixture items do not run under this pytest; each route's strategy is driven here instead.)
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from harness.services.launch import ServeProcess
from harness.services.openapi import document, published_operations

pytestmark = [pytest.mark.server, pytest.mark.subprocess, pytest.mark.slow]

#: examples per route (19 published routes): the whole run stays well under a minute
MAX_EXAMPLES = 12
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance]
ROUTES = published_operations(document())


@pytest.fixture(scope="module")
def served() -> Iterator[ServeProcess]:
    with ServeProcess() as process:
        yield process


@pytest.fixture(scope="module")
def published_api(served: ServeProcess) -> schemathesis.schemas.BaseSchema:
    return schemathesis.openapi.from_url(f"{served.base}/openapi.json").include(tag="published")


def test_the_served_document_lists_every_published_route(published_api) -> None:
    served = {(op.ok().method.upper(), op.ok().path) for op in published_api.get_all_operations()}
    assert served == set(ROUTES), served ^ set(ROUTES)


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
def test_published_route_conforms_and_never_answers_5xx(
    published_api, served: ServeProcess, method: str, path: str
) -> None:
    operation = published_api[path][method]

    @given(case=operation.as_strategy())
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def run(case: schemathesis.Case) -> None:
        case.call_and_validate(base_url=served.base, checks=CHECKS, timeout=30)

    run()
