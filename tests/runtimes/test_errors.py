"""Checklist 9.3, Errors: user exceptions and entrypoints that do not load."""
from .client import call


def test_unknown_action_names_the_entrypoint(target, server):
    reply = call(server.port, "nonExistingAction")
    assert reply.status == 500, reply.describe()
    assert reply.body == b""
    assert reply.header("x-open-runtimes-logs") == ""
    assert "Unknown action" in reply.errors
    assert target.entrypoint in reply.errors  # the trace names the entrypoint file


def test_missing_entrypoint_file(harness, runtime_mode, spawn):
    missing = runtime_mode.missing_entrypoint
    build = harness.build(runtime_mode, entrypoint=missing)
    assert build.returncode == 0, build.describe()
    runtime = spawn(runtime_mode, build, env={"OPEN_RUNTIMES_ENTRYPOINT": missing})
    for _ in range(2):  # a failed load is not fatal: the runtime keeps serving
        reply = call(runtime.port, "plaintextResponse")
        assert reply.status == 500, reply.describe()
        assert "Could not load code file." in reply.errors
