"""Reading request parameters from JSON, multipart/form-data, url-encoded forms or the query.

Multipart is decoded by hand (with Werkzeug's sans-IO decoder) so every part keeps its raw
bytes: a binary ``body`` survives whether it is sent as a file part or a plain field.
"""
from __future__ import annotations

from typing import Any

from flask import Request
from werkzeug.sansio.multipart import Data, Epilogue, Field, File, MultipartDecoder, NeedData

from executor.api.codec import json_object
from executor.errors import invalid

MAX_PARTS = 100


def read(request: Request) -> dict[str, Any]:
    """The request's parameters: JSON values as sent, multipart/form values as text (a
    ``body`` part as bytes), query parameters for GET."""
    if request.method in ("GET", "HEAD", "DELETE"):
        return request.args.to_dict()
    mimetype = request.mimetype
    if mimetype == "multipart/form-data":
        return _multipart(request)
    if mimetype == "application/x-www-form-urlencoded":
        return request.form.to_dict()
    raw = request.get_data(cache=False)
    if not raw.strip():
        return request.args.to_dict()
    return json_object(raw)


def _multipart(request: Request) -> dict[str, Any]:
    boundary = request.mimetype_params.get("boundary", "").encode("latin-1")
    if not boundary:
        raise invalid("Invalid request body: multipart/form-data without a boundary")
    decoder = MultipartDecoder(boundary, max_parts=MAX_PARTS)
    stream = request.stream
    values: dict[str, Any] = {}
    name = None
    chunks: list[bytes] = []
    finished = ended = False
    while not finished:
        try:
            event = decoder.next_event()
        except ValueError as error:
            raise invalid(f"Invalid request body: malformed multipart/form-data ({error})") from None
        if isinstance(event, NeedData):
            if ended:
                raise invalid("Invalid request body: truncated multipart/form-data")
            data = stream.read(65536)
            ended = not data
            decoder.receive_data(data or None)
        elif isinstance(event, (Field, File)):
            name, chunks = event.name, []
        elif isinstance(event, Data):
            chunks.append(event.data)
            if not event.more_data and name is not None:
                raw = b"".join(chunks)
                values[name] = raw if name == "body" else raw.decode("utf-8", "replace")
                name = None
        elif isinstance(event, Epilogue):
            finished = True
    return values
