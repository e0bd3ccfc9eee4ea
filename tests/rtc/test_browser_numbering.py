"""A participant that numbers codecs and header extensions like Chrome, not like aiortc.

aiortc's ``createOffer`` would renumber every section with its defaults (opus 96, VP8 97,
rtx 98; mid 1, audio-level 2, abs-send-time 3). Chrome refuses such a re-offer, and media
renumbered after it started is dropped, so the server must keep the client's numbers.
"""

from __future__ import annotations

import pytest
from aiortc import sdp
from aiortc.rtcrtpparameters import RTCRtpCodecParameters, RTCRtpHeaderExtensionParameters
from hypothesis import given, settings
from hypothesis import strategies as st

from rtc.aiortc_hooks import NumberingExhaustedError, RtpNumbering
from rtc.errors import SdpError
from rtc_test_clients import TestRoom, wait_for

pytestmark = pytest.mark.timeout(90)

MID = "urn:ietf:params:rtp-hdrext:sdes:mid"
AUDIO_LEVEL = "urn:ietf:params:rtp-hdrext:ssrc-audio-level"
ABS_SEND_TIME = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
TRANSPORT_CC = "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"

# aiortc's default payload type -> Chrome's (opus, VP8 + rtx, two H.264 + rtx).
CHROME_PAYLOAD_TYPES = {96: 111, 97: 96, 98: 97, 99: 102, 100: 103, 101: 127, 102: 125}
CHROME_EXTENSION_IDS = {AUDIO_LEVEL: 1, ABS_SEND_TIME: 2, TRANSPORT_CC: 3, MID: 4}
EXPECTED_PAYLOAD_TYPES = {"audio/opus": 111, "video/VP8": 96, "video/rtx": 97}


def number_like_chrome(text: str) -> str:
    """The aiortc client's offer with Chrome's numbers, plus transport-cc (aiortc ignores it)."""
    description = sdp.SessionDescription.parse(text)
    for media in description.media:
        for codec in media.rtp.codecs:
            codec.payloadType = CHROME_PAYLOAD_TYPES.get(codec.payloadType, codec.payloadType)
            if "apt" in codec.parameters:
                codec.parameters["apt"] = CHROME_PAYLOAD_TYPES[codec.parameters["apt"]]  # type: ignore[index]
        media.fmt = [codec.payloadType for codec in media.rtp.codecs]
        uris = [extension.uri for extension in media.rtp.headerExtensions] + [TRANSPORT_CC]
        media.rtp.headerExtensions = [
            RTCRtpHeaderExtensionParameters(id=CHROME_EXTENSION_IDS[uri], uri=uri) for uri in uris
        ]
    return str(description)


def numbering_problems(kind: str, text: str) -> list[str]:
    """Every codec or extension in a server description that is not numbered like Chrome."""
    problems = []
    for media in sdp.SessionDescription.parse(text).media:
        where = f"{kind} mid {media.rtp.muxId}"
        for codec in media.rtp.codecs:
            expected = EXPECTED_PAYLOAD_TYPES.get(codec.mimeType)
            if codec.payloadType != expected:
                problems.append(f"{where}: {codec.mimeType} has payload type {codec.payloadType}")
            if codec.mimeType == "video/rtx" and codec.parameters.get("apt") != 96:
                problems.append(f"{where}: rtx apt={codec.parameters.get('apt')}")
        for extension in media.rtp.headerExtensions:
            if CHROME_EXTENSION_IDS.get(extension.uri) != extension.id:
                problems.append(f"{where}: {extension.uri} has id {extension.id}")
    return problems


def all_routes_flow(room: TestRoom, frames: dict[tuple[str, str, str], int], more: int) -> bool:
    return all(room.frames_from(s, p, k) >= count + more for (s, p, k), count in frames.items())


