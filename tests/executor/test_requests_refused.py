"""End-to-end: authentication, validation errors and path traversal, refused with clear errors."""
from __future__ import annotations

import os

import pytest

from tests.executor.support import NODE_IMAGE, new_id

CREATE = "/v1/runtimes"


@pytest.mark.parametrize("authorization", [None, "Bearer wrong", "executor-test-secret",
                                            "Basic executor-test-secret", "Bearer "])
def test_unauthorized(executor, authorization):
    headers = {} if authorization is None else {"authorization": authorization}
    response = executor.get("/v1/runtimes", auth=False, headers=headers)
    assert response.status_code == 401
    assert response.headers["cache-control"] == "no-cache, no-store, must-revalidate"
    body = response.json()
    assert body["type"] == "general_unauthorized" and body["message"] == "Missing executor key"
    assert body["code"] == 401 and body["version"]
    assert "trace" not in body  # production mode


def test_unknown_route(executor):
    response = executor.get("/v1/nothing-here")
    assert response.status_code == 404
    assert response.json()["type"] == "general_route_not_found"


def valid_create(**overrides):
    return {"runtimeId": new_id(), "image": NODE_IMAGE, **overrides}


@pytest.mark.parametrize("params, message", [
    ({"runtimeId": None}, 'Param "runtimeId" is not optional.'),
    ({"image": None}, 'Param "image" is not optional.'),
    ({"runtimeId": "../escape"}, "Invalid runtimeId: must be 1-64 characters of A-Z a-z 0-9 . _ -"),
    ({"runtimeId": "a/b"}, "Invalid runtimeId"),
    ({"runtimeId": ".hidden"}, "Invalid runtimeId"),
    ({"runtimeId": "x" * 65}, "Invalid runtimeId"),
    ({"runtimeId": ""}, "Invalid runtimeId"),
    ({"image": ""}, "Invalid image"),
    ({"image": "i" * 129}, "Invalid image"),
    ({"image": "someone/else:latest", "command": "true"}, "Invalid image"),
    ({"entrypoint": "e" * 257}, "Invalid entrypoint"),
    ({"command": "c" * 1025}, "Invalid command"),
    ({"runtimeEntrypoint": "c" * 1025}, "Invalid runtimeEntrypoint"),
    ({"timeout": "soon"}, "Invalid timeout"),
    ({"timeout": 1.5}, "Invalid timeout"),
    ({"memory": "lots"}, "Invalid memory"),
    ({"cpus": "many"}, "Invalid cpus"),
    ({"remove": "maybe"}, "Invalid remove"),
    ({"variables": "not json"}, "Invalid variables"),
    ({"variables": [1, 2]}, "Invalid variables"),
    ({"version": "v2"}, "Invalid version"),
    ({"source": "/etc/passwd"}, "Invalid source"),
    ({"source": "../../../../etc/passwd"}, "Invalid source"),
    ({"destination": "/tmp/elsewhere"}, "Invalid destination"),
    ({"destination": "builds/../../.."}, "Invalid destination"),
])
def test_create_validation(executor, params, message):
    payload = {key: value for key, value in valid_create(**params).items() if value is not None}
    response = executor.post(CREATE, json=payload)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["type"] == "general_argument_invalid"
    assert body["message"].startswith(message)
    assert executor.get(f"/v1/runtimes/{payload.get('runtimeId', 'x')}").status_code in (400, 404)


def test_symlink_out_of_the_storage_roots_is_refused(executor):
    link = executor.storage / f"link-{new_id()}.tar.gz"
    os.symlink("/etc/hostname", link)
    response = executor.post(CREATE, json=valid_create(source=str(link), command="true"))
    assert response.status_code == 400
    assert response.json()["message"].startswith("Invalid source")
    dir_link = executor.storage / f"dir-{new_id()}"
    os.symlink("/tmp", dir_link)
    response = executor.post(CREATE, json=valid_create(destination=str(dir_link), command="true"))
    assert response.status_code == 400
    assert response.json()["message"].startswith("Invalid destination")


@pytest.mark.parametrize("params, message", [
    ({"method": "TRACE"}, "Invalid method"),
    ({"timeout": 0}, "Invalid timeout: must be at least 1"),
    ({"path": "/" + "p" * 2048}, "Invalid path"),
    ({"headers": "[not an object"}, "Invalid headers"),
    ({"logging": "perhaps"}, "Invalid logging"),
    ({"body": 42}, "Invalid body"),
    ({"image": NODE_IMAGE, "source": "/etc/passwd"}, "Invalid source"),
])
def test_execution_validation(executor, params, message):
    response = executor.post(f"/v1/runtimes/{new_id()}/executions", json=params)
    assert response.status_code == 400, response.text
    assert response.json()["type"] == "general_argument_invalid"
    assert response.json()["message"].startswith(message)


def test_execution_body_limit(executor):
    response = executor.post(f"/v1/runtimes/{new_id()}/executions",
                             files={"body": ("b", b"x" * (20 * 1024 * 1024 + 1))})
    assert response.status_code == 400
    assert response.json()["message"].startswith("Invalid body")


@pytest.mark.parametrize("runtime_id", ["..", ".x", "a%2Fb", "x" * 65])
def test_runtime_id_in_urls(executor, runtime_id):
    for method, suffix in (("GET", ""), ("DELETE", ""), ("POST", "/executions"), ("POST", "/commands")):
        response = executor.request(method, f"/v1/runtimes/{runtime_id}{suffix}",
                                    json={"command": "true"} if method == "POST" else None)
        assert response.status_code in (400, 404), (method, suffix, response.text)
        if response.status_code == 400:
            assert response.json()["message"].startswith("Invalid runtimeId")


def test_legacy_validation(executor):
    response = executor.post("/v1/execution", json={"payload": "x"})
    assert response.status_code == 400
    assert response.json()["message"] == 'Param "runtimeId" is not optional.'


def test_bad_json_body(executor):
    response = executor.post(CREATE, data="{not json", headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["type"] == "general_argument_invalid"


def test_multipart_create_coerces_strings(executor):
    runtime_id = new_id()
    response = executor.post(CREATE, files={"x": ("", b"")}, data={
        "runtimeId": runtime_id, "image": NODE_IMAGE, "command": "echo $OPEN_RUNTIMES_MEMORY $FOO",
        "timeout": "60", "remove": "true", "memory": "300", "cpus": "0.5",
        "variables": '{"FOO": "bar"}'})
    assert response.status_code == 201, response.text
    assert response.json()["output"] == "300 bar\n"
    assert executor.get(f"/v1/runtimes/{runtime_id}").status_code == 404  # remove="true"


@pytest.mark.parametrize("params", [
    {"headers": {"x-a": "value\r\nx-open-runtimes-secret: injected"}},
    {"headers": {"bad name": "v"}},
    {"headers": {"x-a": "nul\x00"}},
    {"path": "/a b"},
    {"path": "/a\r\nHost: elsewhere"},
])
def test_request_smuggling_into_the_runtime_is_refused(executor, params):
    response = executor.post(f"/v1/runtimes/{new_id()}/executions", json=params)
    assert response.status_code == 400, response.text
    assert response.json()["type"] == "execution_bad_request"
    assert response.json()["message"].startswith("Execution request was invalid.")
