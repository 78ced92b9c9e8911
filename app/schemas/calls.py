"""Calls and screen sharing: the signalling events' payloads, both ways, and the ICE servers.

The server only relays: SDP offers and answers and ICE candidates travel in
`call_signal`'s opaque `data`; the media go peer to peer, or through TURN.
"""

import json
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from app.schemas.common import CamelInput, CamelModel, refuse
from app.schemas.socket import ClientPayload, PositiveId, ServerEvent

SIGNAL_MAX_BYTES = 64 * 1024
CALL_ID_PATTERN = "^call_[0-9a-f]{32}$"

CallKind = Literal["video", "audio", "screen"]
CallId = Annotated[
    str,
    Field(strict=True, pattern=CALL_ID_PATTERN, examples=["call_5f0c1d2e3b4a49c8a7d6e5f4c3b2a190"]),
]
EndReason = Literal["ended", "rejected", "timeout", "disconnected", "answered_elsewhere"]


def _small_signal(value: Any) -> Any:
    """Signalling data of at most 64 KiB as JSON (an SDP is a few KiB, a candidate less)."""
    if value is None:
        raise refuse("must be given")
    if len(json.dumps(value, separators=(",", ":")).encode()) > SIGNAL_MAX_BYTES:
        raise refuse("must be at most 64 KiB")
    return value


# Client -> server


class CallInvite(ClientPayload, CamelInput):
    """Call a user: an admin may call anyone, a user only admins."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"toUserId": 3, "kind": "video"}]})
    invalid: ClassVar[str] = "Invalid toUserId"

    to_user_id: PositiveId
    kind: CallKind = Field(
        description="What the caller sends: camera and microphone, microphone only, "
        "or its screen and microphone; either side may switch camera and screen later"
    )


class CallRef(ClientPayload, CamelInput):
    """One call, by the id call_invite answered."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"callId": "call_5f0c1d2e3b4a49c8a7d6e5f4c3b2a190"}]}
    )
    invalid: ClassVar[str] = "Invalid callId"

    call_id: CallId


class CallSignal(ClientPayload, CamelInput):
    """WebRTC signalling for the other party: an SDP offer or answer, or an ICE candidate."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "callId": "call_5f0c1d2e3b4a49c8a7d6e5f4c3b2a190",
                    "data": {"description": {"type": "offer", "sdp": "v=0..."}},
                }
            ]
        }
    )
    invalid: ClassVar[str] = "Invalid callId"

    call_id: CallId
    data: Annotated[
        Any,
        AfterValidator(_small_signal),
        Field(description="Any JSON value, at most 64 KiB serialized; relayed as it is"),
    ]


class CallInvited(CamelModel):
    """The ack of an accepted call_invite: the new call's id."""

    ok: Literal[True] = True
    call_id: str = Field(examples=["call_5f0c1d2e3b4a49c8a7d6e5f4c3b2a190"])


# Server -> client


class CallIncoming(CamelModel):
    """Someone is calling: ring, then call_accept or call_reject."""

    call_id: str
    from_user_id: int
    from_name: str
    kind: CallKind


class CallAccepted(CamelModel):
    """The callee answered: the caller now sends its offer through call_signal."""

    call_id: str
    by_user_id: int


class CallSignalEvent(CamelModel):
    """Signalling from the other party of a call, relayed as it was sent."""

    call_id: str
    from_user_id: int
    data: Any


class CallEnded(CamelModel):
    """The call is over (or, with answered_elsewhere, was answered on another socket)."""

    call_id: str
    reason: EndReason


CALL_SERVER_EVENTS = (
    ServerEvent("call_incoming", CallIncoming, "every socket of the callee (`user:<id>`)"),
    ServerEvent("call_accepted", CallAccepted, "the caller's calling socket"),
    ServerEvent("call_signal", CallSignalEvent, "the other party's socket in the call only"),
    ServerEvent(
        "call_ended",
        CallEnded,
        "both parties' sockets in the call (while ringing, every socket of the callee); "
        "`answered_elsewhere` to the callee's other sockets when one of them accepts",
    ),
)


# REST


class IceServer(BaseModel):
    """One entry of RTCConfiguration.iceServers."""

    model_config = ConfigDict(json_schema_extra={"additionalProperties": False})

    urls: list[str] = Field(examples=[["turn:turn.example.com:3478?transport=udp"]])
    username: str | None = Field(None, examples=["1764500000:12"], exclude_if=lambda v: v is None)
    credential: str | None = Field(
        None, examples=["m9Qz1kPjv0b3G4yq8bZQyRZ0x2c="], exclude_if=lambda v: v is None
    )


class IceServers(CamelModel):
    """What `new RTCPeerConnection({iceServers})` takes; TURN credentials expire with `ttl`."""

    ice_servers: list[IceServer]
    ttl: int = Field(description="Seconds the TURN credentials stay valid", examples=[86400])
