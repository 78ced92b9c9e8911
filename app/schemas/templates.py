"""WhatsApp message templates: a template reply's object, and the templates the panel offers."""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.schemas.common import CamelModel, Text


class TemplateReply(BaseModel):
    """WhatsApp's template object: an approved template, by name and language."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "order_update",
                    "language": "tr",
                    "components": [
                        {"type": "body", "parameters": [{"type": "text", "text": "12345"}]}
                    ],
                }
            ]
        },
    )

    name: Text(512, strip=True, examples=["hello_world"])
    language: Text(16, strip=True, examples=["en_US"], description="The template's language code")
    components: list[dict[str, Any]] | None = Field(
        None, max_length=20, description="Parameters, as WhatsApp's template `components`"
    )


class TemplateOption(CamelModel):
    """An approved template the panel offers when the 24-hour window is closed."""

    name: str = Field(examples=["hello_world"])
    language: str = Field(examples=["tr"])
    text: str = Field("", description="Its body as the agent reads it ({{1}}: parameters)")
