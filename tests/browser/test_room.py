"""A mediator and two parties in three real Chromium browsers, through the real server.

The tests run in file order and share one room and the three browsers (launching browsers is
the expensive part on two cores): admission, then media between everyone, caucus, server-side
mute, rejoin, and removal last. Each test brings the room to the state it needs first, so a
test run alone (``-k``) still checks what its name says.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator

import pytest

from tests.support.fake_microphone import make_fake_microphone

from .conftest import BrowserFactory, Participant, RunningServer, expect_flowing, expect_silent

pytestmark = pytest.mark.browser

# Installed in every page: the descriptions Chrome applies, local and remote, in order, and
# the peer connections that applied them.
SDP_RECORDER = """(() => {
  const log = (window.__sdpLog = []);
  const peers = (window.__peers = new Set());
  for (const [name, side] of [["setLocalDescription", "local"], ["setRemoteDescription", "remote"]]) {
    const original = RTCPeerConnection.prototype[name];
    RTCPeerConnection.prototype[name] = async function (description) {
      const result = await original.apply(this, arguments);
      peers.add(this);
      const applied = side === "local" ? this.localDescription : this.remoteDescription;
      if (applied && description?.type !== "rollback") log.push({ side, type: applied.type, sdp: applied.sdp });
      return result;
    };
  }
})();"""

@dataclass
class Meeting:
    room_id: str
    mediator: Participant
    applicant: Participant
    respondent: Participant

    @property
    def everyone(self) -> list[Participant]:
        return [self.mediator, self.applicant, self.respondent]

    def parties(self) -> list[Participant]:
        return [self.applicant, self.respondent]

    def ensure_admitted(self) -> None:
        """Admit whoever still waits in the lobby, through the mediator's console."""
        for party in self.parties():
            if party.page is None or party.page.is_closed():
                party.open().join()
        lobby_waiting = "s.participants.some(p => p.state === 'lobby')"
        self.mediator.wait_state("s.participants.length >= 3")
        if self.mediator.page.evaluate(
            f"(() => {{ const s = window.accord.state(); return {lobby_waiting}; }})()"
        ):
            self.mediator.page.click("button[data-action='admit-all']")
        for party in self.parties():
            party.wait_state("s.you.state === 'admitted'")


@pytest.fixture(scope="module")
def meeting(accord_server: RunningServer, browsers: BrowserFactory, tmp_path_factory: pytest.TempPathFactory,
            ) -> Iterator[Meeting]:
    """The applicant's microphone plays a steady tone (the one who speaks), the others' silence."""
    room_id = accord_server.create_room("(2026)京0105民调123号")
    sounds = tmp_path_factory.mktemp("microphones")
    people = {}
    for label, role, name, side in [
        ("mediator", "mediator", "王调解员", None),
        ("applicant", "party", "张三", "applicant"),
        ("respondent", "party", "李四", "respondent"),
    ]:
        invite = accord_server.invite(room_id, role, name, side)
        microphone = make_fake_microphone(sounds / f"{label}.wav", loud=label == "applicant")
        context = browsers.launch(microphone)
        context.add_init_script(SDP_RECORDER)
        context.add_init_script(SPEAKER_RECORDER)
        people[label] = Participant(label, context, accord_server.join_url(invite["token"]))
    meeting = Meeting(room_id, **people)
    meeting.mediator.open().join()
    meeting.mediator.wait_state("s.you.state === 'admitted'")
    yield meeting


def seats_of(meeting: Meeting, *labels: str) -> dict[str, str]:
    by_label = {p.label: p for p in meeting.everyone}
    return {by_label[label].seat: label for label in labels}


def test_admission_from_the_lobby(meeting: Meeting, screenshots: list[Participant]) -> None:
    screenshots.extend(meeting.everyone)
    mediator, applicant, respondent = meeting.everyone
    for party in meeting.parties():
        party.open()
        party.page.wait_for_selector("#join:not([disabled])")
        party.screenshot("prejoin")
        party.join()
        party.wait_state("s.you.state === 'lobby'")
        party.screenshot("lobby")
        assert party.page.locator("#lobby").is_visible()
        assert "等待调解员准许进入" in party.page.inner_text("#lobby")
        assert party.state()["participants"] == []  # the lobby sees nobody

    mediator.wait_state("s.participants.filter(p => p.state === 'lobby').length === 2")
    lobby = mediator.page.locator("#lobby-list")
    assert "张三" in lobby.inner_text() and "李四" in lobby.inner_text()

    mediator.page.click(f"button[data-action='admit'][data-seat='{applicant.seat}']")
    applicant.wait_state("s.you.state === 'admitted'")
    applicant.page.wait_for_selector("#room:not([hidden])")
    assert respondent.state()["you"]["state"] == "lobby"

    mediator.page.click("button[data-action='admit-all']")
    respondent.wait_state("s.you.state === 'admitted'")
    for person in meeting.everyone:
        person.wait_state("s.participants.filter(p => p.state === 'admitted').length === 3")
        person.page.wait_for_selector("#grid .tile >> nth=2")
    assert "李四" in applicant.page.inner_text("#grid")


