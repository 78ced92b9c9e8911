"""The field types and validators every surface shares, and the base models.

Each type validates exactly what its JSON Schema says (the documents must not
refuse what the server accepts, nor the reverse; tests/test_openapi.py checks
the patterns against the validators). Refusals are PydanticCustomError with a
reason that reads after the field's name ("user_id must be ..."), which
app/schemas/validation.py turns into the contract's error.
"""

from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    WithJsonSchema,
)
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from app import phones
from app.timeutil import isoformat, parse_timestamp

# users.id and conversations.id are 32-bit on PostgreSQL; other ids 64-bit.
INT_ID_MAX = 2**31 - 1
BIGINT_MAX = 2**63 - 1
# A string the server accepts after str.strip(): one character Python does not
# count as whitespace. Spelled out, because JSON Schema's \s is not Python's.
PYTHON_WHITESPACE = r"\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
# ...and no NUL anywhere, which PostgreSQL cannot store (refused with a 400).
NON_BLANK = f"^[^\\x00]*[^{PYTHON_WHITESPACE}\\x00][^\\x00]*$"
# 1 to 2**31 - 1 written in ASCII digits (leading zeros and surrounding whitespace allowed).
USER_ID_DIGITS = (
    f"^[{PYTHON_WHITESPACE}]*0*(?:[1-9][0-9]{{0,8}}|1[0-9]{{9}}|20[0-9]{{8}}|21[0-3][0-9]{{7}}"
    "|214[0-6][0-9]{6}|2147[0-3][0-9]{5}|21474[0-7][0-9]{4}|214748[0-2][0-9]{3}"
    f"|2147483[0-5][0-9]{{2}}|21474836[0-3][0-9]|214748364[0-7])[{PYTHON_WHITESPACE}]*$"
)
ISO_TIME_SCHEMA = {"type": "string", "format": "date-time"}
# Unix seconds, or milliseconds above 1e11: anything from year 1 to year 9999.
UNIX_TIME_SCHEMA = {"type": "number", "minimum": -62135596800, "exclusiveMaximum": 253402300800000}


def refuse(reason: str) -> PydanticCustomError:
    """A refusal whose reason follows the field's name in the error message."""
    return PydanticCustomError("refused", reason)


def comparable_text(value: str) -> str:
    """A non-blank string a database can store and compare.

    PostgreSQL refuses NUL in text, and a lone surrogate (which Python's JSON
    decoder lets through, e.g. in a socket event) cannot be encoded at all.
    """
    if not value.strip():
        raise refuse("must be a non-empty string")
    if "\x00" in value:
        raise refuse("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise refuse("must be valid Unicode text") from None
    return value


def without_nul(value: str) -> str:
    """Any string without NUL (which PostgreSQL cannot store)."""
    if "\x00" in value:
        raise refuse("must not contain NUL characters")
    return value


def Text(max_length: int, *, strip: bool = False, **field: Any):  # noqa: N802 (a type factory)
    """A non-blank string of at most max_length characters, optionally stripped."""
    checks = [AfterValidator(comparable_text)]
    if strip:
        checks.append(AfterValidator(str.strip))
    constraints = Field(
        min_length=1, max_length=max_length, json_schema_extra={"pattern": NON_BLANK}, **field
    )
    return Annotated[str, constraints, *checks]


def _user_id(value: Any) -> int:
    """A user id as n8n sends it: an integer, or a string of ASCII digits."""
    # ASCII digits only: str.isdigit() also accepts "²", which int() refuses.
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # JSON has one number type: 7.0 is the integer 7
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= INT_ID_MAX:
        raise refuse("must be a positive integer")
    return value


UserIdInput = Annotated[
    int,
    PlainValidator(_user_id),
    WithJsonSchema(
        {
            "description": "The owning agent's user id (also as a string of digits)",
            "anyOf": [
                {"type": "integer", "minimum": 1, "maximum": INT_ID_MAX},
                {"type": "string", "pattern": USER_ID_DIGITS},
            ],
        },
        mode="validation",
    ),
]


def _timestamp(value: Any) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_timestamp(value)
    except (ValueError, OverflowError, OSError):
        raise refuse("must be ISO-8601 or Unix seconds") from None


TimestampInput = Annotated[
    datetime | None,
    PlainValidator(_timestamp),
    WithJsonSchema(
        {
            "description": "ISO-8601, or Unix seconds (ms above 1e11); default now",
            "anyOf": [ISO_TIME_SCHEMA, UNIX_TIME_SCHEMA, {"type": "null"}],
        },
        mode="validation",
    ),
]

# A moment as clients get it: ISO-8601 UTC with milliseconds and a Z.
UtcTime = Annotated[
    datetime,
    PlainSerializer(isoformat, return_type=str),
    WithJsonSchema(
        {**ISO_TIME_SCHEMA, "examples": ["2026-11-30T09:15:02.417Z"]}, mode="serialization"
    ),
]


class CamelModel(BaseModel):
    """A payload of our own API: camelCase keys, snake_case attributes."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
    )


class CamelInput(CamelModel):
    """A request or client event payload: camelCase keys only, as the documents say."""

    model_config = ConfigDict(validate_by_name=False)


class ErrorDetail(BaseModel):
    code: str = Field(examples=["validation_error"])
    message: str = Field(examples=["user_id must be a positive integer"])
    field: str | None = Field(
        None,
        description="The bad field, for a 400",
        examples=["user_id"],
        exclude_if=lambda v: v is None,
    )


class ErrorBody(BaseModel):
    """Every error answer: {"error": {"code", "message", "field"?}}."""

    error: ErrorDetail


def _phone(value: Any) -> str:
    """A customer's phone number in E.164 (app/phones.py), from any usual spelling."""
    if not isinstance(value, str) or len(value) > PHONE_MAX_CHARS:
        raise refuse(f"must be a phone number of at most {PHONE_MAX_CHARS} characters")
    try:
        return phones.normalise(value)
    except ValueError as exc:
        raise refuse(str(exc)) from None


PHONE_MAX_CHARS = 64
_SPACES = f"[{PYTHON_WHITESPACE}]*"
PhoneInput = Annotated[
    str,
    PlainValidator(_phone),
    WithJsonSchema(
        {
            "type": "string",
            "maxLength": PHONE_MAX_CHARS,
            "pattern": f"^{_SPACES}{phones.PHONE_SHAPE.pattern}{_SPACES}$",
            "description": "With its country code; stored in E.164 (`905551110000` and"
            " `+90 555 111 00 00` are `+905551110000`)",
            "examples": ["+905551112233"],
        },
        mode="validation",
    ),
]
