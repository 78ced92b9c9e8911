"""Validating input against a model, with the contract's refusals (the bad field named)."""

from typing import Any, TypeVar

from flask import request
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from app.errors import ValidationError

M = TypeVar("M", bound=BaseModel)
BODY = "body"


def field_of(error: dict) -> str:
    """The bad field's name as the client wrote it ("" for the whole input)."""
    return ".".join(str(part) for part in error["loc"])


def as_refusal(exc: PydanticValidationError) -> ValidationError:
    """The first error as the contract's 400: the field named, in the message too."""
    error = exc.errors(include_url=False, include_context=False, include_input=False)[0]
    field = field_of(error)
    if not field:
        return ValidationError("request body must be a JSON object", field=BODY)
    if error["type"] == "refused":  # our own reasons read after the name
        return ValidationError(f"{field} {error['msg']}", field=field)
    return ValidationError(f"{field}: {error['msg']}", field=field)


def json_body(model: type[M]) -> M:
    """The request's JSON body as `model`, parsed straight from the raw bytes."""
    if not request.is_json:
        raise ValidationError("request body must be a JSON object", field=BODY)
    try:
        return model.model_validate_json(request.get_data(cache=True))
    except PydanticValidationError as exc:
        raise as_refusal(exc) from None


def json_text(model: type[M], text: str) -> M:
    """JSON text (a multipart request's `payload` part) as `model`."""
    try:
        return model.model_validate_json(text)
    except PydanticValidationError as exc:
        raise as_refusal(exc) from None


def query(model: type[M]) -> M:
    """The query string as `model`; a parameter sent empty (`?limit=`) counts as absent."""
    return validate(model, {name: value for name, value in request.args.items() if value != ""})


def validate(model: type[M], data: Any) -> M:
    """`data` as `model`, or the contract's 400."""
    try:
        return model.model_validate(data)
    except PydanticValidationError as exc:
        raise as_refusal(exc) from None