def test_everyone_decodes_everyone(meeting: Meeting, screenshots: list[Participant]) -> None:
    screenshots.extend(meeting.everyone)
    meeting.ensure_admitted()
    labels = [p.label for p in meeting.everyone]
    for viewer in meeting.everyone:
        expect_flowing(viewer, seats_of(meeting, *[label for label in labels if label != viewer.label]))

    send_chat(meeting.applicant, "大家好，我是申请人")
    for person in meeting.everyone:
        person.page.wait_for_selector("#chat-list li:has-text('大家好，我是申请人')")


def numbering(sdp: str) -> dict[str, int]:
    """``opus``/``VP8``/``rtx`` (of VP8) payload types and every extension URI's id in ``sdp``."""
    numbers: dict[str, int] = {}
    rtpmap = {int(pt): name for pt, name in re.findall(r"a=rtpmap:(\d+) ([\w-]+)/", sdp)}
    for pt, name in rtpmap.items():
        if name in ("opus", "VP8"):
            numbers.setdefault(name, pt)
    for pt, apt in re.findall(r"a=fmtp:(\d+) apt=(\d+)", sdp):
        if rtpmap.get(int(apt)) == "VP8":
            numbers.setdefault("rtx", int(pt))
    for ext_id, uri in re.findall(r"a=extmap:(\d+)(?:/\w+)? (\S+)", sdp):
        numbers.setdefault(uri, int(ext_id))
    return numbers


SELECTED_PAIRS = """async () => {
  const pairs = [];
  for (const pc of window.__peers) {
    if (pc.connectionState !== "connected") continue;
    const stats = await pc.getStats();
    stats.forEach((report) => {
      if (report.type === "transport" && report.selectedCandidatePairId) {
        const pair = stats.get(report.selectedCandidatePairId);
        const local = stats.get(pair.localCandidateId), remote = stats.get(pair.remoteCandidateId);
        pairs.push([local.address, remote.address, remote.candidateType]);
      }
    });
  }
  return pairs;
}"""


def test_media_runs_on_loopback_only(meeting: Meeting, screenshots: list[Participant]) -> None:
    """The test setting (``ice_addresses = 127.0.0.1``, Chromium allowed loopback): nothing
    leaves the loopback interface, and the server's one candidate is the loopback address."""
    meeting.ensure_admitted()
    for person in meeting.everyone:
        pairs = person.page.evaluate(SELECTED_PAIRS)
        assert pairs, f"{person.label} has no connected peer connection"
        assert all(local == "127.0.0.1" and remote == "127.0.0.1" and kind == "host" for local, remote, kind in pairs), pairs
        answer = next(e["sdp"] for e in person.page.evaluate("window.__sdpLog") if e["side"] == "remote")
        assert set(re.findall(r"a=candidate:\S+ \d \S+ \d+ (\S+) \d+ typ", answer)) == {"127.0.0.1"}


# Installed in every page: every seat whose tile was ever highlighted as the active speaker.
SPEAKER_RECORDER = """(() => {
  const seen = (window.__speakersSeen = new Set());
  new MutationObserver((records) => {
    for (const record of records) {
      if (record.target.classList?.contains("speaking")) seen.add(record.target.dataset.seat);
    }
  }).observe(document, { subtree: true, attributes: true, attributeFilter: ["class"] });
})();"""


def test_active_speaker_from_chromes_audio_levels(meeting: Meeting, screenshots: list[Participant]) -> None:
    """The applicant's microphone plays a tone, the others' silence: the server reads the
    ssrc-audio-level header extension of Chrome's Opus packets (never the audio) and every page
    highlights the applicant, and nobody else."""
    meeting.ensure_admitted()
    for person in meeting.everyone:
        person.wait_for("window.__speakersSeen.size > 0", timeout=20000)
        assert person.page.evaluate("[...window.__speakersSeen]") == [meeting.applicant.seat]