async def test_server_keeps_the_numbers_a_chrome_like_client_chose() -> None:
    room = TestRoom()
    try:
        alice = await room.join("alice", rewrite_offer=number_like_chrome)
        first_offer = sdp.SessionDescription.parse(alice.pc.localDescription.sdp)
        assert [c.payloadType for c in first_offer.media[1].rtp.codecs][:2] == [96, 97], "rewrite did not apply"
        # alice's senders start with her own numbers before any re-offer, as a browser's do
        await wait_for(lambda: room.router.stats().packets_in >= 50, 15, "the server to receive alice's media")
        await room.join("bob")
        await room.join("carol")

        routes = {
            (subscriber, publisher, kind): 0
            for subscriber in room.clients
            for publisher in room.clients
            if publisher != subscriber
            for kind in ("audio", "video")
        }
        await wait_for(lambda: all_routes_flow(room, routes, 20), 30, "every route, alice's included, to carry media")
        assert room.offers_sent.get("alice", 0) >= 2, "alice should have had re-offers for bob and carol"

        offers = [text for kind, text in alice.server_descriptions if kind == "offer"]
        last = sdp.SessionDescription.parse(offers[-1])
        assert [m.direction for m in last.media].count("sendonly") == 4, "two send slots per other publisher"

        # Media keeps flowing after the re-offers were applied (renumbering broke it only then).
        routes = {route: room.frames_from(*route) for route in routes}
        await wait_for(lambda: all_routes_flow(room, routes, 25), 20, "media to keep flowing after renegotiation")
        assert room.router.stats().decoders_created == 0
        problems = [p for kind, text in alice.server_descriptions for p in numbering_problems(kind, text)]
        assert problems == []

        # alice's own re-offer: refused with aiortc's numbering, answered in hers.
        async with alice.lock:
            with pytest.raises(SdpError, match="other numbers") as refused:
                await room.router.accept_offer("alice", (await alice.pc.createOffer()).sdp)
            assert "a=rtpmap:96 opus" in refused.value.message
            await alice.accept_answer(await room.router.accept_offer("alice", await alice.create_offer()))
        assert numbering_problems("answer", alice.server_descriptions[-1][1]) == []
        routes = {route: room.frames_from(*route) for route in routes}
        await wait_for(lambda: all_routes_flow(room, routes, 25), 20, "media to keep flowing after alice's re-offer")
    finally:
        await room.close()


# -- RtpNumbering on its own ------------------------------------------------------------

AIORTC_OPUS = RTCRtpCodecParameters(mimeType="audio/opus", clockRate=48000, channels=2, payloadType=96)
AIORTC_VP8 = RTCRtpCodecParameters(mimeType="video/VP8", clockRate=90000, payloadType=97)
AIORTC_RTX = RTCRtpCodecParameters(mimeType="video/rtx", clockRate=90000, payloadType=98, parameters={"apt": 97})
URIS = {"audio": [MID, AUDIO_LEVEL], "video": [MID, ABS_SEND_TIME]}


def section(kind: str, codecs: list[RTCRtpCodecParameters], extensions: dict[str, int]) -> sdp.MediaDescription:
    media = sdp.MediaDescription(kind=kind, port=9, profile="UDP/TLS/RTP/SAVPF", fmt=[c.payloadType for c in codecs])
    media.rtp.codecs = codecs
    media.rtp.headerExtensions = [RTCRtpHeaderExtensionParameters(id=i, uri=uri) for uri, i in extensions.items()]
    return media


def offered(kind: str, numbering: RtpNumbering) -> tuple[list[RTCRtpCodecParameters], dict[str, int]]:
    """What a server section of ``kind`` offers: aiortc's defaults, renumbered."""
    defaults = [AIORTC_OPUS] if kind == "audio" else [AIORTC_VP8, AIORTC_RTX]
    extensions = [RTCRtpHeaderExtensionParameters(id=n, uri=uri) for n, uri in enumerate(URIS[kind], 1)]
    codecs = numbering.number_codecs(kind, defaults)
    return codecs, {e.uri: e.id for e in numbering.number_extensions(extensions)}


