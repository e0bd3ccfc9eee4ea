"""The guidance page and the assistant widget in headless Chromium: a question answered with its
citation (over HTTP on the page, over Socket.IO in the widget), a diagnosis, the estimator's side by
side table and similar cases with highlighted words. Screenshots: test-artifacts/guidance-*.png."""

from __future__ import annotations

import aiohttp
import pytest
from playwright.async_api import Browser, expect

from mediation.guidance.demo_corpus import demo_cases
from signaling.api.guidance import GUIDANCE_KEY

from .case_site import ARTIFACTS, SAME_LOOP, Site, browser, person, sign_in, site  # noqa: F401

pytestmark = pytest.mark.browser


@SAME_LOOP
async def test_the_guidance_page_answers_diagnoses_estimates_and_finds_cases(site: Site, browser: Browser) -> None:
    guidance = site.app[GUIDANCE_KEY]
    if not await guidance.similar("押金", 1):
        await guidance.import_cases(demo_cases(200))
    context = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        await page.goto(f"{site.base_url}/")
        await page.click("a[href='/guidance.html']")
        await expect(page.locator("body")).to_have_attribute("data-state", "ready")
        await page.fill("#ask-form input[name=q]", "司法确认要交钱吗？")
        await page.click("#ask-form button")
        reply = page.locator("#answers .reply").first
        await expect(reply).to_have_attribute("data-outcome", "answer")
        await expect(reply.locator(".citation")).to_have_attribute("data-entry", "jc-fee")
        await expect(reply).to_contain_text("诉讼费用交纳办法")

        await page.select_option("#diagnosis-form [name=dispute_type]", "labour")
        await page.click("#diagnosis-form button")
        await expect(page.locator("#diagnosis-result")).to_contain_text("劳动争议仲裁")

        await page.select_option("#estimate-form [name=dispute_type]", "loan")
        await page.fill("#estimate-form [name=amount]", "100000")
        await page.uncheck("#estimate-form [name=lawyer]")
        await page.click("#estimate-form button")
        await expect(page.locator("#estimate-result table")).to_contain_text("¥2,300")

        await page.fill("#similar-form input[name=q]", "房东退租时扣押金不退")
        await page.click("#similar-form button")
        await expect(page.locator("#similar-result mark").first).to_be_visible()

        ARTIFACTS.mkdir(exist_ok=True)
        await page.screenshot(path=str(ARTIFACTS / "guidance-page-1280.png"), full_page=True)
        assert not errors, errors
    finally:
        await context.close()


@SAME_LOOP
async def test_the_widget_answers_over_socketio_on_a_public_page(site: Site, browser: Browser) -> None:
    context = await browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    page = await context.new_page()
    try:
        await page.goto(f"{site.base_url}/mediators.html")
        await page.click("#assistant-widget .assistant-toggle")
        await page.fill("#assistant-widget input[name=q]", "对方不履行调解协议怎么办")
        await page.click("#assistant-widget form button")
        reply = page.locator("#assistant-widget .reply").first
        await expect(reply).to_be_visible()
        await expect(reply.locator(".citation")).to_have_attribute("data-entry", "agreement-breach")
        await page.fill("#assistant-widget input[name=q]", "推荐一部好看的电影")
        await page.click("#assistant-widget form button")
        await expect(page.locator("#assistant-widget .reply").nth(1)).to_have_attribute("data-outcome", "declined")
        ARTIFACTS.mkdir(exist_ok=True)
        await page.screenshot(path=str(ARTIFACTS / "guidance-widget-390.png"))
    finally:
        await context.close()


@SAME_LOOP
async def test_the_administrator_edits_the_knowledge_base_and_the_assistant_uses_it(site: Site, browser: Browser) -> None:
    context = await person(browser)
    try:
        page = await context.new_page()
        await sign_in(page, site, "admin", "root")
        await page.click('#nav a[data-route="admin"]')
        form = page.locator("#guidance-form")
        await expect(form).to_be_visible()
        await page.fill("#guidance-form [name=id]", "pets-in-rentals")
        for name, value in {"topic": "disputes", "question_zh": "租房能养宠物吗？", "question_en": "May tenants keep pets?",
                            "answer_zh": "看租赁合同的约定；没有约定的，不得影响邻居。", "answer_en": "It depends on the lease.",
                            "source": "《民法典》第七百零九条", "keywords": "宠物, 养狗, 养猫"}.items():
            await page.fill(f"#guidance-form [name={name}]", value)
        await page.click("#guidance-save")
        await expect(page.locator("#guidance-form .notice")).to_contain_text("pets-in-rentals")
        await page.screenshot(path=str(ARTIFACTS / "guidance-admin.png"), full_page=True)
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{site.base_url}/api/guidance/answer", params={"q": "租的房子能养宠物吗"}) as resp:
                reply = await resp.json()
        assert reply["citation"]["entry_id"] == "pets-in-rentals", reply
        await page.select_option("#guidance-entry", "pets-in-rentals")
        await page.click("#guidance-delete")
        await expect(page.locator("#guidance-form .notice")).to_contain_text("pets-in-rentals")
    finally:
        await context.close()


@SAME_LOOP
async def test_the_guidance_page_fits_a_phone_and_switches_to_english(site: Site, browser: Browser) -> None:
    context = await browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    page = await context.new_page()
    try:
        await page.goto(f"{site.base_url}/guidance.html?q=Is%20mediation%20free%3F")
        await expect(page.locator("#answers .reply").first).to_be_visible()
        await page.click("#lang")
        await expect(page.locator("#diagnosis-heading")).to_have_text("Dispute diagnosis")
        await expect(page.locator("#diagnosis-form [name=relationship] option").first).to_have_text("Stranger")
        widths = await page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert widths[0] <= widths[1], widths
        await page.screenshot(path=str(ARTIFACTS / "guidance-page-390-en.png"), full_page=True)
    finally:
        await context.close()
