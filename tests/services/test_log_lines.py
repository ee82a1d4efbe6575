"""serve's request log (issue 19): one line per request, always, with no raw control character
from any client-controlled field; the injected fault that fired is named on its line."""

from __future__ import annotations

import unicodedata
import warnings
from collections.abc import Iterator

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from harness.services import Services, embedded_backend

from .conftest import BASE

HOSTILE = ["%0a", "%0d", "%1b[31m", "%00", "%7f", "%E2%80%A8", "%0d%0aGET%20/forged%20200"]


@pytest.fixture(scope="module")
def logged() -> Iterator[tuple[TestClient, list[str]]]:
    lines: list[str] = []
    services = Services(embedded_backend(), access_log=lines.append)
    with TestClient(services.app, base_url=BASE) as http:
        yield http, lines


def raw_controls(line: str) -> list[str]:
    return [hex(ord(c)) for c in line if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp", "Cs")]


@pytest.mark.parametrize("hostile", HOSTILE)
def test_no_log_line_holds_a_raw_control_character(logged, hostile):
    http, lines = logged
    lines.clear()
    for path in (f"/solver/x{hostile}y", f"/context?owner={hostile}", f"/no{hostile}?q={hostile}"):
        http.get(path)
    assert len(lines) == 3, f"expected one line per request, got {lines!r}"
    for line in lines:
        assert not raw_controls(line), f"raw control characters {raw_controls(line)} in {line!r}"
        assert "\n" not in line and "\r" not in line, f"a request wrote two lines: {line!r}"


def test_the_fault_that_fired_is_named_on_its_line(logged):
    http, lines = logged
    armed = {"route": "price", "fault": "error_after_execute", "count": 1}
    assert http.post("/mock/faults", json=armed).status_code == 200
    lines.clear()
    http.post("/coh/mock/price", json={"symbol_id": 1, "price": "65000.5"})
    assert len(lines) == 1 and "fault: error_after_execute" in lines[0], lines


def test_delete_mock_faults_resets_the_history_too(logged):
    http, _ = logged
    http.post("/mock/faults", json={"route": "price", "fault": "rate_limited", "count": 2})
    http.post("/coh/mock/price", json={"symbol_id": 1, "price": "65000.5"})
    state = http.delete("/mock/faults").json()
    assert state == {"armed": {}, "fired": [], "requests": {}}, f"history kept: {state}"
