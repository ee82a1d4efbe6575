"""The mock services' own OpenAPI 3.1 document, generated from `published` (never by hand).

Paths carry the serve app's prefixes (`/solver`, `/coh`), as a frontend calls them. Every
published route cites the declaration it states (`x-source`) and is tagged `published`; the
mock's own routes are tagged `mock` and marked `x-mock-only`. Served at `GET /openapi.json`,
committed as `schemas/openapi.json`:

    python -m harness.services.openapi --write    # regenerate schemas/openapi.json
    python -m harness.services.openapi --check    # exit 1 if the committed file differs
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from .. import deployments, protocol
from ..deployments import PriceFeed, Profile, SolverKind
from . import binance, gasless, rasa
from .published import (
    HARNESS_HEADERS,
    INFO_HEADER,
    OMITTED_HEADER,
    SDK_COH,
    SDK_PRICES,
    SDK_SOLVER,
    TX_HASH_HEADER,
    WARNINGS_HEADER,
    schemas,
)

OPENAPI_VERSION = "3.1.0"
DOCUMENT_PATH = Path(__file__).resolve().parents[2] / "schemas" / "openapi.json"
SOLVER = "/solver/api"
COH = "/coh/api/v5"
PRICES = "/prices"
PUBLISHED, MOCK = "published", "mock"
#: the mock gasless relay's routes: what the Trading-SDK's gasless client sends and reads,
#: served on v0.8.6 deployments only (not among the published routes Schemathesis runs on v0.8.5)
GASLESS = "gasless"

_HEADER_TEXT = {
    WARNINGS_HEADER: "the accepted body's warnings: compact JSON [{rule_id, path, message}]",
    INFO_HEADER: "information about the accepted body (e.g. which close form it used), as above",
    OMITTED_HEADER: "how many warnings/information items did not fit the header budget",
    TX_HASH_HEADER: "the transaction that executed the request (0x-hex)",
}


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _ok(schema: dict[str, Any] | None, description: str, harness: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {"description": description}
    if schema is not None:
        out["content"] = _json(schema)
    if harness:
        out["headers"] = {
            name: {"$ref": f"#/components/headers/{name}"} for name in HARNESS_HEADERS
        }
    return out


def _errors(fastapi: bool) -> dict[str, Any]:
    """The refusals a route may answer: the solver's published error object; on the FastAPI
    services (the COH and the price service) the mock's, as they publish only FastAPI's 422
    `HTTPValidationError`, which the mock's error object satisfies."""
    out: dict[str, Any] = {
        "4XX": {
            "description": "refused: the error code, its message and what exactly was wrong",
            "content": _json(_ref("XfiberErrorResponse" if not fastapi else "MockErrorResponse")),
        }
    }
    if fastapi:
        out["422"] = {
            "description": "refused (FastAPI's published 422 shape; the mock's keys as 4XX)",
            "content": _json({"allOf": [_ref("HTTPValidationError"), _ref("MockErrorResponse")]}),
        }
    return out


def _op(
    op_id: str,
    summary: str,
    source: str,
    ok: dict[str, Any],
    *,
    tag: str = PUBLISHED,
    body: dict[str, Any] | None = None,
    params: list[dict[str, Any]] | None = None,
    fastapi: bool = False,
    errors: bool = True,
) -> dict[str, Any]:
    op: dict[str, Any] = {"operationId": op_id, "summary": summary, "tags": [tag]}
    op["x-source"] = source
    if tag == MOCK:
        op["x-mock-only"] = True
    if params:
        op["parameters"] = params
    if body is not None:
        op["requestBody"] = {"required": True, "content": _json(body)}
    op["responses"] = {"200": ok, **(_errors(fastapi) if errors else {})}
    return op


