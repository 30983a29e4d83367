"""The signalling messages of a video call, as they travel over the WebSocket (docs/video.md).

A browser sends JSON text frames, each one of the kinds below; the server checks each against its bounds,
re-serialises only the fields named here, adds who sent it (``from``: ``patient`` or ``provider``) and
relays it to the other side. Anything else (not JSON, an unknown kind, a field out of bounds) is answered
with an ``error`` message and relayed to nobody.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

# A frame larger than this closes the socket (1009). An SDP of a two-track call is a few KB.
MAX_FRAME_BYTES = 64 * 1024
MAX_SDP_CHARS = 60_000
MAX_CHAT_CHARS = 2000


class _Message(BaseModel):
    # Unknown fields are dropped, never relayed: only what is declared here leaves the server.
    model_config = ConfigDict(extra="ignore", frozen=True)


class Hello(_Message):
    """I am here (and whether my camera and microphone work); the provider answers with an offer."""

    type: Literal["hello"]
    media: bool = True


class Description(_Message):
    """An SDP offer (always from the provider) or answer (from the patient)."""

    type: Literal["offer", "answer"]
    sdp: str = Field(min_length=1, max_length=MAX_SDP_CHARS)
    # Which offer of the provider this is (or answers): an answer to an older offer is ignored.
    call: int | None = Field(default=None, ge=0, le=2**31)


class IceCandidate(BaseModel):
    """``RTCIceCandidate.toJSON()``."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    candidate: str = Field(max_length=2048)
    sdpMid: str | None = Field(default=None, max_length=64)  # the browser's names
    sdpMLineIndex: int | None = Field(default=None, ge=0, le=255)
    usernameFragment: str | None = Field(default=None, max_length=256)


class Candidate(_Message):
    """A trickled ICE candidate; ``null`` says the sender has no more."""

    type: Literal["candidate"]
    candidate: IceCandidate | None = None


class Chat(_Message):
    """A line of text chat: beside the video, and what is left when media fails."""

    type: Literal["chat"]
    text: str = Field(min_length=1, max_length=MAX_CHAT_CHARS)


class Bye(_Message):
    """I am leaving the call (the server says it for a side whose socket closed)."""

    type: Literal["bye"]


SignallingMessage = Annotated[Hello | Description | Candidate | Chat | Bye, Field(discriminator="type")]
_signalling = TypeAdapter(SignallingMessage)


class InvalidMessage(Exception):
    """A frame that is not one of the messages above."""


def parse_message(text: str) -> dict[str, Any]:
    """The frame as the message the server relays (declared fields only), or ``InvalidMessage``."""
    try:
        message = _signalling.validate_python(json.loads(text))
    except (ValueError, RecursionError, ValidationError):
        raise InvalidMessage from None
    if isinstance(message, Chat) and not message.text.strip():
        raise InvalidMessage
    return message.model_dump(mode="json", exclude_none=False)


def invalid_message_notice() -> dict[str, str]:
    return {
        "type": "error",
        "code": "invalid_message",
        "message": "That message was not understood and was not sent.",
    }