def test_server_keeps_chromes_own_numbering(meeting: Meeting, screenshots: list[Participant]) -> None:
    """Chrome offers its own payload types and extension ids; every server offer/answer reuses them."""
    screenshots.extend(meeting.everyone)
    meeting.ensure_admitted()
    server_offers = 0
    for person in meeting.everyone:
        log = person.page.evaluate("window.__sdpLog")
        chrome = numbering(next(entry["sdp"] for entry in log if entry["side"] == "local" and entry["type"] == "offer"))
        assert chrome["opus"] != 96 and chrome["VP8"] != 97, f"{person.label}: not Chrome's own numbering: {chrome}"
        for entry in log:
            if entry["side"] != "remote":
                continue
            server_offers += entry["type"] == "offer"
            server = numbering(entry["sdp"])
            assert {"opus", "VP8"} <= server.keys()
            wrong = {name: (number, chrome.get(name)) for name, number in server.items() if chrome.get(name) != number}
            assert not wrong, f"{person.label}: server {entry['type']} renumbered (server, chrome): {wrong}"
    assert server_offers >= 2, "the server re-offered to add the others' tracks"


def send_chat(person: Participant, text: str) -> None:
    person.page.fill("#chat-input", text)
    person.page.press("#chat-input", "Enter")


def test_caucus_isolates_the_other_side(meeting: Meeting, screenshots: list[Participant]) -> None:
    screenshots.extend(meeting.everyone)
    meeting.ensure_admitted()
    mediator, applicant, respondent = meeting.everyone
    mediator.page.click("button[data-action='caucus-start'][data-side='applicant']")
    respondent.wait_state("s.caucus && s.you.waiting_for_caucus")
    applicant.wait_state("s.caucus && s.you.in_caucus")
    assert respondent.page.locator("#caucus-waiting").is_visible()
    assert "申请人方" in respondent.page.inner_text("#caucus-waiting")

    expect_silent(respondent, seats_of(meeting, "mediator", "applicant"))
    expect_silent(applicant, seats_of(meeting, "respondent"))
    expect_silent(mediator, seats_of(meeting, "respondent"))
    expect_flowing(applicant, seats_of(meeting, "mediator"))
    expect_flowing(mediator, seats_of(meeting, "applicant"))
    send_chat(mediator, "这句话只有申请人方能看到")
    applicant.page.wait_for_selector("#chat-list li.caucus:has-text('这句话只有申请人方能看到')")
    respondent.page.wait_for_timeout(1000)
    assert "这句话只有申请人方能看到" not in respondent.page.inner_text("#chat-list")
    mediator.screenshot("caucus-during")
    respondent.screenshot("caucus-during")

    mediator.page.click("button[data-action='caucus-end']")
    respondent.wait_state("s.caucus === null && !s.you.waiting_for_caucus")
    assert respondent.page.locator("#caucus-waiting").is_hidden()
    expect_flowing(respondent, seats_of(meeting, "mediator", "applicant"))
    expect_flowing(applicant, seats_of(meeting, "respondent"))
    expect_flowing(mediator, seats_of(meeting, "respondent"))


def test_server_mute_stops_forwarding(meeting: Meeting, screenshots: list[Participant]) -> None:
    screenshots.extend(meeting.everyone)
    meeting.ensure_admitted()
    mediator, applicant, respondent = meeting.everyone
    applicant_seat = seats_of(meeting, "applicant")
    # The participant's own switch: others are told (media:state), the track sends black.
    applicant.page.click("#toggle-cam")
    mediator.wait_state(f"s.participants.some(p => p.seat === '{applicant.seat}' && p.video === false)")
    assert "摄像头已关闭" in mediator.page.inner_text(f"#grid .tile[data-seat='{applicant.seat}']")
    applicant.page.click("#toggle-cam")
    mediator.wait_state(f"s.participants.some(p => p.seat === '{applicant.seat}' && p.video === true)")

    mediator.page.click(f"button[data-action='mute'][data-seat='{applicant.seat}'][data-kind='audio']")
    applicant.wait_state("s.you.muted_by_mediator.audio === true")
    mic = applicant.page.locator("#toggle-mic")
    assert mic.is_disabled() and mic.get_attribute("data-state") == "forced"
    assert "已被调解员静音" in mic.inner_text()

    for viewer in (mediator, respondent):
        expect_silent(viewer, applicant_seat, kinds=("audio",))
        expect_flowing(viewer, applicant_seat, kinds=("video",))
    applicant.screenshot("muted")

    mediator.page.click(f"button[data-action='mute'][data-seat='{applicant.seat}'][data-kind='audio']")
    applicant.wait_state("s.you.muted_by_mediator.audio === false")
    assert not applicant.page.locator("#toggle-mic").is_disabled()
    for viewer in (mediator, respondent):
        expect_flowing(viewer, applicant_seat)

    mediator.page.click(f"button[data-action='mute'][data-seat='{applicant.seat}'][data-kind='video']")
    applicant.wait_state("s.you.muted_by_mediator.video === true")
    expect_silent(respondent, applicant_seat, kinds=("video",))
    expect_flowing(respondent, applicant_seat, kinds=("audio",))
    mediator.page.click(f"button[data-action='mute'][data-seat='{applicant.seat}'][data-kind='video']")
    applicant.wait_state("s.you.muted_by_mediator.video === false")
    expect_flowing(respondent, applicant_seat)


