"""Offer/answer rules of the router: glare, bad SDP, answers without offers, resets."""

from __future__ import annotations

import re

import pytest

from rtc.errors import GlareError, NoOfferPendingError, SdpError
from rtc.router import MediaRouter
from rtc_test_clients import TestClient, TestRoom, wait_for
from tests.support.loopback_media import NETWORK as LOOPBACK

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
async def room():
    room = TestRoom()
    yield room
    await room.close()


class ManualSignaling:
    """Records the router's requests instead of answering them, to hold an offer open."""

    def __init__(self) -> None:
        self.offer_needed: list[str] = []
        self.router = MediaRouter([], network=LOOPBACK, policy=lambda s, p, k: True, on_offer_needed=self._offer_needed)

    async def _offer_needed(self, seat: str) -> None:
        self.offer_needed.append(seat)


async def connect(router: MediaRouter, client: TestClient) -> None:
    answer = await router.accept_offer(client.seat, await client.create_offer(), reset=True)
    await client.accept_answer(answer)


async def test_client_offer_while_server_offer_outstanding_is_glare() -> None:
    signaling = ManualSignaling()
    router = signaling.router
    alice, bob = TestClient("alice"), TestClient("bob")
    try:
        await connect(router, alice)
        await connect(router, bob)
        await wait_for(lambda: "alice" in signaling.offer_needed, 10, "the router to want to re-offer to alice")
        server_offer = await router.make_offer("alice")
        assert server_offer is not None
        assert await router.make_offer("alice") is None, "a second offer while one is outstanding"

        client_offer = (await alice.pc.createOffer()).sdp
        with pytest.raises(GlareError) as refused:
            await router.accept_offer("alice", client_offer)
        assert refused.value.code == "glare"

        # The polite client rolls back and answers: the server's offer survived the glare.
        await router.accept_answer("alice", await alice.answer_offer(server_offer))
        video_mid = next(e["mid"] for e in router.track_map("alice") if e["kind"] == "video")
        await wait_for(lambda: sum(r.frames for r in alice.received if r.mid == video_mid) > 5, 10, "alice to see bob")
        with pytest.raises(NoOfferPendingError) as late:
            await router.accept_answer("alice", alice.pc.localDescription.sdp)
        assert late.value.code == "no_offer_pending"
    finally:
        await router.close()
        await alice.close()
        await bob.close()


async def test_answer_without_offer_and_unknown_seat_are_refused(room: TestRoom) -> None:
    alice = await room.join("alice")
    with pytest.raises(NoOfferPendingError):
        await room.router.accept_answer("alice", alice.pc.localDescription.sdp)
    with pytest.raises(NoOfferPendingError):
        await room.router.accept_answer("nobody", alice.pc.localDescription.sdp)
    assert await room.router.make_offer("nobody") is None
    assert room.router.track_map("nobody") == []


def without_lines(sdp: str, prefix: str) -> str:
    return "".join(line for line in sdp.splitlines(keepends=True) if not line.startswith(prefix))


async def test_invalid_offers_are_refused_precisely_and_the_room_keeps_working(room: TestRoom) -> None:
    await room.join("alice")
    await room.join("bob")
    await wait_for(lambda: room.frames_from("bob", "alice", "video") >= 5, 15, "bob to see alice")
    carol = TestClient("carol")
    good = await carol.create_offer()
    cases = {
        "garbage": ("v=0\r\nthis is not sdp", "no media section"),
        "bad port": (re.sub(r"m=video \d+", "m=video x", good), "cannot be parsed"),
        "empty": ("", "empty"),
        "not text": (b"v=0", "not a string"),
        "no ufrag": (without_lines(good, "a=ice-ufrag"), "ice-ufrag"),
        "no vp8": (without_lines(good, "a=rtpmap:97 VP8").replace(" 97 98 ", " 99 100 "), "VP8"),
        "no mux": (without_lines(good, "a=rtcp-mux"), "rtcp-mux"),
        "no bundle": (without_lines(good, "a=group:BUNDLE"), "BUNDLE"),
        "huge": (good + "a=x-padding:" + "x" * 70_000 + "\r\n", "characters"),
    }
    for name, (sdp, expected) in cases.items():
        with pytest.raises(SdpError) as refused:
            await room.router.accept_offer("carol", sdp, reset=True)  # type: ignore[arg-type]
        assert expected in refused.value.message, f"{name}: {refused.value.message}"
        assert refused.value.code == "invalid_sdp"
        # renegotiation offers on a live peer are refused the same way and change nothing
        with pytest.raises(SdpError):
            await room.router.accept_offer("alice", sdp)  # type: ignore[arg-type]
    await carol.close()
    alice_sdp = room.clients["alice"].pc.localDescription.sdp
    ufrag = re.search(r"a=ice-ufrag:(\S+)", alice_sdp).group(1)
    with pytest.raises(SdpError, match="ICE restart"):
        await room.router.accept_offer("alice", alice_sdp.replace(ufrag, "restarted"))

    assert room.router.stats().peers == 2
    before = room.frames_from("bob", "alice", "video")
    await wait_for(lambda: room.frames_from("bob", "alice", "video") > before + 10, 10, "forwarding to continue")
    # alice's peer still negotiates: a renegotiation with her current description works
    async with room.clients["alice"].lock:
        answer = await room.router.accept_offer("alice", await room.clients["alice"].create_offer())
        await room.clients["alice"].accept_answer(answer)
    before = room.frames_from("alice", "bob", "video")
    await wait_for(lambda: room.frames_from("alice", "bob", "video") > before + 10, 10, "alice to keep receiving")


async def test_reset_replaces_the_peer_and_subscribers_keep_a_monotonic_stream(room: TestRoom) -> None:
    await room.join("alice")
    await room.join("bob")
    await wait_for(lambda: room.frames_from("bob", "alice", "video") >= 10, 15, "bob to see alice")
    mid = next(e["mid"] for e in room.router.track_map("bob") if e["kind"] == "video")
    before = room.clients["bob"].by_mid(mid).frames

    old = room.clients["alice"]
    await room.join("alice")  # a reload: new client, reset=True
    await old.close()
    await wait_for(lambda: room.clients["bob"].by_mid(mid).frames > before + 20, 15, "bob to see the new alice")
    await wait_for(lambda: room.frames_from("alice", "bob", "video") >= 10, 15, "the new alice to see bob")
    pts = room.clients["bob"].by_mid(mid).pts
    assert all(b > a for a, b in zip(pts, pts[1:]))
    assert room.router.stats().peers == 2
