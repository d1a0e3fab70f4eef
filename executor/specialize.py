"""Specializing a pool-mode runtime: the request that gives it a function (pool contract).

The caller has filled the runtime's function dir with the unpacked artifact; one ``POST /``
with ``x-open-runtimes-specialize: 1`` then hands it the variables and the entrypoint. The
runtime answers 200 once, 409 to any later attempt.
"""
from __future__ import annotations

import json

import gevent
from geventhttpclient import HTTPClient

from executor.adapters.base import Instance

POOL_SIZE = 256                     # connections kept per runtime (the runtimes serve >= 16)
SPECIALIZE_SECONDS = 10             # a runtime that takes longer is not worth waiting for


class SpecializationFailed(Exception):
    """The runtime did not answer 200 to the specialization request."""


def client_for(instance: Instance) -> HTTPClient:
    """The keep-alive client of a runtime. Timeouts are enforced per call with gevent.Timeout;
    these only bound the socket operations of a runtime that never answers."""
    return HTTPClient(instance.host, instance.port, concurrency=POOL_SIZE, connection_timeout=30,
                      network_timeout=24 * 3600, block_size=65536)


def specialize(client: HTTPClient, secret: str, variables: dict[str, str], entrypoint: str = "") -> None:
    """Send the specialization request; raise :class:`SpecializationFailed` unless it is 200."""
    payload = {"variables": variables}
    if entrypoint:
        payload["entrypoint"] = entrypoint
    headers = {"x-open-runtimes-specialize": "1", "x-open-runtimes-secret": secret,
               "content-type": "application/json"}
    try:
        with gevent.Timeout(SPECIALIZE_SECONDS):
            response = client.request("POST", "/", body=json.dumps(payload).encode(), headers=headers)
            body = response.read()
            response.release()
    except gevent.Timeout:
        raise SpecializationFailed(f"no answer within {SPECIALIZE_SECONDS} s") from None
    except Exception as error:  # connection refused or reset, unparsable answer
        raise SpecializationFailed(f"request failed: {error}") from None
    if response.status_code != 200:
        text = body[:200].decode("utf-8", "replace")
        raise SpecializationFailed(f"HTTP {response.status_code}: {text}")
