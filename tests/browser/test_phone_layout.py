"""Every page but the room at a phone (390×844) and a desktop (1280×720) size, in one Chromium:
no sideways scroll, a one-row header, the page's key controls visible, a screenshot of each
(``test-artifacts/layout-<page>-<width>.png``) and an axe-core pass (from npm, evaluated in the
page) with no serious or critical violation. Also: the sign-in tabs work from the keyboard, a party
who rated sees that they did, and the case list is a card per case on a phone.

One browser context per person, reused across both sizes (the viewport changes, the page stays).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from mediation.accounts import Actor
from mediation.cases import Application, PartyDetails

from .case_site import ARTIFACTS, COURT, REPO, SAME_LOOP, Site, browser, id_number, person, sign_in, site  # noqa: F401

pytestmark = pytest.mark.browser
SIZES = ((1280, 720), (390, 844))
AXE = (REPO / "web_client/node_modules/axe-core/axe.min.js").read_text(encoding="utf-8")
#: axe's verdicts that fail the page; "moderate" and "minor" ones are reported by the tool, not here.
BLOCKING = ("serious", "critical")
RUN_AXE = """async (blocking) => {
  const result = await axe.run(document, { resultTypes: ["violations"] });
  return result.violations.filter((v) => blocking.includes(v.impact))
    .map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 4).map((n) => n.target.join(" ")) }));
}"""


async def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical findings; evaluated over DevTools, so the page's CSP stays on."""
    if not await page.evaluate("typeof axe !== 'undefined'"):
        await page.evaluate(AXE)
    return await page.evaluate(RUN_AXE, list(BLOCKING))


async def check_layout(page: Page, name: str, controls: tuple[str, ...], problems: list[str]) -> None:
    """At both sizes: no overflow, a one-row header, `controls` visible, a screenshot; then axe."""
    for width, height in SIZES:
        await page.set_viewport_size({"width": width, "height": height})
        for selector in controls:
            try:
                await expect(page.locator(selector).first).to_be_visible(timeout=5000)
            except AssertionError:
                problems.append(f"{name} @{width}: {selector} not visible")
        scroll, inner = await page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        if scroll > inner:
            wide = await page.evaluate("""(inner) => [...document.querySelectorAll('body *')]
                .filter((e) => e.getBoundingClientRect().right > inner + 1).slice(0, 5)
                .map((e) => `${e.tagName.toLowerCase()}#${e.id}.${[...e.classList].join('.')} ${Math.round(e.getBoundingClientRect().right)}`)""", inner)
            problems.append(f"{name} @{width}: scrollWidth {scroll} > innerWidth {inner}: {wide}")
        header = await page.evaluate("document.querySelector('header.bar')?.getBoundingClientRect().height ?? 0")
        if header >= 70:
            problems.append(f"{name} @{width}: the header wraps ({header:.0f} px)")
        await page.screenshot(path=str(ARTIFACTS / f"layout-{name}-{width}.png"), full_page=True)
    for violation in await axe_violations(page):
        problems.append(f"{name}: axe {violation['impact']} {violation['id']} ({violation['help']}) at {violation['nodes']}")


async def _open(context: BrowserContext, url: str) -> Page:
    page = await context.new_page()
    page.on("pageerror", lambda exc: pytest.fail(f"page error on {url}: {exc}"))
    await page.goto(url)
    return page


async def _case_in_counselling(site: Site) -> str:
    """Alice v. Bob with a mediator who accepted: the case page shows every panel of step 3."""
    cases = site.services.cases
    alice, bob = site.actor("alice"), site.actor("bob")
    view = await cases.apply(alice, Application(
        "loan", "请求被申请人归还借款 12,000 元", "2025 年 1 月 10 日借款，至今未还。",
        PartyDetails(alice.name, site.people["alice"].phone or "", id_number(1), "四川省成都市锦江区示例路 1 号"),
        PartyDetails(bob.name, site.people["bob"].phone or "", id_number(2), "四川省成都市锦江区示例路 2 号"),
        amount_fen=1_200_000))
    await cases.answer_consent(bob, view.id, True)
    await cases.choose_mediator(alice, view.id, site.mediators[0].id)
    await cases.answer_assignment(site.mediators[0].as_actor(), view.id, True)
    return view.id


async def _case_at_evaluation(site: Site) -> str:
    case_id = await _case_in_counselling(site)
    mediator = site.mediators[0].as_actor()
    await site.services.cases.open_video(mediator, case_id)
    await site.services.cases.conclude_video(mediator, case_id)
    await site.services.cases.record_failure(mediator, case_id, ["双方对还款期限分歧过大"])
    return case_id


@SAME_LOOP
async def test_every_page_fits_a_phone_and_a_desktop_and_passes_axe(site: Site, browser: Browser) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    case_id = await _case_in_counselling(site)
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

    context, page = await signed_in("court", "clerk1")
    await expect(page.locator("#court-queue")).to_be_visible()
    await check_layout(page, "court-queue", ("#court-queue",), problems)
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
