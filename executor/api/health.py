"""``GET /v1/health``: liveness plus the figures proxies route on (spec 3.9)."""
from __future__ import annotations

from flask import current_app, jsonify, request

from executor.api import blueprint
from executor.auth import bearer_matches


@blueprint.get("/v1/health")
def health():
    executor = current_app.extensions["executor"]
    config = executor.services.config
    # Details only for a caller that proves the secret; anyone may ask whether we are up.
    authorization = request.headers.get("authorization")
    if authorization is None or not bearer_matches(authorization, config.secret):
        if authorization is not None and config.secret:
            from executor.errors import ExecutorError

            raise ExecutorError("general_unauthorized")
        return jsonify({"status": "pass"})
    sampler = executor.usage
    runtimes = {
        runtime.runtime_id: {
            "status": "pass",
            "usage": sampler.runtimes.get(runtime.runtime_id),
            "inflight": runtime.inflight,
        }
        for runtime in executor.services.registry.all()
    }
    return jsonify({"status": "pass", "usage": sampler.host, "runtimes": runtimes,
                    "adapter": executor.services.adapter.name, "version": config.version,
                    "pools": executor.services.pools.status()})
