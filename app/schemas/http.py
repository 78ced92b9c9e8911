"""Declaring a REST operation: its models validate the request, shape the answer, and
document it in GET /api/openapi.json (app/schemas/openapi.py).

    @bp.post("/conversations/<int:conversation_id>/messages")
    @jwt_required()
    @operation(body=Reply, responses={201: SentMessage, 200: SentMessage}, errors=(403, 404))
    def send_reply(conversation_id: int, body: Reply):
        ...
        return SentMessage.of(message), 201

The view gets the parsed `body` and `query` as keyword arguments, and returns a
model (or a list of models, or `(value, status)`), serialized by pydantic to
JSON with the declared response type; a Flask response passes through as is.
"""

import functools
import inspect
from dataclasses import dataclass, field
from typing import Any

from flask import Response, current_app, request
from pydantic import BaseModel, TypeAdapter

from app.schemas import validation

# Security requirements, by the scheme names of app/schemas/openapi.py.
BEARER = ({"bearerAuth": []},)
REFRESH = ({"refreshToken": []},)
BEARER_OR_REFRESH = ({"bearerAuth": []}, {"refreshToken": []})
REFRESH_OR_COOKIE = ({"refreshToken": []}, {"refreshCookie": [], "refreshCsrf": []})
# Optional: /metrics asks for its token only when METRICS_TOKEN is set.
METRICS = ({"metricsToken": []}, {})
WEBHOOK = ({"webhookSecret": []}, {"webhookSignature": [], "webhookTimestamp": []})
META_SIGNATURE = ({"metaSignature": []},)
# What every API operation may answer besides its own errors.
COMMON_ERRORS = (413, 503)
# What an operation with an access token may answer too: REST_RATE_LIMIT (app/rate_limits.py).
RATE_LIMITED_ERRORS = (429,)
# A response declared as a media type (not a model) is a document or a file.
HTML = "text/html"


@dataclass(frozen=True)
class Operation:
    """What one view declares: its input models, answers and credentials."""

    responses: dict[int, Any]
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    path: type[BaseModel] | None = None
    errors: tuple[int, ...] = ()
    security: tuple[dict, ...] = ()
    # The form fields of a multipart/form-data body the view also takes (a file upload):
    # documented beside the JSON body; the view then gets body=None and reads the form.
    multipart: type[BaseModel] | None = None
    tag: str = ""
    summary: str = ""
    description: str = ""
    adapters: dict[int, TypeAdapter] = field(default_factory=dict, compare=False)


def operation(
    *,
    responses: dict[int, Any],
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    path: type[BaseModel] | None = None,
    errors: tuple[int, ...] = (),
    security: tuple[dict, ...] = (),
    common_errors: bool = True,
    multipart: type[BaseModel] | None = None,
):
    """Declare a view's models (put it right above the function, under the route)."""

    def decorator(view):
        summary, _, description = inspect.cleandoc(view.__doc__ or "").partition("\n")
        declared = Operation(
            responses=responses,
            body=body,
            query=query,
            path=path,
            errors=_errors(errors, security, common_errors),
            security=security,
            multipart=multipart,
            tag=_tag(view.__module__),
            summary=summary.strip(),
            description=description.strip(),
            adapters={s: TypeAdapter(k) for s, k in responses.items() if not isinstance(k, str)},
        )
        success = min(responses)

        @functools.wraps(view)
        def endpoint(**kwargs):
            if path is not None:
                validation.validate(path, kwargs)
            if query is not None:
                kwargs["query"] = validation.query(query)
            if multipart is not None and is_multipart():
                kwargs["body"] = None
            elif body is not None:
                kwargs["body"] = validation.json_body(body)
            return _render(view(**kwargs), declared.adapters, success)

        # functools.wraps copies __dict__, so route decorators above keep it.
        endpoint.__operation__ = declared
        return endpoint

    return decorator


def is_multipart() -> bool:
    return request.mimetype == "multipart/form-data"


def _errors(errors: tuple[int, ...], security: tuple[dict, ...], common: bool) -> tuple:
    """The operation's own errors, the common ones, and 429 where an access token counts."""
    limited = any("bearerAuth" in requirement for requirement in security)
    return tuple(
        sorted(
            {
                *errors,
                *(COMMON_ERRORS if common else ()),
                *(RATE_LIMITED_ERRORS if limited else ()),
            }
        )
    )


def _tag(module: str) -> str:
    """The operation's group in the docs: its API module (app.api.messages: messages)."""
    parts = module.split(".")
    return parts[2] if parts[1] == "api" else parts[1]


def _render(result, adapters: dict[int, TypeAdapter], status: int) -> Response:
    if isinstance(result, Response):
        return result
    if isinstance(result, tuple):
        result, status = result
    body = adapters[status].dump_json(result)
    return current_app.response_class(body, status=status, mimetype="application/json")
