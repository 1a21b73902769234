"""The sandbox as a WSGI application: werkzeug reads the request, the pipeline answers, werkzeug writes it.

Reading is where size limits and form decoding happen, so a body the pipeline sees is within
the documented limits, and a form arrives as fields and files.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable
from http import HTTPStatus
from typing import TYPE_CHECKING, Protocol
from urllib.parse import quote

from werkzeug.exceptions import HTTPException
from werkzeug.formparser import FormDataParser
from werkzeug.wrappers import Request as WireRequest
from werkzeug.wrappers import Response as WireResponse

from conformance.sandbox.api import JSON_TYPE, Incoming, Response
from conformance.sandbox.errors import ApiError, envelope
from conformance.sandbox.faults import HTML_TYPE, Fault, FaultPlan, html_page, truncated
from conformance.sandbox.serving import MAX_JSON_BODY, MAX_UPLOAD_BODY, DropConnection

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

MULTIPART = "multipart/form-data"
FORM_TYPES = (MULTIPART, "application/x-www-form-urlencoded")
MAX_FORM_PARTS = 100

log = logging.getLogger(__name__)


class Pipeline(Protocol):
    def handle(self, incoming: Incoming) -> Response: ...


class SandboxRequest(WireRequest):
    max_content_length = MAX_UPLOAD_BODY
    # Each text field of a multipart body may be as large as a JSON body.
    max_form_memory_size = MAX_JSON_BODY
    max_form_parts = MAX_FORM_PARTS

    def make_form_data_parser(self) -> FormDataParser:
        parser = super().make_form_data_parser()
        # A broken form is a 400, not an empty form.
        parser.silent = False
        return parser


def too_large(limit: int) -> ApiError:
    size = f"{limit // 1024}kb" if limit < 1024 * 1024 else f"{limit // 1024**2}mb"
    return ApiError(413, "payload_too_large", f"Request body exceeds {size}")


def target_of(environ: WSGIEnvironment) -> str:
    """The request target as sent; rebuilt from PATH_INFO (already decoded) only when the server keeps no copy."""
    raw = environ.get("REQUEST_URI") or environ.get("RAW_URI")
    if raw:
        return str(raw)
    path = quote(str(environ.get("SCRIPT_NAME", "")) + str(environ.get("PATH_INFO", "")), safe="/;=,")
    query = str(environ.get("QUERY_STRING", ""))
    return f"{path}?{query}" if query else path


def read(request: SandboxRequest) -> Incoming:
    """The request as the pipeline takes it; 413 over the size limits, 400 for a form that cannot be read."""
    media_type = request.mimetype
    limit = MAX_UPLOAD_BODY if media_type == MULTIPART else MAX_JSON_BODY
    if (request.content_length or 0) > limit:
        # waitress has read the body already, so the connection can carry the next request.
        raise too_large(limit)
    target = target_of(request.environ)
    if media_type not in FORM_TYPES:
        return Incoming(request.method, target, request.headers, request.get_data(), media_type)
    try:
        form, files = request.form, request.files
    except HTTPException as error:
        if error.code == 413:
            raise too_large(limit) from None
        raise ApiError(400, "bad_request", f"Request body is not valid {media_type}") from None
    except ValueError as error:
        # werkzeug's reason: "Missing boundary", or where the multipart data broke off.
        raise ApiError(400, "bad_request", f"Request body is not valid {media_type}: {error}"[:200]) from None
    return Incoming(request.method, target, request.headers, b"", media_type, form, files)


def render(response: Response) -> WireResponse:
    """The HTTP answer for ``response``: JSON unless it names another content type."""
    try:
        if response.content_type is None:
            # allow_nan=False: NaN and Infinity are not JSON.
            data = json.dumps(response.body, ensure_ascii=False, allow_nan=False).encode("utf-8")
            content_type = JSON_TYPE
        else:
            body = response.body if response.body is not None else b""
            data = body.encode("utf-8") if isinstance(body, str) else bytes(body)
            content_type = response.content_type
    except (TypeError, ValueError):
        log.exception("sandbox: cannot serialize the answer (status %s)", response.status)
        failed = envelope("internal_error", "The sandbox failed to handle the request")
        return WireResponse(json.dumps(failed), _status_line(500), content_type=JSON_TYPE)
    return WireResponse(data, _status_line(response.status), list(response.headers.items()), content_type=content_type)


def _status_line(status: int) -> str | int:
    # werkzeug's own reason phrases are upper case ("201 CREATED"); clients and recordings expect RFC 9110's.
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return status


def application(pipeline: Pipeline, faults: FaultPlan | None = None) -> WSGIApplication:
    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        fault = faults.next() if faults is not None else None
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        if fault is not None and faults is not None and fault.before:
            # Answered (or dropped) before the pipeline sees the request: it does nothing.
            return injected(fault, faults.profile)(environ, start_response)
        request = SandboxRequest(environ)
        try:
            try:
                response = pipeline.handle(read(request))
            except ApiError as error:
                response = Response(error.status, error.body(), error.headers)
            except Exception:
                log.exception("sandbox: unhandled error reading %s %s", request.method, request.path)
                response = Response(500, envelope("internal_error", "The sandbox failed to handle the request"))
            wire = render(response)
        finally:
            request.close()
        if fault is not None and faults is not None and fault.after:
            # The request has acted; only its answer is garbled.
            return garbled(wire, fault, faults.profile, start_response)
        return wire(environ, start_response)

    return app


def injected(fault: Fault, profile: str) -> WireResponse:
    """The answer of a fault that strikes before the request acts; a reset has none."""
    if fault.kind == "reset":
        raise DropConnection(reset=True)
    return render(Response(fault.status, fault.error_body(profile), fault.headers()))


def garbled(wire: WireResponse, fault: Fault, profile: str, start_response: StartResponse) -> Iterable[bytes]:
    """A real answer cut off half-way (its Content-Length promises it all), or sent as an HTML page."""
    headers = [(name, value) for name, value in wire.headers.items() if name.lower() != "content-length"]
    if fault.kind == "non-json":
        page = html_page(wire.status_code, profile)
        headers = [(name, value) for name, value in headers if name.lower() != "content-type"]
        start_response(wire.status, [*headers, ("Content-Type", HTML_TYPE), ("Content-Length", str(len(page)))])
        return [page]
    data = wire.get_data()
    start_response(wire.status, [*headers, ("Content-Length", str(len(data)))])
    return truncated([data], DropConnection(reset=False))
