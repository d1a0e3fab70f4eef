"""Runtime views: create/build, list, get, delete, build-log stream, commands."""
from __future__ import annotations

import time

from flask import Response, current_app, jsonify, request, stream_with_context

from executor import builds
from executor.adapters.base import CommandTimeout
from executor.api import blueprint, params
from executor.api.codec import checked_id, create_request
from executor.errors import ExecutorError
from executor.validation import (Field, boolean, integer, number, parse, runtime_id, string,
                                 string_map)

CREATE_FIELDS = [
    Field("runtimeId", runtime_id, required=True),
    Field("image", string, required=True, min_len=1, max_len=128),
    Field("entrypoint", string, default="", max_len=256),
    Field("source", string, default="", max_len=4096),
    Field("destination", string, default="", max_len=4096),
    Field("variables", string_map, default=dict),
    Field("runtimeEntrypoint", string, default="", max_len=1024),
    Field("command", string, default="", max_len=1024),
    Field("timeout", integer, default=600, minimum=1),
    Field("remove", boolean, default=False),
    Field("cpus", number, default=1.0, minimum=0.001),
    Field("memory", integer, default=512, minimum=1),
    Field("version", string, default="v3", max_len=16),
    Field("keepWarm", boolean, default=False),
    Field("idleTimeout", integer, default=None, minimum=0),
]
COMMAND_FIELDS = [
    Field("command", string, required=True, min_len=1, max_len=1024),
    Field("timeout", integer, default=600, minimum=1),
]
LOGS_FIELDS = [Field("timeout", integer, default=600, minimum=1)]
APPEAR_SECONDS = 5.0


def services():
    return current_app.extensions["executor"].services


def known_runtime(value: str):
    runtime = services().registry.get(checked_id(value))
    if runtime is None:
        raise ExecutorError("runtime_not_found")
    return runtime


@blueprint.post("/v1/runtimes")
def create_runtime():
    values = parse(params.read(request), CREATE_FIELDS)
    created = builds.create(services(), create_request(values))
    return jsonify(created.body()), 201


@blueprint.get("/v1/runtimes")
def list_runtimes():
    return jsonify([runtime.row() for runtime in services().registry.all()])


@blueprint.get("/v1/runtimes/<runtime_id>")
def get_runtime(runtime_id):
    return jsonify(known_runtime(runtime_id).row())


@blueprint.delete("/v1/runtimes/<runtime_id>")
def delete_runtime(runtime_id):
    services().remove(known_runtime(runtime_id))
    return Response(status=200)


@blueprint.get("/v1/runtimes/<runtime_id>/logs")
def stream_logs(runtime_id):
    values = parse(params.read(request), LOGS_FIELDS)
    checked_id(runtime_id)
    registry = services().registry
    deadline = time.monotonic() + APPEAR_SECONDS
    runtime = registry.get(runtime_id)
    while runtime is None and time.monotonic() < deadline:
        time.sleep(0.05)  # the create call may not have arrived yet
        runtime = registry.get(runtime_id)
    if runtime is None:
        raise ExecutorError("runtime_not_found")
    end = time.monotonic() + values["timeout"]

    def chunks():
        output = runtime.output
        # A runtime without a build (yet) may still get one: wait for it to be settled.
        while output is None:
            if runtime.settled.is_set() or runtime.removed.is_set() or time.monotonic() >= end:
                return
            time.sleep(0.05)
            output = runtime.output
        position = 0
        while time.monotonic() < end:
            data, done = output.read(position, min(1.0, max(0.0, end - time.monotonic())))
            if data:
                position += len(data)
                yield data
            if done or runtime.removed.is_set():
                return

    return Response(stream_with_context(chunks()), status=200, mimetype="text/event-stream",
                    headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@blueprint.post("/v1/runtimes/<runtime_id>/commands")
def run_command(runtime_id):
    values = parse(params.read(request), COMMAND_FIELDS)
    runtime = known_runtime(runtime_id)
    instance = runtime.instance
    if instance is None:
        raise ExecutorError("runtime_not_found")
    output = bytearray()
    try:
        code = services().adapter.run(instance, values["command"], values["timeout"], output.extend,
                                      shell="sh")
    except CommandTimeout:
        raise ExecutorError("command_timeout") from None
    if code != 0:
        raise ExecutorError("command_failed")
    return jsonify({"output": output.decode("utf-8", "replace")})
