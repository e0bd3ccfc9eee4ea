import pytest

from signaling.room import Room, RoomError
from signaling.tokens import JoinClaims


def claims(seat: str, role: str, side: str | None = None, name: str | None = None) -> JoinClaims:
    return JoinClaims(room="r", seat=seat, role=role, side=side, name=name or seat, iat=0, exp=10**10)


@pytest.fixture
def room() -> Room:
    r = Room(room_id="r", case_id="C-1")
    r.join(claims("m", "mediator"))
    for seat, role, side in [("a", "party", "applicant"), ("aa", "agent", "applicant"),
                             ("b", "party", "respondent"), ("o", "observer", None)]:
        r.join(claims(seat, role, side))
    return r


def test_everyone_but_the_mediator_waits_in_the_lobby(room):
    assert room.seats["m"].state == "admitted"
    assert {s.state for k, s in room.seats.items() if k != "m"} == {"lobby"}
    assert not room.may_forward("a", "m", "video")
    snap = room.snapshot_for("a")
    assert snap["participants"] == [] and snap["you"]["state"] == "lobby"
    assert {p["seat"] for p in room.snapshot_for("m")["participants"]} == {"m", "a", "aa", "b", "o"}


def test_admit_one_then_all(room):
    assert room.admit("m", "a") == ["a"]
    assert room.may_forward("a", "m", "video") and room.may_forward("m", "a", "audio")
    assert not room.may_forward("a", "b", "video")
    assert sorted(room.admit("m")) == ["aa", "b", "o"]
    with pytest.raises(RoomError) as err:
        room.admit("m", "a")
    assert err.value.code == "not_in_lobby"


def test_only_the_mediator_moderates(room):
    room.admit("m")
    for action in (lambda: room.admit("a"), lambda: room.set_mute("a", "b", "audio", True),
                   lambda: room.remove("b", "a"), lambda: room.start_caucus("aa", "applicant"),
                   lambda: room.end("o")):
        with pytest.raises(RoomError) as err:
            action()
        assert err.value.code == "forbidden"


def test_server_mute_stops_one_kind(room):
    room.admit("m")
    room.set_mute("m", "b", "audio", True)
    assert not room.may_forward("a", "b", "audio")
    assert room.may_forward("a", "b", "video")
    room.set_mute("m", "b", "audio", False)
    assert room.may_forward("a", "b", "audio")


def test_observer_is_view_only_until_permitted(room):
    room.admit("m")
    assert room.may_forward("o", "a", "video")
    assert not room.may_forward("a", "o", "video")
    with pytest.raises(RoomError):
        room.chat_recipients("o")
    room.permit("m", "o", True)
    assert room.may_forward("a", "o", "audio")


def test_caucus_isolates_one_side_with_the_mediator(room):
    room.admit("m")
    room.start_caucus("m", "applicant")
    assert room.may_forward("a", "m", "video") and room.may_forward("aa", "a", "audio")
    for inside in ("m", "a", "aa"):
        for outside in ("b", "o"):
            for kind in ("audio", "video"):
                assert not room.may_forward(outside, inside, kind)
                assert not room.may_forward(inside, outside, kind)
    assert room.chat_recipients("a") == ("caucus", ["m", "a", "aa"])
    with pytest.raises(RoomError) as waiting:  # the waiting side cannot chat: nobody would hear it
        room.chat_recipients("b")
    assert waiting.value.code == "caucus_waiting"
    assert room.snapshot_for("b")["you"]["waiting_for_caucus"] is True
    room.end_caucus("m")
    assert room.may_forward("b", "a", "video")
    assert room.chat_recipients("a")[0] == "room"


def test_disconnect_keeps_the_seat_and_rejoin_restores_it(room):
    room.admit("m")
    room.disconnect("a", now=100.0)
    assert room.seats["a"].state == "reconnecting"
    assert room.expire_reconnecting(grace=60, now=150.0) == []
    room.join(claims("a", "party", "applicant"))
    assert room.seats["a"].state == "admitted"


def test_reconnecting_seat_leaves_after_the_grace_period_but_the_mediator_is_waited_for(room):
    room.admit("m")
    room.disconnect("a", now=100.0)
    room.disconnect("m", now=100.0)
    assert room.expire_reconnecting(grace=60, now=161.0) == ["a"]
    assert "a" not in room.seats and room.seats["m"].state == "reconnecting"
    assert not room.mediator_present
    room.join(claims("m", "mediator"))
    assert room.mediator_present


def test_lobby_disconnect_just_forgets(room):
    room.disconnect("b")
    assert "b" not in room.seats


def test_removed_participant_cannot_come_back(room):
    room.admit("m")
    room.remove("m", "b")
    assert not room.may_forward("a", "b", "video")
    with pytest.raises(RoomError) as err:
        room.join(claims("b", "party", "respondent"))
    assert err.value.code == "forbidden"


def test_caucus_ends_when_its_side_is_gone(room):
    room.admit("m")
    room.start_caucus("m", "respondent")
    room.remove("m", "b")
    assert room.caucus_side is None


def test_ended_room_refuses_joins_and_forwards_nothing(room):
    room.admit("m")
    room.end("m")
    assert not room.may_forward("a", "m", "video")
    with pytest.raises(RoomError) as err:
        room.join(claims("x", "party", "applicant"))
    assert err.value.code == "room_ended"


def test_unknown_seat_and_bad_kind(room):
    with pytest.raises(RoomError) as err:
        room.set_mute("m", "nobody", "audio", True)
    assert err.value.code == "unknown_seat"
    with pytest.raises(RoomError):
        room.set_mute("m", "a", "smell", True)


def _view(snapshot, seat):
    return next(p for p in snapshot["participants"] if p["seat"] == seat)


def test_the_waiting_side_does_not_see_caucus_members_switch_their_media(room):
    room.admit("m")
    room.set_self_media("a", True, True)
    room.set_mute("m", "aa", "audio", True)
    room.start_caucus("m", "applicant")
    before = room.snapshot_for("b")
    assert before["you"]["waiting_for_caucus"]
    assert not _view(before, "a")["audio"] and not _view(before, "a")["video"]
    assert _view(before, "aa")["muted_by_mediator"] == {"audio": False, "video": False}
    room.set_self_media("a", False, True)
    room.set_self_media("a", True, False)
    assert room.snapshot_for("b") == before  # nothing the waiting side receives changed
    own = room.snapshot_for("o")
    assert own == room.shared_snapshot("waiting") | {"you": own["you"], "recording": own["recording"]}
    assert own["recording"] == room.shared_snapshot("waiting")["recording"] | {"your_consent": "pending"}
    assert _view(room.snapshot_for("m"), "a")["audio"] is True  # the mediator moderates: sees all
    assert _view(room.snapshot_for("aa"), "a")["audio"] is True  # the caucus sees its own members
    room.end_caucus("m")
    assert _view(room.snapshot_for("b"), "a")["audio"] is True and _view(room.snapshot_for("b"), "aa")[
        "muted_by_mediator"]["audio"] is True


def test_members_of_a_group_share_one_snapshot(room):
    room.admit("m")
    shared = room.shared_snapshot("joint")
    for seat in ("a", "aa", "b", "o"):
        assert room.audience_of(seat) == "joint"
        own = room.snapshot_for(seat)
        assert own | {"you": None, "recording": shared["recording"]} == shared
        assert own["recording"] == shared["recording"] | {"your_consent": "pending"}
    assert room.audience_of("m") is None
