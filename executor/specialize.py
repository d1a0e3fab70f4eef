"""Specializing a pool-mode runtime: the request that gives it a function (pool contract).

The caller has filled the runtime's function dir with the unpacked artifact; one ``POST /``
with ``x-open-runtimes-specialize: 1`` then hands it the variables and the entrypoint. The
runtime answers 200 once, 409 to any later attempt.
"""
from __future__ import annotations

import json

import gevent
from opr_http.upstream import ConnectionPool

from executor import runtime_http

SPECIALIZE_SECONDS = 10             # a runtime that takes longer is not worth waiting for


class SpecializationFailed(Exception):
    """The runtime did not answer 200 to the specialization request."""


def specialize(client: ConnectionPool, secret: str, variables: dict[str, str], entrypoint: str = "") -> None:
    """Send the specialization request; raise :class:`SpecializationFailed` unless it is 200."""
    payload = {"variables": variables}
    if entrypoint:
        payload["entrypoint"] = entrypoint
    headers = {"x-open-runtimes-specialize": "1", "x-open-runtimes-secret": secret,
               "content-type": "application/json"}
    try:
        with gevent.Timeout(SPECIALIZE_SECONDS):
            response, body = runtime_http.request(client, "POST", "/", headers, json.dumps(payload).encode())
    except gevent.Timeout:
        raise SpecializationFailed(f"no answer within {SPECIALIZE_SECONDS} s") from None
    except Exception as error:  # connection refused or reset, unparsable answer
        raise SpecializationFailed(f"request failed: {error}") from None
    if response.status_code != 200:
        text = body[:200].decode("utf-8", "replace")
        raise SpecializationFailed(f"HTTP {response.status_code}: {text}")