@settings(max_examples=200, deadline=None)
@given(
    payload_types=st.lists(st.integers(96, 127), min_size=6, max_size=20, unique=True),
    extension_ids=st.lists(st.integers(1, 14), min_size=4, max_size=4, unique=True),
    offers_video=st.booleans(),
)
def test_numbering_reuses_the_clients_numbers_and_never_collides(
    payload_types: list[int], extension_ids: list[int], offers_video: bool
) -> None:
    opus, vp8, rtx, *others = payload_types
    ids = dict(zip([MID, AUDIO_LEVEL, ABS_SEND_TIME, TRANSPORT_CC], extension_ids))
    audio_codecs = [RTCRtpCodecParameters(mimeType="audio/opus", clockRate=48000, channels=2, payloadType=opus)]
    audio_codecs += [RTCRtpCodecParameters(mimeType="audio/x-other", clockRate=8000, payloadType=pt) for pt in others]
    description = sdp.SessionDescription()
    description.media.append(section("audio", audio_codecs, {u: ids[u] for u in (MID, AUDIO_LEVEL, TRANSPORT_CC)}))
    if offers_video:
        video_codecs = [
            RTCRtpCodecParameters(mimeType="video/VP8", clockRate=90000, payloadType=vp8),
            RTCRtpCodecParameters(mimeType="video/rtx", clockRate=90000, payloadType=rtx, parameters={"apt": vp8}),
        ]
        description.media.append(section("video", video_codecs, {u: ids[u] for u in (MID, ABS_SEND_TIME)}))
    client_pts = {c.payloadType for m in description.media for c in m.rtp.codecs}
    client_ids = {e.uri: e.id for m in description.media for e in m.rtp.headerExtensions}
    numbering = RtpNumbering()
    numbering.learn(description)

    audio, audio_ids = offered("audio", numbering)
    video, video_ids = offered("video", numbering)
    assert [c.payloadType for c in audio] == [opus]
    if offers_video:
        assert [c.payloadType for c in video] == [vp8, rtx]
    else:
        assert not {c.payloadType for c in video} & client_pts and video[0].payloadType != video[1].payloadType
    assert video[1].parameters["apt"] == video[0].payloadType
    numbered_ids = {**audio_ids, **video_ids}
    for uri, number in numbered_ids.items():
        assert number == client_ids[uri] if uri in client_ids else number not in client_ids.values()
    assert len(set(numbered_ids.values())) == len(numbered_ids), "one id per extension in the BUNDLE"
    # the next offer numbers everything the same way
    assert offered("audio", numbering) == (audio, audio_ids) and offered("video", numbering) == (video, video_ids)

    # the client's own numbers again are no renumbering; moving opus or mid is
    assert numbering.renumbering(description) == []
    free_pt = min(set(range(96, 128)) - set(payload_types))
    free_id = min(set(range(1, 15)) - set(extension_ids))
    description.media[0].rtp.codecs[0].payloadType = free_pt
    description.media[0].rtp.headerExtensions[0].id = free_id
    assert numbering.renumbering(description) == [f"a=extmap:{free_id} {MID}", f"a=rtpmap:{free_pt} opus"]


def test_numbering_says_when_no_number_is_left() -> None:
    description = sdp.SessionDescription()
    audio = [RTCRtpCodecParameters(mimeType="audio/x-other", clockRate=8000, payloadType=pt) for pt in range(96, 128)]
    description.media.append(section("audio", audio, {f"urn:x:{i}": i for i in range(1, 15)}))
    numbering = RtpNumbering()
    numbering.learn(description)
    with pytest.raises(NumberingExhaustedError, match="payload type"):
        numbering.number_codecs("video", [AIORTC_VP8])
    with pytest.raises(NumberingExhaustedError, match="header extension id"):
        numbering.number_extensions([RTCRtpHeaderExtensionParameters(id=1, uri=MID)])
