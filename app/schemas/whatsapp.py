"""Meta's WhatsApp Cloud API webhook envelope (snake_case, as Meta sends it) and our answer.

Only what the inbox reads is declared; Meta adds fields over time and every
model ignores what it does not know. The shapes follow Meta's "messages
webhook reference": `entry[].changes[].value` with `metadata`, `contacts[]`,
`messages[]` and `statuses[]`.
"""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.schemas.common import PhoneInput, TimestampInput


class MetaModel(BaseModel):
    """A part of Meta's payload: unknown keys are ignored, as Meta adds them over time."""

    model_config = ConfigDict(extra="ignore")


class Metadata(MetaModel):
    display_phone_number: str = ""
    phone_number_id: str = Field(description="The business number the change is for")


class Profile(MetaModel):
    name: str = ""


class Contact(MetaModel):
    wa_id: PhoneInput = Field(description="The customer's WhatsApp id (their number, no +)")
    profile: Profile = Profile()


class MetaError(MetaModel):
    """One of WhatsApp's errors, on a failed status or an unsupported message."""

    code: int | None = None
    title: str = ""
    message: str = ""
    error_data: dict[str, Any] = {}

    @property
    def text(self) -> str:
        """The reason in one line: the title, and the details when Meta gives them."""
        details = str(self.error_data.get("details") or self.message or "").strip()
        title = self.title.strip()
        if details and details != title:
            return f"{title}: {details}" if title else details
        return title or "WhatsApp reported an error"


class InboundMessage(MetaModel):
    """One message a customer sent (`messages[]`); its type names the part that carries it."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    id: str = Field(min_length=1, max_length=255, description="The wamid: the idempotency key")
    from_: PhoneInput = Field(alias="from", description="The customer (E.164 once parsed)")
    timestamp: TimestampInput = None
    type: str = "unsupported"
    context: dict[str, Any] | None = None
    errors: list[MetaError] = []

    def part(self, name: str) -> Any:
        """The type-specific object (`text`, `image`, `location`, ...), or None."""
        return (self.model_extra or {}).get(name)


class Status(MetaModel):
    """A status of one of our replies (`statuses[]`)."""

    id: str = Field(min_length=1, max_length=255, description="The wamid of our reply")
    status: str
    timestamp: TimestampInput = None
    recipient_id: str = ""
    errors: list[MetaError] = []


class ChangeValue(MetaModel):
    messaging_product: str = "whatsapp"
    metadata: Metadata | None = None
    contacts: list[Contact] = []
    messages: list[InboundMessage] = []
    statuses: list[Status] = []
    errors: list[MetaError] = Field([], description="System or account problems Meta reports")


class Change(MetaModel):
    field: str = "messages"
    value: ChangeValue


class Entry(MetaModel):
    id: str = Field("", description="The WhatsApp Business Account id")
    changes: list[Change] = []


class Envelope(MetaModel):
    """POST /api/webhooks/whatsapp: what Meta sends, signed with the app secret."""

    model_config = ConfigDict(
        extra="ignore",
        json_schema_extra={
            "examples": [
                {
                    "object": "whatsapp_business_account",
                    "entry": [
                        {
                            "id": "102290129340398",
                            "changes": [
                                {
                                    "field": "messages",
                                    "value": {
                                        "messaging_product": "whatsapp",
                                        "metadata": {
                                            "display_phone_number": "15550783881",
                                            "phone_number_id": "106540352242922",
                                        },
                                        "contacts": [
                                            {"profile": {"name": "Ayşe"}, "wa_id": "905551110000"}
                                        ],
                                        "messages": [
                                            {
                                                "from": "905551110000",
                                                "id": "wamid.HBgMOTA1NTUxMTEwMDAwFQIAEhgg",
                                                "timestamp": "1765100000",
                                                "type": "text",
                                                "text": {"body": "Merhaba"},
                                            }
                                        ],
                                    },
                                }
                            ],
                        }
                    ],
                }
            ]
        },
    )

    object: str = Field(examples=["whatsapp_business_account"])
    entry: list[Entry] = []


class VerifyQuery(BaseModel):
    """Meta's verification handshake: GET /api/webhooks/whatsapp?hub.mode=subscribe&..."""

    model_config = ConfigDict(populate_by_name=True)

    mode: str = Field("", alias="hub.mode", description="`subscribe`")
    verify_token: str = Field("", alias="hub.verify_token", description="WHATSAPP_VERIFY_TOKEN")
    challenge: str = Field("", alias="hub.challenge", description="Echoed back on success")


class Receipt(BaseModel):
    """Every message and status of the envelope is stored (or was already, or is not ours)."""

    success: bool = True
    stored: int = Field(ge=0, description="New messages stored and emitted")
    duplicates: int = Field(ge=0, description="Messages stored before (the same wamid)")
    statuses: int = Field(ge=0, description="Statuses that changed a reply")
    ignored: int = Field(
        ge=0, description="Changes for numbers not tied to a user, unknown replies, other fields"
    )
