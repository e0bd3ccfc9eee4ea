"""The application and the mediator's desk in headless Chromium against a real server: a party
saves an application against a company as a draft, comes back to it in a fresh page, files it with
the amount written "1.86万" and reads the confirmation; a mediator finds the case on the desk,
schedules a video session for a few minutes ahead, and the party sees it on the case page and
enters the room from there (the schedule opens it).

Screenshots land in ``test-artifacts/``: application-draft, application-confirmation, mediator-desk,
session-party.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import Browser, expect

from mediation.application_drafts import ApplicationDrafts
from mediation.cases import Application, PartyDetails
from mediation.errors import NotFound
from mediation.id_numbers import credit_code_check_character

from .case_site import ARTIFACTS, SAME_LOOP, Site, browser, id_number, person, sign_in, site  # noqa: F401

pytestmark = pytest.mark.browser
CHINA = ZoneInfo("Asia/Shanghai")
CODE17 = "91510104MA6CXXXX1".replace("X", "7")
CREDIT_CODE = CODE17 + credit_code_check_character(CODE17)


@SAME_LOOP
async def test_draft_resume_company_respondent_and_confirmation(site: Site, browser: Browser) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    context = await person(browser)
    try:
        page = await context.new_page()
        await sign_in(page, site, "party", "alice")
        await page.click('#nav a[data-route="apply"]')
        await expect(page.locator("#applicant-identity")).to_contain_text("示例当事人甲")  # from the registration
        await page.select_option('[data-path="dispute_type"]', "contract")
        await page.fill('[data-path="amount"]', "1.86万")
        await page.fill('[data-path="claims"]', "请求被申请人支付货款 18,600 元")
        await page.check('[data-path="respondent.kind"][value="company"]')
        await expect(page.locator('[data-path="respondent.representative"]')).to_be_visible()
        await page.fill('[data-path="respondent.name"]', "示例成都贸易有限公司")
        await page.fill('[data-path="respondent.id_number"]', CREDIT_CODE.lower())
        await page.click("#save-draft")
        await expect(page.locator("#application-notice")).to_contain_text("草稿已保存")
        await page.screenshot(path=str(ARTIFACTS / "application-draft.png"), full_page=True)

        # A fresh page (another day, another device): the draft comes back from the server.
        await page.close()
        page = await context.new_page()
        await page.goto(f"{site.base_url}/cases.html#apply")
        await expect(page.locator("#application-notice")).to_contain_text("已恢复")
        await expect(page.locator('[data-path="claims"]')).to_have_value("请求被申请人支付货款 18,600 元")
        await expect(page.locator('[data-path="respondent.kind"][value="company"]')).to_be_checked()
        await expect(page.locator('[data-path="respondent.id_number"]')).to_have_value(CREDIT_CODE)
        await expect(page.locator('[data-path="amount"]')).to_have_value("1.86万")

        # Submitting with fields missing names them in Chinese (no browser-native messages).
        await page.click("#submit-application")
        await expect(page.locator("#application-notice")).to_contain_text("必填项")
        await expect(page.locator('[data-path="facts"] ~ .field-error')).to_have_text("请填写此项。")
        await page.fill('[data-path="facts"]', "2025 年 5 月 1 日交付货物，对方至今未付款。")
        await page.fill('[data-path="applicant_address"]', "四川省成都市锦江区示例路 1 号")
        await page.fill('[data-path="respondent.representative"]', "王五")
        await page.fill('[data-path="respondent.phone"]', "17000000077")
        await page.fill('[data-path="respondent.address"]', "四川省成都市锦江区示例路 9 号")
        # A credit code with a wrong check character is refused next to its field.
        await page.fill('[data-path="respondent.id_number"]', CREDIT_CODE[:-1] + ("0" if CREDIT_CODE[-1] != "0" else "1"))
        await page.click("#submit-application")
        await expect(page.locator('[data-path="respondent.id_number"] ~ .field-error')).to_contain_text("统一社会信用代码不正确")
        await page.fill('[data-path="respondent.id_number"]', CREDIT_CODE)
        await page.click("#submit-application")

        await expect(page.locator("#confirmation h1")).to_have_text("申请已提交")
        number = await page.locator("#confirmed-number").inner_text()
        await expect(page.locator("#next-steps li")).to_have_count(4)
        await expect(page.locator("#next-steps li").first).to_contain_text("示例成都贸易有限公司")
        await page.screenshot(path=str(ARTIFACTS / "application-confirmation.png"), full_page=True)
        cases = await site.services.cases.list_cases(site.actor("alice"))
        filed = next(c for c in cases if c.case_number == number)
        view = await site.services.cases.view(site.actor("alice"), filed.id)
        respondent = next(p for p in view.parties if p.side == "respondent")
        assert (view.amount_fen, respondent.kind, respondent.representative) == (1_860_000, "company", "王五")
        drafts: ApplicationDrafts = site.services.drafts
        with pytest.raises(NotFound):  # filed: the draft is gone
            await drafts.get(site.actor("alice"))
        await page.click("#open-case")
        await expect(page.locator("ul.parties")).to_contain_text("法定代表人 王五")
    finally:
        await context.close()


async def _case_in_counselling(site: Site) -> tuple[str, str]:
    """Alice v. Bob (his ID number unknown to her) with a mediator who accepted it: (case id, mediator login)."""
    cases = site.services.cases
    alice, bob = site.actor("alice"), site.actor("bob")
    mediator = site.mediators[0]
    case = await site.services.filing.apply(alice, Application("loan", "归还借款 5,000 元", "2025 年借给对方", None,
                                                               PartyDetails("示例当事人乙", "17000000002", None, "示例路 2 号"),
                                                               500_000, applicant_address="示例路 1 号"))
    await site.services.filing.answer_consent(bob, case.id, True)
    await site.services.mediator_choice.choose_mediator(alice, case.id, mediator.id)
    await site.services.mediator_choice.answer_assignment(mediator.as_actor(), case.id, True)
    view = await cases.view(bob, case.id)
    assert next(p for p in view.parties if p.side == "respondent").id_number is not None  # from Bob's account
    return case.id, mediator.login


@SAME_LOOP
async def test_mediator_schedules_and_the_party_joins_from_the_case_page(site: Site, browser: Browser) -> None:
    case_id, mediator_login = await _case_in_counselling(site)
    mediator_ctx, bob_ctx = await person(browser), await person(browser)
    try:
        mediator = await mediator_ctx.new_page()
        await sign_in(mediator, site, "mediator", mediator_login)
        await expect(mediator.locator("#desk h1")).to_have_text("待办事项")  # the to-do list comes first
        await expect(mediator.locator("#desk-assignments")).to_contain_text("（0）")
        await expect(mediator.locator("#case-list")).to_contain_text(case_id)
        await mediator.click(f'#case-list a.case-link:text("{case_id}")')
        await expect(mediator.locator("#no-sessions")).to_have_text("尚未安排视频调解。")

        starts = (datetime.now(CHINA) + timedelta(minutes=10)).replace(second=0, microsecond=0)
        await mediator.fill("#session-date", starts.strftime("%Y-%m-%d"))
        await mediator.fill("#session-time", starts.strftime("%H:%M"))
        await mediator.fill("#session-note", "请准备好借条原件")
        await mediator.click("#schedule-session")
        await expect(mediator.locator("#sessions li.session")).to_have_count(1)
        await expect(mediator.locator("#sessions li.session")).to_contain_text(starts.strftime("%H:%M"))
        (stored,) = await site.services.sessions.of_case(site.actor("bob"), case_id)
        assert stored.starts_at == starts and stored.note == "请准备好借条原件"
        if starts.date() == datetime.now(CHINA).date():
            await mediator.click('#nav a[data-route="cases"]')
            await expect(mediator.locator("#desk-sessions")).to_contain_text(starts.strftime("%H:%M"))
            await mediator.screenshot(path=str(ARTIFACTS / "mediator-desk.png"), full_page=True)

        # Bob sees the session on his case page and, ten minutes ahead, may already enter.
        bob = await bob_ctx.new_page()
        await sign_in(bob, site, "party", "bob")
        await bob.click(f'#case-list a.case-link:text("{case_id}")')
        session = bob.locator("#sessions li.session")
        await expect(session).to_contain_text("请准备好借条原件")
        await expect(session).to_have_attribute("data-state", "open")
        await bob.screenshot(path=str(ARTIFACTS / "session-party.png"), full_page=True)
        async with bob_ctx.expect_page() as tab:
            await bob.click("#join-session")
        room = await tab.value
        await room.wait_for_url("**/join#*")
        await room.close()
        assert (await site.services.cases.view(site.actor("bob"), case_id)).step == "video_mediation"
        await expect(bob.locator("#video-panel")).to_be_visible()  # the page moved on to the open room
    finally:
        await mediator_ctx.close()
        await bob_ctx.close()
