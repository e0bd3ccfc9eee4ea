"""Entering a case's video session from the case page, in headless Chromium: the mediator's case
page offers a join link only for a party who cannot sign in (with a copy button); the signed-in
applicant clicks "进入视频调解" on her case page — no link copied — lands on the device check as
"申请人", gets her own seat, is admitted, and sees the mediator's video (frames decoded, from
``getStats``). The mediator is a scripted aiortc participant, so one Chromium does it all.

Screenshots in ``test-artifacts/``: case-room-guest-link (the mediator's video panel), case-room-party.
"""

from __future__ import annotations

import asyncio
import re
from typing import AsyncIterator

import pytest
import pytest_asyncio
from playwright.async_api import Browser, async_playwright, expect

from mediation.accounts import Actor
from mediation.cases import Application, PartyDetails
from tests.support.aiortc_participant import Participant
from tests.support.page_wait import wait_js_async

from .case_site import (ARTIFACTS, CHROMIUM_ARGS, SAME_LOOP, Site, id_number, person, sign_in,  # noqa: F401
                        site)

pytestmark = pytest.mark.browser


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def media_browser() -> AsyncIterator[Browser]:
    """Chromium with a fake camera and microphone that need no permission prompt."""
    async with async_playwright() as p:
        launched = await p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=[
            *CHROMIUM_ARGS, "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"])
        yield launched
        await launched.close()


async def _case_in_video_session(site: Site) -> tuple[str, Actor]:
    """Alice v. Bob through steps 1-3 (services); the mediator has opened the video session."""
    alice, bob = site.actor("alice"), site.actor("bob")
    view = await site.services.filing.apply(alice, Application(
        "loan", "请求被申请人归还借款 12,000 元", "2025 年 1 月 10 日借款，至今未还。",
        PartyDetails(alice.name, site.people["alice"].phone or "", id_number(1), "四川省成都市锦江区示例路 1 号"),
        PartyDetails(bob.name, site.people["bob"].phone or "", id_number(2), "四川省成都市锦江区示例路 2 号")))
    mediator = site.mediators[0].as_actor()
    await site.services.filing.answer_consent(bob, view.id, True)
    await site.services.mediator_choice.choose_mediator(alice, view.id, mediator.id)
    await site.services.mediator_choice.answer_assignment(mediator, view.id, True)
    await site.services.video.open_video(mediator, view.id)
    return view.id, mediator


@SAME_LOOP
async def test_a_signed_in_party_enters_from_the_case_page_and_sees_the_mediator(site: Site,
                                                                                media_browser: Browser) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    case_id, mediator_actor = await _case_in_video_session(site)
    mediator = Participant(site.base_url, (await site.services.video.invitation(mediator_actor, case_id)).token)
    mediator_ctx, alice_ctx = await person(media_browser), await person(media_browser)
    try:
        # The mediator's case page: a link only for a party who cannot sign in, ready to copy.
        page = await mediator_ctx.new_page()
        await sign_in(page, site, "mediator", site.mediators[0].login)
        await page.goto(f"{site.base_url}/cases.html#case/{case_id}")
        await page.click("#guest-link-respondent")
        link = page.locator('.guest-links li[data-side="respondent"]')
        await expect(link.locator("input.guest-url")).to_have_value(re.compile(r"/join#[\w.-]+$"))
        await expect(link.locator("button.copy")).to_be_visible()
        await page.locator("#video-panel").screenshot(path=str(ARTIFACTS / "case-room-guest-link.png"))
        await mediator_ctx.close()

        await mediator.join()
        await mediator.start_media()

        # Alice, signed in, enters from her case page: no link to copy.
        alice = await alice_ctx.new_page()
        await sign_in(alice, site, "party", "alice")
        await alice.goto(f"{site.base_url}/cases.html#case/{case_id}")
        async with alice.expect_popup() as opened:
            await alice.click("#join-room")
        room = await opened.value
        await room.wait_for_url("**/join#*")
        await expect(room.locator("#prejoin-who")).to_contain_text("申请人")
        await room.wait_for_selector("#join:not([disabled])", timeout=15000)
        await room.click("#join")
        await wait_js_async(room, "window.accord.state() !== null", 15000)
        you = await room.evaluate("window.accord.state().you")
        own = await site.services.video.invitation(site.actor("alice"), case_id)
        assert (you["seat"], you["case_role"]) == (own.seat, "applicant_party")  # her own seat, as every time

        await mediator.until(lambda: any(p["state"] == "lobby" for p in mediator.state.get("participants", [])))
        assert (await mediator.sio.call("mod:admit", {"all": True}, timeout=10))["ok"]
        decoded = 0
        for _ in range(60):  # getStats is asynchronous: poll it from here
            decoded = (await room.evaluate("window.accord.stats()")).get(mediator.seat, {}).get("framesDecoded", 0)
            if decoded > 0:
                break
            await asyncio.sleep(0.5)
        assert decoded > 0, await room.evaluate("window.accord.connection()")
        await expect(room.locator("#grid")).to_contain_text("调解员")
        await room.screenshot(path=str(ARTIFACTS / "case-room-party.png"))
    finally:
        await mediator.close()
        await alice_ctx.close()
