"""The case pages in headless Chromium against a real server: a party files an application
through the form, the respondent consents, the party follows the timeline live and picks one of
the five recommended mediators, the mediator accepts, counsels and opens the video room; the party
applies for a payment order from the page; a clerk finds the (overdue) judicial-confirmation
application and the payment order in the court queue and accepts the first, and a judge rules on
it. The middle steps (result, evaluation, joint filing) go through the services to keep it short.
Also: the wrong sign-in channel, the English switch, self-registration with a texted code, and an
ended session sending the page back to sign-in.

Screenshots land in ``test-artifacts/``: case-application, case-timeline, case-mediator-choice,
court-queue, and case-mediator (the mediator's counselling view).
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta, timezone

import pytest
from playwright.async_api import Browser, Page, expect
from sqlalchemy import update

from mediation.accounts import AccountInfo, Actor
from mediation.cases import PaymentTerms
from mediation.models import Deadline

from .case_site import (ARTIFACTS, COURT, PASSWORD, REPO, SAME_LOOP, Site, browser, id_number, person, sign_in,  # noqa: F401
                        site)

pytestmark = pytest.mark.browser
CLIENT = REPO / "web_client"
EVIDENCE = "借条.pdf"
EVIDENCE_BYTES = b"%PDF-1.4 IOU for 12000 yuan"


async def _fill_application(page: Page, alice: AccountInfo) -> None:
    await page.select_option('[data-path="dispute_type"]', "loan")
    await page.fill('[data-path="amount"]', "12000.00")
    await page.fill('[data-path="claims"]', "请求被申请人归还借款 12,000 元")
    await page.fill('[data-path="facts"]', "2025 年 1 月 10 日申请人借给被申请人 12,000 元，约定三个月内归还，至今未还。")
    await expect(page.locator("#applicant-identity")).to_contain_text(alice.display_name)  # from the account
    await page.fill('[data-path="applicant_address"]', "四川省成都市锦江区示例路 1 号")
    await page.fill('[data-path="respondent.name"]', "示例当事人乙")
    await page.fill('[data-path="respondent.phone"]', "17000000002")
    await page.fill('[data-path="respondent.id_number"]', id_number(2))
    await page.fill('[data-path="respondent.address"]', "四川省成都市锦江区示例路 2 号")
    await page.set_input_files('[data-path="evidence"]', files=[
        {"name": EVIDENCE, "mimeType": "application/pdf", "buffer": EVIDENCE_BYTES}])


async def _settle_and_file(site: Site, case_id: str, mediator: Actor) -> str:
    """Steps 4-7 through the services: conclude, agreement in effect, ratings, joint confirmation."""
    court = site.services.court
    alice, bob = site.actor("alice"), site.actor("bob")
    await site.services.video.conclude_video(mediator, case_id)
    due = date.today().isoformat()  # due now: a payment order can be applied for
    agreement_id = await site.services.results.record_agreement(mediator, case_id,
                                                                 PaymentTerms("respondent", 1_200_000, due, True, False))
    # What the signing ceremony reports in-process once the parties have signed.
    await site.services.results.agreement_took_effect(case_id, agreement_id, datetime.now(timezone.utc))
    await site.services.evaluation.rate(alice, case_id, 5, "耐心细致")
    await site.services.evaluation.rate(bob, case_id, 4, "")
    await court.apply_confirmation(alice, case_id, COURT)
    return (await court.apply_confirmation(bob, case_id, None)).id


async def _let_acceptance_lapse(site: Site, case_id: str) -> None:
    """Three days pass without a decision: the stored deadline lies in the past and the monitor flags it."""
    now = datetime.now(timezone.utc)
    async with site.services.db.begin() as s:
        await s.execute(update(Deadline).where(Deadline.case_id == case_id, Deadline.kind.startswith("court:accept:"))
                        .values(started_at=now - timedelta(days=3, hours=1), due_at=now - timedelta(hours=1)))
    flagged = (await site.services.deadlines.scan()).flagged
    assert [f.kind.split(":")[1] for f in flagged if f.case_id == case_id] == ["accept"]


@SAME_LOOP
async def test_a_case_from_application_to_court_queue(site: Site, browser: Browser) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    alice_ctx, other_ctx = await person(browser), await person(browser)
    try:
        # 1. Alice applies through the form, with an evidence file.
        alice = await alice_ctx.new_page()
        await sign_in(alice, site, "party", "alice")
        await alice.click('#nav a[data-route="apply"]')
        await _fill_application(alice, site.people["alice"])
        await alice.screenshot(path=str(ARTIFACTS / "case-application.png"), full_page=True)
        await alice.click("#submit-application")
        await alice.click("#open-case")  # from the confirmation page
        await expect(alice.locator("#timeline")).to_be_visible()
        case_id = alice.url.split("#case/")[1]
        await expect(alice.locator(".live")).to_have_attribute("data-status", "on")  # following case:event
        await expect(alice.locator("#next-actor")).to_contain_text("被申请人")
        await expect(alice.locator('#timeline li[data-step="start"]')).to_have_attribute("data-state", "current")
        await expect(alice.locator('#timeline li[data-step="start"] .deadline')).to_contain_text("时限 5 天")
        view = await site.services.cases.view(site.actor("alice"), case_id)
        assert (view.step, view.amount_fen, view.dispute_type) == ("start", 1_200_000, "loan")
        assert [(d.kind, d.name) for d in view.documents] == [("evidence", EVIDENCE)]
        # The evidence opens from the case page in the page's document viewer, byte for byte as filed
        # (not a real PDF: the viewer says it cannot show it and offers the original).
        link = alice.locator("#documents a.document-link")
        await expect(link).to_have_text(EVIDENCE)
        href = await link.get_attribute("href")
        assert href == view.documents[0].url
        async with alice.context.expect_event("response", lambda r: r.url.endswith(href)) as response:
            await link.click()
        got = await response.value
        assert (got.status, got.headers["content-type"]) == (200, "application/pdf"), got.url
        await expect(alice.locator("#document-viewer")).to_have_attribute("data-state", "failed")
        await expect(alice.locator("#viewer-original")).to_have_attribute("href", href)
        await alice.click("#viewer-close")
        assert await (await alice.request.get(got.url)).body() == EVIDENCE_BYTES

        # 2. Bob consents in his own browser; Alice's page moves on live, without a reload.
        bob = await other_ctx.new_page()
        await sign_in(bob, site, "party", "bob")
        await bob.click(f'a.case-link:text("{case_id}")')
        await bob.click("#consent")
        await expect(bob.locator('#timeline li[data-step="choose_mediator"]')).to_have_attribute("data-state", "current")
        choices = alice.locator("#mediator-choice li.mediator")
        await expect(choices).to_have_count(5)
        await expect(alice.locator("#case-notice")).to_contain_text("被申请人已答复")  # the live event, in words
        await expect(alice.locator('#timeline li[data-step="start"]')).to_have_attribute("data-state", "done")
        reasons = await alice.locator("#mediator-choice .reason").all_inner_texts()
        assert all("调解成功率" in r or "尚无已结案件" in r for r in reasons), reasons
        assert reasons[0].startswith("擅长民间借贷纠纷"), reasons  # loan specialists rank first
        await alice.screenshot(path=str(ARTIFACTS / "case-mediator-choice.png"), full_page=True)

        # 3. Alice picks the first recommendation; that mediator accepts and opens the video room.
        chosen_id = await choices.first.get_attribute("data-mediator-id")
        await choices.first.locator("button").click()
        await expect(alice.locator("#choice-pending")).to_be_visible()
        chosen = next(m for m in site.mediators if m.id == chosen_id)
        await other_ctx.clear_cookies()
        mediator = await other_ctx.new_page()
        await sign_in(mediator, site, "mediator", chosen.login)
        await mediator.click(f'a.case-link:text("{case_id}")')
        await mediator.click("#accept-case")
        await expect(mediator.locator("#open-video")).to_be_visible()
        await expect(alice.locator('#timeline li[data-step="counselling"]')).to_have_attribute("data-state", "current")
        await mediator.fill('#counselling-panel input[name="message"]', "您好，我是本案调解员，请先说明双方的主要分歧。")
        await mediator.click('#counselling-panel button[type="submit"]')
        await expect(mediator.locator('.messages li[data-sender="mediator"]')).to_have_count(1)
        await expect(mediator.locator('#counselling-panel input[name="message"]')).to_have_value("")
        await mediator.screenshot(path=str(ARTIFACTS / "case-mediator.png"), full_page=True)
        await mediator.click("#open-video")
        await expect(mediator.locator("#join-room")).to_be_visible()
        async with mediator.expect_popup() as popup:
            await mediator.click("#join-room")
        room = await popup.value
        await room.wait_for_url("**/join#*")  # the tab opens with the click, then goes to the mediator's seat
        await room.close()
        await expect(alice.locator("#next-actor")).to_contain_text("调解员")
        await expect(alice.locator('#timeline li[data-step="video_mediation"]')).to_have_attribute("data-state", "current")

        # 4. Result, evaluation and the joint application through the services; the clerk lets 3 days pass.
        application_id = await _settle_and_file(site, case_id, chosen.as_actor())
        await _let_acceptance_lapse(site, case_id)
        await expect(alice.locator('#timeline li[data-step="court_docking"]')).to_have_attribute("data-state", "current")
        await expect(alice.locator(".court-deadlines li[data-overdue='yes']")).to_have_count(1)
        await expect(alice.locator('#timeline li[data-state="done"]')).to_have_count(6)
        await alice.screenshot(path=str(ARTIFACTS / "case-timeline.png"), full_page=True)

        # 5. Alice, the creditor, applies for a payment order: refused until she makes the declarations.
        await alice.click("#apply-payment-order")
        await expect(alice.locator("#court-panel .notice")).to_contain_text("不符合申请支付令的条件")
        for name in ("no_other_debt_dispute", "debtor_reachable_in_china", "no_pre_suit_preservation"):
            await alice.check(f'#court-panel input[name="{name}"]')
        await alice.click("#apply-payment-order")
        await expect(alice.locator("#court-panel .applications")).to_contain_text("支付令申请")

        # 6. The clerk's queue shows both applications, materials, conditions and the overdue flag; the clerk accepts.
        await other_ctx.clear_cookies()
        clerk = await other_ctx.new_page()
        await sign_in(clerk, site, "court", "clerk1")
        item = clerk.locator(f'#court-queue li[data-application-id="{application_id}"]')
        await expect(item).to_have_attribute("data-kind", "judicial_confirmation")
        await expect(item).to_have_attribute("data-overdue", "yes")
        await expect(item.locator(".materials")).to_contain_text("调解协议书")
        order = clerk.locator('#court-queue li[data-kind="payment_order"]')
        await expect(order.locator('.checks li[data-met="true"]')).to_have_count(8)
        await clerk.screenshot(path=str(ARTIFACTS / "court-queue.png"), full_page=True)
        await item.locator("textarea").fill("材料齐全，予以受理")
        await item.locator('[data-act="accept"]').click()
        await expect(item).to_have_count(0)
        await expect(order).to_have_count(1)  # the payment order waits for its own decision
        decided = await site.services.court.application(site.actor("clerk"), application_id)
        assert (decided.status, decided.reasons) == ("accepted", "材料齐全，予以受理")

        # 7. The judge finds it among the applications waiting for a ruling and confirms the agreement.
        await other_ctx.clear_cookies()
        judge = await other_ctx.new_page()
        await sign_in(judge, site, "court", "judge1")
        item = judge.locator(f'#court-queue li[data-application-id="{application_id}"]')
        await expect(item).to_have_attribute("data-overdue", "no")  # 15 days to rule, just started
        await item.locator('[data-act="grant"]').click()
        await expect(judge.locator("#confirm-dialog")).to_contain_text("确认裁定：调解协议有效？")
        await judge.click("#dialog-confirm")
        await expect(judge.locator("#court-queue .queue")).to_contain_text("暂无待办申请")
        ruled = await site.services.court.application(site.actor("judge"), application_id)
        assert (ruled.status, ruled.ruling) == ("ruled", "valid"), ruled
    finally:
        await alice_ctx.close()
        await other_ctx.close()


@SAME_LOOP
async def test_sign_in_through_the_wrong_channel_is_refused_and_english_works(site: Site, browser: Browser) -> None:
    context = await person(browser)
    try:
        page = await context.new_page()
        await page.goto(f"{site.base_url}/cases.html")
        await page.fill("#login", site.mediators[0].login)  # a mediator at the party entrance
        await page.fill("#password", PASSWORD)
        await page.click("#sign-in")
        await expect(page.locator("#auth-error")).to_contain_text("登录入口不正确")
        await expect(page.locator("#who")).to_be_hidden()
        await page.click("#lang")
        await expect(page.locator('[data-channel="court"]')).to_have_text("Court")
        await expect(page.locator("html")).to_have_attribute("lang", "en")
    finally:
        await context.close()


@SAME_LOOP
async def test_a_party_registers_with_a_texted_code_and_an_ended_session_asks_to_sign_in_again(site: Site, browser: Browser) -> None:
    context = await person(browser)
    try:
        page = await context.new_page()
        await page.goto(f"{site.base_url}/cases.html")
        await page.click("#show-register")
        await page.fill("#reg-phone", "17000000009")
        await page.click("#send-code")
        await expect(page.locator("#auth-info")).to_contain_text("17000000009")
        outbox = (site.data_dir / "sms-outbox.jsonl").read_text(encoding="utf-8").splitlines()
        code = re.search(r"\b(\d{6})\b", json.loads(outbox[-1])["text"])
        assert code is not None
        await page.fill("#reg-code", "000000" if code.group(1) != "000000" else "111111")
        await page.fill("#reg-name", "示例当事人丙")
        await page.fill("#reg-id", id_number(9))
        await page.fill("#reg-login", "carol")
        await page.fill("#reg-password", PASSWORD)
        await page.click("#register")
        await expect(page.locator("#auth-error")).to_contain_text("验证码错误")
        await page.fill("#reg-code", code.group(1))
        await page.click("#register")
        await expect(page.locator("#who")).to_contain_text("示例当事人丙")
        await expect(page.locator("#view")).to_contain_text("暂无案件")  # signed in, nothing filed yet

        # The session ends elsewhere (logout on another device): the next call sends the page to sign-in.
        (session,) = [c["value"] for c in await context.cookies() if c["name"] == "accord_session"]
        await site.services.accounts.logout(session)
        await page.click('#nav a[data-route="apply"]')  # GET /api/me/application-draft answers 401
        await expect(page.locator("#auth-error")).to_contain_text("登录已过期")
        await expect(page.locator("#login-form")).to_be_visible()
    finally:
        await context.close()


def _catalog(body: str) -> dict[str, set[str]]:
    zh_start, en_start = body.index("\n  zh: {"), body.index("\n  en: {")
    key = re.compile(r'^\s+"([\w.:]+)":', re.M)
    return {"zh": set(key.findall(body[zh_start:en_start])), "en": set(key.findall(body[en_start:]))}


def test_every_case_page_string_exists_in_both_languages() -> None:
    catalog = _catalog((CLIENT / "js/cases/messages.js").read_text())
    identity = _catalog((CLIENT / "js/identity_messages.js").read_text())  # the enrolment panel's own
    application = _catalog((CLIENT / "js/cases/application_messages.js").read_text())  # application, desk, sessions
    assert catalog["zh"] == catalog["en"], catalog["zh"] ^ catalog["en"]
    assert application["zh"] == application["en"], application["zh"] ^ application["en"]
    used = set(re.findall(r'data-i18n="([\w.]+)"', (CLIENT / "cases.html").read_text()))
    for path in (CLIENT / "js/cases").glob("*.js"):
        used |= set(re.findall(r'\bt\(\s*"([\w.:]+)"', path.read_text()))
        used |= set(re.findall(r'(?:button|panel)\([^)]*?"([a-z]+\.[\w.]+)"', path.read_text()))
    assert used, "the scan found the keys"
    missing = used - catalog["zh"] - identity["zh"] - application["zh"]
    assert not missing, sorted(missing)
