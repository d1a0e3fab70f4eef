"""Execution views: ``/v1/runtimes/<id>/executions`` and the legacy ``/v1/execution``.

JSON execution requests are normally answered by :mod:`executor.fastpath` before they reach
Flask; these views serve the other forms (multipart, url-encoded, query) and the legacy route.
"""
from __future__ import annotations

from flask import Response, current_app, request

from executor import executions
from executor.api import blueprint, codec, params
from executor.executions import ExecutionRequest


def services():
    return current_app.extensions["executor"].services


@blueprint.post("/v1/runtimes/<runtime_id>/executions")
@blueprint.post("/v1/runtimes/<runtime_id>/execution")
def create_execution(runtime_id):
    identifier = codec.checked_id(runtime_id)
    return _respond(codec.execution_request(identifier, params.read(request)))


@blueprint.post("/v1/execution")
def legacy_execution():
    return _respond(codec.legacy_request(params.read(request)))


def _respond(execution: ExecutionRequest) -> Response:
    result = executions.execute(services(), execution)
    content_type, payload = codec.encode_result(result, request.headers.get("accept", ""))
    return Response(payload, status=200, content_type=content_type)