def _path_param(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": schema}


def _query(name: str, schema: dict[str, Any], required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "schema": schema}


def _solver_paths() -> dict[str, dict[str, Any]]:
    s = SDK_SOLVER
    temp = _path_param("tempQuoteId", {"type": "integer"})
    return {
        f"{SOLVER}/instant_trade/instant_open": {
            "post": _op(
                "postInstantTradeInstantOpen",
                "Submit V2 instant open",
                f"{s} postInstantTradeInstantOpen",
                _ok(_ref("ApiPostInstantOpenResponse"), "accepted and executed", harness=True),
                body=_ref("ApiV2InstantOpenRequest"),
            )
        },
        f"{SOLVER}/instant_trade/instant_close": {
            "post": _op(
                "postInstantTradeInstantClose",
                "Submit V2 instant close",
                f"{s} postInstantTradeInstantClose (AxiosResponse<void>)",
                _ok(None, "accepted and executed: an empty body", harness=True),
                body={
                    "anyOf": [
                        _ref("ApiV2InstantCloseRequest"),
                        {
                            "type": "array",
                            "items": _ref("Eip712OperationWithSigJSON"),
                            "minItems": 1,
                            "maxItems": protocol.MAX_CLOSE_OPERATIONS,
                            "x-source": "builder guide instant-trading-v0.8.5.md (a bare list)",
                        },
                    ]
                },
            )
        },
        f"{SOLVER}/instant_trade/eip712-config": {
            "get": _op(
                "getInstantTradeEip712Config",
                "Get V2 EIP-712 signing config",
                f"{s} getInstantTradeEip712Config",
                _ok(_ref("GetInstantTradeEip712Config200"), "domain, typehashes and types"),
            )
        },
        f"{SOLVER}/get_locked_params/{{symbol}}": {
            "get": _op(
                "getGetLockedParamsSymbol",
                "Get locked params by symbol",
                f"{s} getGetLockedParamsSymbol",
                _ok(_ref("ApiLockedParamsBySymbolIdResponse"), "locked parameters, percent"),
                params=[
                    _path_param("symbol", {"type": "string"}),
                    _query("leverage", {"type": "integer"}, required=True),
                ],
            )
        },
        f"{SOLVER}/contract-symbols": {
            "get": _op(
                "getContractSymbols",
                "Get contract symbols",
                f"{s} getContractSymbols",
                _ok(_ref("ApiContractSymbolsResponse"), "every symbol"),
            )
        },
        f"{SOLVER}/instant_quote_id/{{tempQuoteId}}": {
            "get": _op(
                "getInstantQuoteIdTempQuoteId",
                "Get quote ID by temp ID",
                f"{s} getInstantQuoteIdTempQuoteId",
                _ok(_ref("ApiGetQuoteIdResponse"), "the quote id, once there is one"),
                params=[temp],
            )
        },
        f"{SOLVER}/temp_quote_status/{{tempQuoteId}}": {
            "get": _op(
                "getTempQuoteStatusTempQuoteId",
                "Get temp quote status",
                f"{s} getTempQuoteStatusTempQuoteId",
                _ok(_ref("ApiGetTempQuoteStatusResponse"), "the open's status", harness=True),
                params=[temp],
            )
        },
        f"{SOLVER}/error_codes": {
            "get": _op(
                "getErrorCodes",
                "Get API error codes",
                f"{s} getErrorCodes",
                _ok(_ref("GetErrorCodes200"), "{code: message}"),
            )
        },
        f"{SOLVER}/error_codes/detailed": {
            "get": _op(
                "getErrorCodesDetailed",
                "Get detailed API error codes",
                f"{s} getErrorCodesDetailed",
                _ok(_ref("ClientErrorCodeInfoList"), "[{code, message, category, http_status}]"),
            )
        },
    }


def _coh_paths() -> dict[str, dict[str, Any]]:
    c = SDK_COH
    spec = _ok(_ref("SigningSpec"), "domain, types and primaryType to sign with")
    status = _ok(_ref("StatusResponse"), "done", harness=True)
    orders = _ref("GetConditionalOrdersResponseSchema")
    return {
        f"{COH}/signing-spec": {
            "get": _op(
                "v5SigningSpecApiV5SigningSpecGet",
                "V5 Signing Spec",
                f"{c} v5SigningSpecApiV5SigningSpecGet",
                spec,
                fastapi=True,
            )
        },
        f"{COH}/signing-spec-del": {
            "get": _op(
                "v5SigningSpecDelApiV5SigningSpecDelGet",
                "V5 Signing Spec Del",
                f"{c} v5SigningSpecDelApiV5SigningSpecDelGet",
                spec,
                fastapi=True,
            )
        },
        f"{COH}/": {
            "get": _op(
                "getConditionalOrdersV5ApiV5Get",
                "Get Conditional Orders V5",
                f"{c} getConditionalOrdersV5ApiV5Get",
                _ok(orders, "the rows of a quote and/or of one COH order"),
                params=[
                    _query("quote_id", {"anyOf": [{"type": "integer"}, {"type": "null"}]}),
                    _query("coh_quote_id", {"anyOf": [{"type": "string"}, {"type": "null"}]}),
                ],
                fastapi=True,
            ),
            "post": _op(
                "conditionalOrderRequestV5ApiV5Post",
                "Conditional Order Request V5",
                f"{c} conditionalOrderRequestV5ApiV5Post",
                status,
                body=_ref("ConditionalOrderOperationV5"),
                fastapi=True,
            ),
            "delete": _op(
                "deleteConditionalOrderV5ApiV5Delete",
                "Delete Conditional Order V5",
                f"{c} deleteConditionalOrderV5ApiV5Delete",
                status,
                body=_ref("ConditionalOrderOperationV5"),
                fastapi=True,
            ),
        },
        f"{COH}/search/": {
            "post": _op(
                "searchConditionalOrdersV5ApiV5SearchPost",
                "Search Conditional Orders V5",
                f"{c} searchConditionalOrdersV5ApiV5SearchPost",
                _ok(_ref("ConditionalOrderSearchResponseSchema"), "the matching rows"),
                body=_ref("ConditionalOrderSearchRequestSchemaV3"),
                fastapi=True,
            )
        },
        f"{COH}/configs/": {
            "get": _op(
                "getConfigsV4ApiV5ConfigsGet",
                "Get Configs V4",
                f"{c} getConfigsV4ApiV5ConfigsGet",
                _ok(_ref("ConfigResponseSchema"), "the COH's limits, as numbers"),
                fastapi=True,
            )
        },
    }


def _price_paths() -> dict[str, dict[str, Any]]:
    p = SDK_PRICES
    names = _path_param("names", {"type": "string", "description": "comma-separated, at most 50"})
    return {
        f"{PRICES}/api/v1/price": {
            "get": _op(
                "getPricesApiV1PriceGet",
                "Every symbol's mark price",
                f"{p} getPricesApiV1PriceGet",
                _ok(_ref("GetPricesApiV1PriceGet200"), "the marks"),
                fastapi=True,
            )
        },
        f"{PRICES}/api/v1/prices/{{names}}": {
            "get": _op(
                "getSymbolPricesBatchApiV1PricesNamesGet",
                "Mark prices by market names",
                f"{p} getSymbolPricesBatchApiV1PricesNamesGet",
                _ok(_ref("GetSymbolPricesBatchApiV1PricesNamesGet200"), "keyed by name"),
                params=[names],
                fastapi=True,
            )
        },
        f"{PRICES}/health": {
            "get": _op(
                "healthCheckHealthGet",
                "Health check",
                f"{p} healthCheckHealthGet",
                _ok(_ref("HealthCheckHealthGet200"), "healthy"),
                fastapi=True,
            )
        },
    }


def _mock_paths() -> dict[str, dict[str, Any]]:
    any_object = {"type": "object"}
    mock = "the mock (no published counterpart)"
    return {
        "/context": {
            "get": _op(
                "mockContext",
                "The deployment's context file, plus collateral, bot and test accounts",
                mock,
                _ok(any_object, "the context"),
                tag=MOCK,
                params=[_query("owner", {"type": "string"})],
            )
        },
        "/abi/{name}": {
            "get": _op(
                "mockAbi",
                "A contract's ABI",
                mock,
                _ok({"type": "array"}, "the ABI"),
                tag=MOCK,
                params=[_path_param("name", {"type": "string"})],
            )
        },
        "/mock/onboard": {
            "post": _op(
                "mockOnboard",
                "Steps 1-5 for a fresh user, delegating to a session key and the TP/SL bot",
                mock,
                _ok(any_object, "the onboarded accounts"),
                tag=MOCK,
                body=_obj_required("session_key"),
            )
        },
        "/mock/faults": {
            "get": _op(
                "mockFaultsList", "The armed faults", mock, _ok(any_object, "armed"), tag=MOCK
            ),
            "post": _op(
                "mockFaultsArm",
                "Arm a fault on a route",
                mock,
                _ok(any_object, "armed"),
                tag=MOCK,
                body=any_object,
            ),
            "delete": _op(
                "mockFaultsClear", "Clear every fault", mock, _ok(any_object, "armed"), tag=MOCK
            ),
        },
        "/mock/operation_usage/{digest}": {
            "get": _op(
                "mockOperationUsage",
                "The InstantLayer's operationUsageCount of a digest",
                mock,
                _ok(any_object, "{digest, usage_count}"),
                tag=MOCK,
                params=[_path_param("digest", {"type": "string"})],
            )
        },
        "/coh/mock/price": {
            "post": _op(
                "mockPrice",
                "Move a symbol's mark; the orders it triggers are closed on chain",
                mock,
                _ok(any_object, "{symbol_id, price, triggered: [row + tx_hash, ...]}"),
                tag=MOCK,
                body=_obj_required("symbol_id", "price"),
            )
        },
        "/openapi.json": {
            "get": _op(
                "mockOpenapi",
                "This document",
                mock,
                _ok(any_object, "the OpenAPI document"),
                tag=MOCK,
                errors=False,
            )
        },
    }


def _rasa_paths() -> dict[str, dict[str, Any]]:
    """The Rasa kind's routes (`harness.services.rasa`), each citing its source."""
    r = rasa.SDK_RASA
    err = {
        "4XX": {
            "description": "refused: Rasa's error body (and the mock's keys)",
            "content": _json(_ref("RasaErrorResponse")),
        }
    }

    def op(op_id: str, summary: str, ok: dict[str, Any], **kw: Any) -> dict[str, Any]:
        out = _op(op_id, summary, f"{r} {op_id}", ok, errors=False, **kw)
        out["responses"] |= err
        return out

    symbol = _path_param("symbol_name", {"type": "string"})
    return {
        f"{SOLVER}{rasa.OPEN_PATH}": {
            "post": op(
                "instantRequestForQuoteWithSignatureInstantTradeOpenPost",
                "Submit an instant open (Rasa)",
                _ok(_ref("InstantRFQResponse"), "accepted and executed", harness=True),
                body=_ref("InstantOpenRequest"),
            )
        },
        f"{SOLVER}{rasa.CLOSE_PATH}": {
            "post": op(
                "instantRequestToCloseWithSignatureInstantTradeClosePost",
                "Submit instant closes (Rasa): a bare list of operations",
                _ok(_ref("StatusResponse"), "accepted and executed", harness=True),
                body=_ref("InstantCloseRequest"),
            )
        },
        f"{SOLVER}/contract-symbols": {
            "get": op(
                "getContractSymbolsContractSymbolsGet",
                "The symbols (Rasa's row shape)",
                _ok(_ref("SymbolsContractResponseSchema"), "the symbols"),
            )
        },
        f"{SOLVER}/get_locked_params/{{symbol_name}}": {
            "get": op(
                "getLockedParams",
                "Locked params (the path and answer shared with Enigma)",
                _ok({"type": "object"}, "cva, lf, partyAmm, partyBmm, leverage"),
                params=[symbol, _query("leverage", {"type": "string"}, required=True)],
            )
        },
        f"{SOLVER}/error_codes": {
            "get": op(
                "getErrorCodesErrorCodesGet", "Every error code", _ok(_ref("ErrorCodeMap"), "map")
            )
        },
        f"{SOLVER}/error_codes/{{code}}": {
            "get": op(
                "getErrorMessageErrorCodesErrorCodeGet",
                "One error code",
                _ok(_ref("ErrorCodeMap"), "a one-entry map"),
                params=[_path_param("code", {"type": "integer"})],
            )
        },
    }


def _gasless_paths() -> dict[str, dict[str, Any]]:
    """The mock gasless relay (harness.services.gasless): served on v0.8.6 deployments only."""
    base = f"{gasless.PREFIX}{gasless.OPERATIONS}"
    errors = {
        "4XX": {
            "description": "refused, in the gasless service's envelope",
            "content": _json(_ref("GaslessErrorResponse")),
        }
    }
    relay = _op(
        "gaslessRelayInstant",
        "Relay owner-signed grant operations through the GaslessLayer",
        f"{gasless.SDK_GASLESS}/relay-instant-operations/relay-instant-operations.ts "
        "(relayInstantOperations)",
        {},
        tag=GASLESS,
        body=_ref("SignedOperationRequest"),
        errors=False,
    )
    relay["responses"] = {
        "202": {
            "description": "accepted (the chain work is done: a terminal status)",
            "content": _json(_ref("OperationAcceptedResponse")),
        },
        **errors,
    }
    record = _op(
        "gaslessRequest",
        "A relay request's record",
        f"{gasless.SDK_GASLESS}/get-gasless-request/get-gasless-request.ts (getGaslessRequest)",
        {"description": "the record", "content": _json(_ref("OperationStatusResponse"))},
        tag=GASLESS,
        params=[_path_param("request_id", {"type": "string"})],
        errors=False,
    )
    record["responses"] |= errors
    return {
        f"{base}{gasless.RELAY_INSTANT_PATH}": {"post": relay},
        f"{base}/{{request_id}}": {"get": record},
    }


def _binance_paths() -> dict[str, dict[str, Any]]:
    """The Binance-style feed's REST route (`harness.services.binance`)."""
    b = binance.SDK_BINANCE_TYPES
    row = _ref("RawBinancePremiumIndexRow")
    op = _op(
        "premiumIndex",
        "Mark prices, Binance USD-M style (all symbols; ?symbol= one object)",
        f"{b} RawBinancePremiumIndexRow",
        _ok({"anyOf": [{"type": "array", "items": row}, row]}, "the marks"),
        params=[_query("symbol", {"type": "string"})],
        errors=False,
    )
    op["responses"]["400"] = _ok(_ref("BinanceError"), "Binance's error (-1121: unknown symbol)")
    return {f"{PRICES}{binance.PREMIUM_INDEX_PATH}": {"get": op}}


def _obj_required(*keys: str) -> dict[str, Any]:
    return {"type": "object", "required": list(keys)}


def document(profile: Profile = deployments.LOCAL) -> dict[str, Any]:
    """The whole OpenAPI 3.1 document of the services a `profile` runs (default: local, the
    committed `schemas/openapi.json`): its solver kind's routes, the COH's only where it has one,
    its price feed's, and the gasless relay's where it has a GaslessLayer."""
    components = schemas()
    rasa_kind = profile.solver is SolverKind.RASA
    binance_feed = profile.prices is PriceFeed.BINANCE
    if rasa_kind:
        components |= rasa.SCHEMAS
    if binance_feed:
        components |= binance.SCHEMAS
    if profile.gasless:  # the mock gasless relay: on a deployment with a GaslessLayer only
        components |= gasless.schemas()
    paths = _rasa_paths() if rasa_kind else _solver_paths()
    if profile.coh is not None:
        paths |= _coh_paths()
    paths |= _binance_paths() if binance_feed else _price_paths()
    paths |= {
        path: item
        for path, item in _mock_paths().items()
        if profile.coh is not None or not path.startswith("/coh/")
    }
    if profile.gasless:
        paths |= _gasless_paths()
    components["MockErrorResponse"] = {
        **components["XfiberErrorResponse"],
        "x-source": "the mock: the solver's published error object, reused by its COH",
    }
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "symmio-harness mock services",
            "version": protocol.VERSION,
            "description": (
                "The mock solver (/solver), conditional-order handler (/coh) and price "
                "service (/prices) of symmio-harness. Published routes state what the real "
                f"services publish (the OpenAPI documents behind {SDK_SOLVER}, {SDK_COH} and "
                f"{SDK_PRICES}), each citing its "
                "declaration in x-source; routes tagged mock are the harness's own. Harness "
                "information never enters a published body: it is in the X-Symmio-Harness-* "
                "headers."
            ),
        },
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "servers": [{"url": "/", "description": "the serve app (its banner prints the URL)"}],
        "tags": [
            {"name": PUBLISHED, "description": "states a published route of the real services"},
            {"name": MOCK, "description": "the mock's own routes (no published counterpart)"},
            {
                "name": GASLESS,
                "description": "the mock gasless relay (v0.8.6 deployments only): what the "
                "Trading-SDK's relayInstantOperations and getGaslessRequest send and read",
            },
        ],
        "paths": paths,
        "components": {
            "schemas": components,
            "headers": {
                name: {"description": text, "schema": {"type": "string"}}
                for name, text in _HEADER_TEXT.items()
            },
        },
    }


def render(doc: dict[str, Any] | None = None) -> str:
    return json.dumps(doc if doc is not None else document(), indent=2) + "\n"


def published_operations(doc: dict[str, Any] | None = None) -> list[tuple[str, str]]:
    """(method, path) of every published route in the document."""
    doc = doc if doc is not None else document()
    return [
        (method.upper(), path)
        for path, item in doc["paths"].items()
        for method, op in item.items()
        if PUBLISHED in op["tags"]
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true", help=f"write {DOCUMENT_PATH.name}")
    mode.add_argument("--check", action="store_true", help="exit 1 if the committed file differs")
    args = parser.parse_args(argv)
    fresh = render()
    if args.write:
        DOCUMENT_PATH.write_text(fresh, encoding="utf-8")
        print(f"wrote {DOCUMENT_PATH}")
        return 0
    committed = DOCUMENT_PATH.read_text(encoding="utf-8") if DOCUMENT_PATH.exists() else ""
    if committed != fresh:
        print(f"{DOCUMENT_PATH} differs from a fresh generation: run --write", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
