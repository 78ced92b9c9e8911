"""Media over REST: GET /api/media/<id>, and the multipart reply with a file."""

from typing import Annotated

from pydantic import BaseModel, Field

from app.schemas.common import CamelInput, Text


class MediaPath(BaseModel):
    media_id: Annotated[str, Field(description="The media id", examples=["med_4c1d2e3f"])]


class MediaQuery(BaseModel):
    token: str | None = Field(
        None, description="The credential inside `media.url` (instead of a bearer token)"
    )
    thumbnail: bool = Field(False, description="The small JPEG preview of an image")


class ReplyUpload(BaseModel):
    """A reply with a file (multipart/form-data): the REST fallback of the socket upload."""

    file: bytes = Field(json_schema_extra={"format": "binary"}, description="The file")
    content: str | None = Field(None, description="The caption")
    clientMessageId: str | None = Field(  # noqa: N815 (a form field's name as sent)
        None, description="Idempotency key: the same one again sends nothing twice"
    )


class ReplyFileFields(CamelInput):
    """The multipart reply's form fields besides the file."""

    content: Text(4096, strip=True) | None = None
    client_message_id: Text(64) | None = None
