"""Mock Symmio services for frontends under test: the solver, the TP/SL handler (COH), the
price service (REST and mark-price websocket), the notifications websocket, a sync client for
them, and `serve` (a loopback uvicorn server).

Modules: `backend` (the embedded chain and shared state, the marks), `solver`, `coh`, `prices`
(the price service), `price_client` (reading marks exactly), `notifications`, `errors` (error
codes), `published` (the published 2xx shapes, the harness headers), `openapi` (the mock's
OpenAPI 3.1 document), `plumbing` (strict bounded request reading, refusals), `faults` (fault
injection), `server` (the combined app and `serve`), `at_most_once` (the clients' protocol,
sans-IO: retries and reconciliation by identity), `client` (its sync and async shells:
`SolverClient`, `CohClient` and async twins), `notify_client` (the notifications websocket
client), `mocks` (respx routers), `launch` (`serve` in a child process), `loadgen` (bounded
mixed load).
"""

from __future__ import annotations

from .at_most_once import (
    AmbiguousSubmission,
    CloseAccepted,
    OpenAccepted,
    Reconciled,
    Retry,
    ServiceError,
)
from .backend import Backend, SymbolMarket, embedded_backend
from .client import (
    AsyncCohClient,
    AsyncSolverClient,
    CohClient,
    SolverClient,
    served_usage_count,
)
from .notify_client import (
    NotificationFailed,
    Notifications,
    NotificationTimeout,
    SyncNotifications,
)
from .server import Services, serve

__all__ = [
    "AmbiguousSubmission",
    "AsyncCohClient",
    "AsyncSolverClient",
    "Backend",
    "CloseAccepted",
    "CohClient",
    "NotificationFailed",
    "NotificationTimeout",
    "Notifications",
    "OpenAccepted",
    "Reconciled",
    "Retry",
    "ServiceError",
    "Services",
    "SolverClient",
    "SymbolMarket",
    "SyncNotifications",
    "embedded_backend",
    "serve",
    "served_usage_count",
]
