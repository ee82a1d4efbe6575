"""Mock Symmio services for frontends under test: the solver, the TP/SL handler (COH), the
notifications websocket, a sync client for them, and `serve` (a loopback uvicorn server).

Modules: `backend` (the embedded chain and shared state), `solver`, `coh`, `notifications`,
`errors` (error codes), `plumbing` (request reading, refusals), `server` (the combined app and
`serve`), `client` (`SolverClient`, `CohClient`).
"""

from __future__ import annotations

from .backend import Backend, SymbolMarket, embedded_backend
from .client import CohClient, OpenAccepted, ServiceError, SolverClient
from .server import Services, serve

__all__ = [
    "Backend",
    "CohClient",
    "OpenAccepted",
    "ServiceError",
    "Services",
    "SolverClient",
    "SymbolMarket",
    "embedded_backend",
    "serve",
]
