"""The call events' payload models: what they accept and refuse, without a server."""

import json

import pytest
from pydantic import ValidationError

from app.schemas.calls import SIGNAL_MAX_BYTES, CallInvite, CallSignal

CALL_ID = "call_" + "ab" * 16


def signal_of_size(size: int) -> dict:
    """A call_signal whose data serializes to exactly `size` bytes of JSON."""
    padding = size - len(json.dumps("", separators=(",", ":")))
    return {"callId": CALL_ID, "data": "x" * padding}


def test_signal_data_up_to_64_kib_is_relayed_and_no_more():
    assert CallSignal.model_validate(signal_of_size(SIGNAL_MAX_BYTES)).data
    with pytest.raises(ValidationError) as refused:
        CallSignal.model_validate(signal_of_size(SIGNAL_MAX_BYTES + 1))
    assert refused.value.errors()[0]["loc"] == ("data",)


def test_signal_data_is_any_json_but_must_be_given():
    for data in ({"candidate": None}, "text", [1, 2], 0, False):
        assert CallSignal.model_validate({"callId": CALL_ID, "data": data}).data == data
    for payload in ({"callId": CALL_ID}, {"callId": CALL_ID, "data": None}):
        with pytest.raises(ValidationError):
            CallSignal.model_validate(payload)


def test_invite_takes_camel_case_keys_and_the_three_kinds():
    assert CallInvite.model_validate({"toUserId": 3, "kind": "screen"}).to_user_id == 3
    for payload in ({"to_user_id": 3, "kind": "audio"}, {"toUserId": 3, "kind": "fax"}):
        with pytest.raises(ValidationError):
            CallInvite.model_validate(payload)