def test_closing_a_page_and_rejoining_restores_media(meeting: Meeting, screenshots: list[Participant]) -> None:
    screenshots.extend(meeting.everyone)
    meeting.ensure_admitted()
    mediator, applicant, respondent = meeting.everyone
    seat = respondent.seat
    respondent.page.close()
    # The others see "reconnecting", not a departure.
    mediator.wait_state(f"s.participants.some(p => p.seat === '{seat}' && p.state === 'reconnecting')")
    mediator.page.wait_for_selector(f"#grid .tile[data-seat='{seat}'].reconnecting")
    mediator.screenshot("respondent-reconnecting")

    respondent.open().join()
    respondent.wait_state(f"s.you.seat === '{seat}' && s.you.state === 'admitted'")
    expect_flowing(respondent, seats_of(meeting, "mediator", "applicant"))
    for viewer in (mediator, applicant):
        expect_flowing(viewer, {seat: "respondent"})

    # A reload goes straight back in (no device check) with a brand-new peer connection.
    applicant_seat = applicant.seat
    applicant.page.reload()
    applicant.wait_state(f"s.you.seat === '{applicant_seat}' && s.you.state === 'admitted'")
    expect_flowing(applicant, seats_of(meeting, "mediator", "respondent"))
    expect_flowing(mediator, {applicant_seat: "applicant"})


def test_network_drop_reconnects_by_itself(meeting: Meeting, screenshots: list[Participant]) -> None:
    screenshots.extend(meeting.everyone)
    meeting.ensure_admitted()
    mediator, applicant, _ = meeting.everyone
    seat = applicant.seat
    applicant.context.set_offline(True)  # the socket drops; Socket.IO retries
    try:
        applicant.wait_for("window.accord.connection().signaling === 'reconnecting'")
        applicant.page.wait_for_selector("#connection[data-status='reconnecting']")
        mediator.wait_state(f"s.participants.some(p => p.seat === '{seat}' && p.state === 'reconnecting')")
        applicant.screenshot("offline")
    finally:
        applicant.context.set_offline(False)
    applicant.wait_for("window.accord.connection().joined === true", timeout=20000)
    mediator.wait_state(f"s.participants.some(p => p.seat === '{seat}' && p.state === 'admitted')")
    expect_flowing(applicant, seats_of(meeting, "mediator", "respondent"))
    expect_flowing(mediator, {seat: "applicant"})


def test_removal_disconnects(meeting: Meeting, screenshots: list[Participant]) -> None:
    screenshots.extend(meeting.everyone)
    meeting.ensure_admitted()
    mediator, applicant, respondent = meeting.everyone
    seat = respondent.seat
    mediator.page.click(f"button[data-action='remove'][data-seat='{seat}']")
    mediator.page.click("#confirm button[value='ok']")
    respondent.page.wait_for_selector("#ended:not([hidden])")
    assert "您已被调解员移出调解室" in respondent.page.inner_text("#ended-message")
    respondent.wait_for("window.accord.connection().signaling === 'offline'")
    for viewer in (mediator, applicant):
        viewer.wait_state(f"!s.participants.some(p => p.seat === '{seat}')")
        viewer.page.wait_for_selector(f"#grid .tile[data-seat='{seat}']", state="detached")
    # The removed page stays out: no reconnect a few seconds later.
    respondent.page.wait_for_timeout(3000)
    assert respondent.page.locator("#ended").is_visible()
    assert not any(p["seat"] == seat for p in mediator.state()["participants"])


def test_mediator_ends_the_session(meeting: Meeting, accord_server: RunningServer,
                                   screenshots: list[Participant]) -> None:
    screenshots.extend(meeting.everyone)
    mediator, applicant, _ = meeting.everyone
    mediator.page.click("button[data-action='end']")
    mediator.page.click("#confirm button[value='ok']")
    for person in (mediator, applicant):
        person.page.wait_for_selector("#ended:not([hidden])")
        assert person.page.get_attribute("#ended-message", "data-code") == "ended"
        assert "调解员已结束本次调解" in person.page.inner_text("#ended-message")
    assert accord_server.api("GET", f"/api/rooms/{meeting.room_id}")["ended_at"] is not None
