import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from signaling import events as ev


@pytest.mark.parametrize("model,data", [
    (ev.Join, {"token": "x"}),
    (ev.Offer, {"sdp": "v=0", "reset": True}),
    (ev.Admit, {"all": True}),
    (ev.Admit, {"seat": "s_1"}),
    (ev.Mute, {"seat": "s_1", "kind": "video", "muted": True}),
    (ev.CaucusStart, {"side": "respondent"}),
    (ev.ChatSend, {"text": "你好"}),
])
def test_valid_payloads(model, data):
    model.model_validate(data)


@pytest.mark.parametrize("model,data", [
    (ev.Join, {}),
    (ev.Join, {"token": "x", "role": "mediator"}),       # unknown field
    (ev.Offer, {"sdp": "v" * (ev.MAX_SDP_LENGTH + 1)}),
    (ev.Admit, {}),
    (ev.Admit, {"seat": "s", "all": True}),
    (ev.Mute, {"seat": "s", "kind": "smell", "muted": True}),
    (ev.CaucusStart, {"side": "mediator"}),
    (ev.ChatSend, {"text": "   "}),
    (ev.ChatSend, {"text": "x" * 2001}),
])
def test_invalid_payloads(model, data):
    with pytest.raises(ValidationError):
        model.model_validate(data)


MODELS = [ev.Join, ev.Leave, ev.Offer, ev.Answer, ev.MediaState, ev.ChatSend, ev.Admit, ev.Mute, ev.Permit,
          ev.Remove, ev.End, ev.CaucusStart, ev.CaucusEnd]
json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                           max_leaves=10)


@given(st.sampled_from(MODELS), json_values)
def test_any_json_is_either_valid_or_a_validation_error(model, data):
    try:
        model.model_validate(data)
    except ValidationError:
        pass
