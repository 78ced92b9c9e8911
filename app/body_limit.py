"""The 64 KiB body limit for chunked requests, which Werkzeug would silently truncate."""

from flask import request
from werkzeug.exceptions import RequestEntityTooLarge


def refuse_oversized_chunked_body() -> None:
    """413 for a chunked body over MAX_CONTENT_LENGTH.

    Werkzeug refuses a Content-Length over the limit up front, but reads a chunked
    body (no Content-Length) only up to the limit and stops there: the view would
    see a truncated body and answer 400, or accept a prefix that happens to parse.
    """
    limit = request.max_content_length  # MAX_CONTENT_LENGTH, or a file upload's own
    if "chunked" not in request.headers.get("Transfer-Encoding", "").lower() or limit is None:
        return
    if len(request.get_data(cache=True)) >= limit and request.environ["wsgi.input"].read(1):
        raise RequestEntityTooLarge()
