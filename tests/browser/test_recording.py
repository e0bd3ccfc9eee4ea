"""Recording a case's video session in Chromium, each step clicked by its person (issue 10): the
mediator sets the case's recording setting on the case page; the mediator and two parties enter
from their case pages (a fake camera showing a real face, the fake microphone's beep); the mediator
starts recording in the room; everyone sees "录制中"; the applicant consents and the respondent
refuses in the consent dialog; after ~10 s the mediator stops. Then the respondent has no track
files and the others do, each decodes with PyAV from the seat's consent to within 1 s of the stop,
with audio; the review
composite has one tile per consenting participant and decodes; and the applicant's case page plays
it and her own audio and video tracks (each <video> reaches HAVE_CURRENT_DATA); she downloads the
session's recording package there and the verification page finds it intact.

Screenshots in ``test-artifacts/``: recording-consent, recording-mediator, recording-case-page.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from pathlib import Path
from typing import AsyncIterator

import av
import pytest
import pytest_asyncio
from playwright.async_api import Browser, BrowserContext, Page, async_playwright, expect

from recordings.composite import TILE_H, TILE_W
from recordings.store import RecordingStore
from tests.recordings.media import decode
from tests.support.page_wait import wait_js_async

from .case_site import ARTIFACTS, CHROMIUM_ARGS, SAME_LOOP, Site, person, sign_in, site  # noqa: F401
from .test_case_room import _case_in_video_session

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]
RECORD_SECONDS = 10


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def camera_browser(fake_camera: Path) -> AsyncIterator[Browser]:
    """One Chromium whose camera shows a face and whose microphone beeps; a context per person."""
    async with async_playwright() as p:
        launched = await p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=[
            *CHROMIUM_ARGS, "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
            "--autoplay-policy=no-user-gesture-required", f"--use-file-for-fake-video-capture={fake_camera}"])
        yield launched
        await launched.close()


async def _enter_room(context: BrowserContext, site: Site, channel: str, login: str, case_id: str) -> tuple[Page, Page]:
    """Sign in, open the case page, enter the room from it; returns (case page, room page)."""
    page = await context.new_page()
    await sign_in(page, site, channel, login)
    await page.goto(f"{site.base_url}/cases.html#case/{case_id}")
    async with page.expect_popup() as opened:
        await page.click("#join-room")
    room = await opened.value
    await room.wait_for_url("**/join#*")
    await room.wait_for_selector("#join:not([disabled])", timeout=15000)
    await room.click("#join")
    await wait_js_async(room, "window.accord.state() !== null", 15000)
    return page, room


@SAME_LOOP
async def test_a_recorded_session_from_consent_to_playback(site: Site, camera_browser: Browser) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    case_id, mediator_actor = await _case_in_video_session(site)
    store = RecordingStore(site.services.db, site.services.cases.clock)
    contexts = [await person(camera_browser) for _ in range(3)]
    try:
        # The mediator chooses the recording setting on the case page.
        mediator_case, mediator_room = await _enter_room(contexts[0], site, "mediator", site.mediators[0].login,
                                                         case_id)
        await mediator_case.select_option("#recording-mode", "joint")
        await mediator_case.click("#recording-policy-save")
        await expect(mediator_case.locator("#recording-policy-text")).to_contain_text("背对背调解不录制")

        alice_case, alice_room = await _enter_room(contexts[1], site, "party", "alice", case_id)
        _, bob_room = await _enter_room(contexts[2], site, "party", "bob", case_id)
        await mediator_room.click('[data-action="admit-all"]')
        for room in (alice_room, bob_room):
            await wait_js_async(room, "window.accord.state().you.state === 'admitted'", 15000)
        for room in (mediator_room, alice_room, bob_room):  # media flows both ways before recording starts
            await wait_js_async(room, "window.accord.stats().then(s => Object.values(s).length === 2 && "
                                      "Object.values(s).every(x => x.framesDecoded > 10))", 30000)

        await mediator_room.click("#rec-start")
        for room in (mediator_room, alice_room, bob_room):
            await expect(room.locator("#rec-indicator")).to_be_visible()
            await expect(room.locator("#rec-indicator")).to_contain_text("录制中")
        await expect(alice_room.locator("#rec-consent")).to_be_visible()
        await alice_room.screenshot(path=str(ARTIFACTS / "recording-consent.png"))
        await alice_room.click('#rec-consent [data-answer="yes"]')
        await expect(bob_room.locator("#rec-consent")).to_be_visible()
        await bob_room.click('#rec-consent [data-answer="no"]')
        await expect(bob_room.locator("#rec-indicator")).to_have_attribute("data-consent", "refused")
        answers = mediator_room.locator("#rec-console .rec-consents li")
        await expect(answers.filter(has_text="已拒绝")).to_have_count(1)
        await expect(answers.filter(has_text="已同意")).to_have_count(2)
        await mediator_room.screenshot(path=str(ARTIFACTS / "recording-mediator.png"))
        await asyncio.sleep(RECORD_SECONDS)
        await mediator_room.click("#rec-stop")
        stopped_at = datetime.now(timezone.utc)
        for room in (mediator_room, alice_room, bob_room):
            await expect(room.locator("#rec-indicator")).to_be_hidden()

        # What was written.
        seats = {name: await room.evaluate("window.accord.state().you.seat")
                 for name, room in (("mediator", mediator_room), ("alice", alice_room), ("bob", bob_room))}
        (session,) = await store.sessions_of_case(case_id)
        for _ in range(600):
            session = await store.session(session.id)
            if session.composite_path is not None:
                break
            await asyncio.sleep(0.2)
        assert session.state == "finished" and session.composite_path is not None, session
        end_s = session.end_us / 1e6
        assert end_s >= RECORD_SECONDS
        root = site.data_dir / "recordings"
        tracks = {(t.seat, t.kind): t for t in await store.tracks(session.id)}
        assert {seat for seat, _ in tracks} == {seats["mediator"], seats["alice"]}  # Bob refused: nothing of his
        assert not [p for p in (root / session.id).rglob("*") if seats["bob"] in p.name]
        # Each seat is written from its consent (the mediator's start is theirs) until the stop: the
        # start waits for the seat's next keyframe (the recorder asks for one; up to ~2 s), the end
        # is the stop click.
        stop_s = (stopped_at - session.started_at).total_seconds()
        assert abs(end_s - stop_s) < 1.0, (end_s, stop_s)  # the session ends when the mediator stops it
        consented_s = {c.participant.seat: (c.answered_at - session.started_at).total_seconds()
                       for c in await store.consents(session.id) if c.answer == "consented"}
        for (seat, kind), track in tracks.items():
            assert track.joined_path is not None, (seat, kind)
            decoded = decode(root / track.joined_path)
            facts = (seat, kind, decoded, consented_s[seat], stop_s)
            assert 0 <= decoded.first_s - consented_s[seat] < 2.0, facts
            assert abs(decoded.last_s - stop_s) < 1.0, facts
            if kind == "video":
                assert decoded.frames / (decoded.last_s - decoded.first_s) > 5, facts  # a plausible frame rate
            else:
                assert decoded.frames > 40 * (decoded.last_s - decoded.first_s), facts  # 20 ms Opus frames throughout

        with av.open(str(root / session.composite_path)) as container:
            video = container.streams.video[0]
            assert (video.width, video.height) == (2 * TILE_W, TILE_H)  # one tile each: mediator and Alice
            frames = sum(1 for _ in container.decode(video=0))
            assert container.streams.audio, "the composite has the mixed audio"
        assert frames > 10 * (end_s - 1)

        # The applicant's case page plays the review video.
        await alice_case.reload()
        player = alice_case.locator(f"#composite-{session.id}")
        await expect(player).to_be_visible(timeout=20000)
        await alice_case.evaluate(f"(() => {{ const v = document.getElementById('composite-{session.id}'); "
                                  "v.muted = true; return v.play().then(() => true, () => false); })()")
        await wait_js_async(alice_case, f"document.getElementById('composite-{session.id}').readyState >= 2", 20000)
        await expect(alice_case.locator(".recording-session .consents li[data-answer='refused']")).to_have_count(1)
        # And each participant's own tracks, the audio too (Opus in WebM as Chrome plays it).
        await alice_case.click(".recording-session details summary")
        for kind in ("audio", "video"):
            track = tracks[(seats["alice"], kind)]
            await alice_case.evaluate(f"(() => {{ const v = document.getElementById('track-{track.id}'); "
                                      "v.muted = true; return v.play().then(() => true, () => false); })()")
            await wait_js_async(alice_case, f"document.getElementById('track-{track.id}').readyState >= 2", 20000)
        await alice_case.locator("#recordings").screenshot(path=str(ARTIFACTS / "recording-case-page.png"))
        # The recording package: downloaded from the case page, checked on the verification page.
        async with alice_case.expect_download() as downloading:
            await alice_case.click(f'.recording-session[data-session="{session.id}"] .package-download')
        package = ARTIFACTS / "recording-package.zip"
        await (await downloading.value).save_as(str(package))
        verify = await alice_case.context.new_page()
        await verify.goto(f"{site.base_url}/verify.html")
        await verify.set_input_files("#file", str(package))
        await verify.click("#submit")
        await expect(verify.locator("#verdict")).to_have_attribute("data-valid", "true", timeout=60000)
        await expect(verify.locator("#recording-facts")).to_contain_text(session.id)
        await expect(verify.locator("#recording-findings tr")).to_have_count(0)
        package.unlink()
    finally:
        for context in contexts:
            await context.close()
