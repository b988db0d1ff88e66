"""Strict mode: the local orchestrator behaving as a real QPI v0.1.2 installation.

``qpi serve --strict`` and ``LocalServer(strict=True)`` reproduce, on purpose, what the real
server (sopherapps/qpi v0.1.2, PocketBase plus the Python driver) does on every route this SDK
and the original client use, bugs included, so tests can prove the SDK works there. The
pieces:

* `qpi.server.strict.routes`: the job routes' results bug, save failures as 500s,
  id-only QPU routes, QPUs with 0 qubits;
* `qpi.server.strict.middleware`: API tokens ignored on PocketBase routes, bodies
  bound by content type;
* `qpi.server.strict.scheduler`: targeted-only dispatch, the 20 s recovery loop,
  late results applied, unsavable results;
* `qpi.server.strict.driver`: the real driver's loading, failures and 2^n count keys.

The friendly default mode is unchanged; `docs/local-orchestrator.md` lists every difference.
"""

from __future__ import annotations

import dataclasses

from fastapi import FastAPI

from qpi.server.config import ServerConfig
from qpi.server.strict.limits import BODY_MAX_BYTES

__all__ = ["install", "strict_config"]


def strict_config(config: ServerConfig) -> ServerConfig:
    """``config`` with the real server's defaults: 32 MiB bodies, 0-qubit QPUs, no default QPU.

    The built-in QPUs are created as the real project's seed creates its QPU: without
    ``num_qubits``, so their records say 0. Results are let through the workers up to the
    body limit: the strict scheduler applies the real 1 MiB rule itself (the job stays
    ``running`` rather than failing). The ``?wait=`` extension is not offered.
    """
    qpus = tuple(dataclasses.replace(qpu, num_qubits=0) for qpu in config.qpus)
    return dataclasses.replace(
        config,
        max_body_bytes=BODY_MAX_BYTES,
        max_result_bytes=BODY_MAX_BYTES,
        qpus=qpus,
        default_qpu=None,
        offer_wait=False,
    )


def install(app: FastAPI) -> None:
    """Register the strict routes (ahead of the friendly ones) and the strict middleware.

    Call it before the friendly routers are included and before the outer guard middleware is
    added, so the strict routes win and the guard still caps bodies first.
    """
    from qpi.server.strict import middleware, routes

    app.include_router(routes.router)
    app.add_middleware(middleware.StrictMiddleware)
