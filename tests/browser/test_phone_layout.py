"""Every page but the room at a phone (390×844) and a desktop (1280×720) size, in one Chromium:
no sideways scroll, a one-row header, the page's key controls visible, a screenshot of each
(``test-artifacts/layout-<page>-<width>.png``) and an axe-core pass (from npm, evaluated in the
page) with no serious or critical violation. Also: the sign-in tabs work from the keyboard, a party
who rated sees that they did, and the case list is a card per case on a phone.

One browser context per person, reused across both sizes (the viewport changes, the page stays).
"""

from __future__ import annotations

import json

import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from .case_site import (ARTIFACTS, COURT, SAME_LOOP, Site, browser, case_at_the_court_step,  # noqa: F401
                        case_in_counselling, case_to_mediation_result, person, sign_in, site)
from .page_checks import check_layout

pytestmark = pytest.mark.browser


async def _open(context: BrowserContext, url: str) -> Page:
    page = await context.new_page()
    page.on("pageerror", lambda exc: pytest.fail(f"page error on {url}: {exc}"))
    await page.goto(url)
    return page


async def _case_at_evaluation(site: Site) -> str:
    case_id, mediator = await case_to_mediation_result(site)
    await site.services.results.record_failure(mediator, case_id, ["双方对还款期限分歧过大"])
    return case_id


@SAME_LOOP
async def test_every_page_fits_a_phone_and_a_desktop_and_passes_axe(site: Site, browser: Browser) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    case_id = await case_in_counselling(site)
    problems: list[str] = []
    base = site.base_url

    visitor = await person(browser)
    for name, path, controls in (
            ("home", "/", ("#start-application", "#find-mediator", "#lang")),
            ("organisations", "/organisations.html", ("#results > li",)),
            ("mediators", "/mediators.html", ("#results > li",)),
            ("mediator-profile", f"/mediator.html?id={site.mediators[0].id}", ("h1",)),
            ("sign-in", "/cases.html", ("#login", "#password", "#sign-in", '[data-channel="court"]')),
            ("verify", "/verify.html", ("#file", "#submit")),
            ("sign-no-link", "/sign.html", ("header.bar",))):
        page = await _open(visitor, base + path)
        await page.wait_for_load_state("networkidle")
        await check_layout(page, name, controls, problems)
        await page.close()
    await visitor.close()

    async def signed_in(channel: str, login: str) -> tuple[BrowserContext, Page]:
        context = await person(browser)
        page = await context.new_page()
        page.on("pageerror", lambda exc: pytest.fail(f"page error for {login}: {exc}"))
        await sign_in(page, site, channel, login)
        return context, page

    context, page = await signed_in("party", "alice")
    await page.goto(f"{base}/cases.html#apply")
    await check_layout(page, "application", ('[data-path="dispute_type"]', "#submit-application"), problems)
    await page.goto(f"{base}/cases.html#cases")
    await expect(page.locator("#case-list")).to_be_visible()
    await check_layout(page, "case-list", (f'a.case-link:text("{case_id}")',), problems)
    await page.set_viewport_size({"width": 390, "height": 844})  # a card per case: the labels show, no header row
    assert await page.locator("#case-list thead").is_hidden()
    label = await page.evaluate("getComputedStyle(document.querySelector('#case-list td[data-label]'), '::before').content")
    assert label == json.dumps("案号", ensure_ascii=False), label
    await page.goto(f"{base}/cases.html#case/{case_id}")
    await expect(page.locator("#timeline")).to_be_visible()
    await check_layout(page, "case-party", ("#timeline", "#next-actor", "#counselling-panel"), problems)
    await context.close()

    context, page = await signed_in("mediator", site.mediators[0].login)
    await expect(page.locator("#case-list")).to_be_visible()
    await check_layout(page, "mediator-desk", (f'a.case-link:text("{case_id}")', "#nav"), problems)
    await page.goto(f"{base}/cases.html#case/{case_id}")
    await expect(page.locator("#timeline")).to_be_visible()
    await check_layout(page, "case-mediator", ("#counselling-panel", "#open-video"), problems)
    await context.close()

    settled = await case_at_the_court_step(site)  # the clerk's queue holds an application
    await site.services.court.apply_confirmation(site.actor("alice"), settled, COURT)
    await site.services.court.apply_confirmation(site.actor("bob"), settled, None)
    context, page = await signed_in("court", "clerk1")
    await expect(page.locator("#court-queue li.application")).to_have_count(1)
    await check_layout(page, "court-queue", ("#court-queue li.application [data-act]",), problems)
    await context.close()

    context, page = await signed_in("admin", "root")
    await page.goto(f"{base}/cases.html#admin")
    await expect(page.locator("#api-key-form")).to_be_visible()
    await check_layout(page, "admin", ("#api-key-form",), problems)
    await context.close()

    assert not problems, "\n".join(problems)


@SAME_LOOP
async def test_the_sign_in_tabs_work_from_the_keyboard(site: Site, browser: Browser) -> None:
    context = await person(browser)
    try:
        page = await context.new_page()
        await page.goto(f"{site.base_url}/cases.html")
        party = page.locator('[data-channel="party"]')
        await expect(party).to_have_attribute("tabindex", "0")
        await expect(page.locator('[data-channel="court"]')).to_have_attribute("tabindex", "-1")  # one tab stop
        await party.focus()
        await page.keyboard.press("ArrowRight")
        mediator = page.locator('[data-channel="mediator"]')
        await expect(mediator).to_be_focused()
        await expect(mediator).to_have_attribute("aria-selected", "true")
        await expect(party).to_have_attribute("aria-selected", "false")
        await page.keyboard.press("End")
        await expect(page.locator('[data-channel="admin"]')).to_be_focused()
        await page.keyboard.press("ArrowRight")  # wraps round
        await expect(party).to_be_focused()
        await expect(page.locator("#show-register")).to_be_visible()  # the party tab's own form came back
        await page.keyboard.press("ArrowLeft")
        await expect(page.locator('[data-channel="admin"]')).to_have_attribute("aria-selected", "true")
        await expect(page.locator("#show-register")).to_be_hidden()
    finally:
        await context.close()


@SAME_LOOP
async def test_a_party_who_rated_sees_so(site: Site, browser: Browser) -> None:
    case_id = await _case_at_evaluation(site)
    context = await person(browser)
    try:
        page = await context.new_page()
        await sign_in(page, site, "party", "bob")
        await page.goto(f"{site.base_url}/cases.html#case/{case_id}")
        rating = page.locator("#rating-panel")
        await expect(rating).to_be_visible()
        await expect(page.locator("#rated")).to_have_count(0)
        await rating.locator('select[name="score"]').select_option("4")
        await rating.locator('button[type="submit"]').click()
        await expect(page.locator("#rated")).to_contain_text("您已评价调解员")
        await expect(rating).to_have_count(0)
        await page.reload()  # it is the case's state, not the page's memory
        await expect(page.locator("#rated")).to_be_visible()
    finally:
        await context.close()
