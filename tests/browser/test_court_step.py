"""Step 7 and administration in headless Chromium, one person (browser context) at a time.

A case already settled and rated (prepared through the services) goes to court through the
pages: the applicant chooses the court from the court directory and applies for judicial
confirmation, the respondent joins from their own case page, the clerk accepts from the court
queue (after opening and cancelling the refusal dialog), the judge confirms the agreement in a
dialog, and the applicant reads the outcome in plain words and opens the ruling, a PDF signed
with the court's certificate (fetched in the page, validated with pyHanko). Each page says
who acts next, as the server computes it. Also: the mediator records a failure with reasons, and
a platform administrator lists a court and creates a judge of it, who then signs in.

Screenshots in ``test-artifacts/``: court-apply, court-join, court-judge-dialog, court-final,
case-failure, admin-staff.
"""

from __future__ import annotations

import base64
import re

import pytest
from playwright.async_api import Browser, Page, expect

from mediation.accounts import Actor
from mediation.demo_data import DEMO_COURTS
from mediation.next_actions import SIGNERS, Action
from recordings.store import FINISHED, RecordingStore
from signaling.api.pki import PKI_KEY
from signing.verification import async_verify_agreement

from .case_site import (ARTIFACTS, COURT, PASSWORD, REPO, SAME_LOOP, Site, browser, case_at_the_court_step,  # noqa: F401
                        case_to_mediation_result, person, sign_in, site)

pytestmark = pytest.mark.browser


async def _open_case(page: Page, site: Site, channel: str, login: str, case_id: str) -> None:
    await sign_in(page, site, channel, login)
    await page.goto(f"{site.base_url}/cases.html#case/{case_id}")
    await expect(page.locator("#timeline")).to_be_visible()


@SAME_LOOP
async def test_judicial_confirmation_through_the_pages(site: Site, browser: Browser) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    admin = Actor("root", "platform_admin", "示例平台管理员")
    await site.services.courts.ensure(admin, DEMO_COURTS)
    case_id = await case_at_the_court_step(site)
    # A recorded session of the case: the application cites it by its manifest's hash.
    recordings = RecordingStore(site.services.db, site.services.cases.clock)
    recorded = await recordings.start_session(case_id, "court-step-room", {"mode": "joint"})
    await recordings.finish(recorded.id, state=FINISHED, end_us=5_000_000, note="stopped")
    await recordings.set_manifest(recorded.id, "5e" * 32)

    # The applicant chooses the court from the directory and applies.
    context = await person(browser)
    alice = await context.new_page()
    await _open_case(alice, site, "party", "alice", case_id)
    await expect(alice.locator('#next-actor p[data-mine="yes"]')).to_have_text(re.compile(r"^轮到您：申请司法确认"))
    court = alice.locator('#court-panel select[name="court"]')
    await expect(court.locator("option")).to_have_count(len(DEMO_COURTS) + 1)  # and "请选择法院"
    await alice.click("#apply-confirmation")  # nothing chosen yet: the server says which court is missing
    await expect(alice.locator("#court-panel .notice")).to_have_text("请选择法院。")
    await court.select_option(COURT)
    await alice.click("#apply-confirmation")
    await expect(alice.locator("#awaiting-other")).to_contain_text(f"您已向{COURT}申请司法确认")
    await expect(alice.locator("#next-actor")).to_contain_text(f"等待被申请人共同申请司法确认（加入对方向{COURT}提出的申请）")
    await alice.screenshot(path=str(ARTIFACTS / "court-apply.png"), full_page=True)
    await context.close()

    # The respondent joins from his own case page.
    context = await person(browser)
    bob = await context.new_page()
    await _open_case(bob, site, "party", "bob", case_id)
    await expect(bob.locator('#next-actor p[data-mine="yes"]')).to_contain_text("轮到您：共同申请司法确认")
    await expect(bob.locator("#court-panel")).to_contain_text(f"对方已向{COURT}申请司法确认")
    await bob.screenshot(path=str(ARTIFACTS / "court-join.png"), full_page=True)
    await bob.click("#join-confirmation")
    await expect(bob.locator('#court-panel .applications li[data-status="filed"]')).to_contain_text("待受理")
    await expect(bob.locator("#next-actor")).to_contain_text(f"等待{COURT}立案庭审查司法确认申请并决定是否受理")
    (application,) = await site.services.court.applications_of_case(site.actor("bob"), case_id)
    assert (application.status, application.court, application.joined_sides) == ("filed", COURT, ["applicant", "respondent"])
    await context.close()

    # The clerk opens the refusal dialog, thinks again, and accepts.
    context = await person(browser)
    clerk = await context.new_page()
    await sign_in(clerk, site, "court", "clerk1")
    item = clerk.locator(f'#court-queue li[data-application-id="{application.id}"]')
    cited = item.locator(f'.recordings li[data-session="{recorded.id}"]')
    await expect(cited).to_contain_text(f"录像 {recorded.id}")
    await expect(cited).to_contain_text(f"（正常结束） SHA-256 {'5e' * 32}")
    await item.locator('[data-act="refuse"]').click()
    await expect(clerk.locator("#confirm-dialog")).to_contain_text("确认对该申请不予受理？")
    await clerk.click("#dialog-cancel")
    await expect(clerk.locator("#confirm-dialog")).to_have_count(0)
    assert (await site.services.court.application(site.actor("clerk"), application.id)).status == "filed"
    await item.locator("textarea").fill("材料齐全，予以受理")
    await item.locator('[data-act="accept"]').click()
    await expect(item).to_have_count(0)
    await context.close()

    # The judge confirms the agreement: a confirmation ruling, asked again in a dialog.
    context = await person(browser)
    judge = await context.new_page()
    await sign_in(judge, site, "court", "judge1")
    item = judge.locator(f'#court-queue li[data-application-id="{application.id}"]')
    await expect(item.locator('[data-act="grant"]')).to_have_text("裁定确认调解协议有效")
    await expect(item.locator('[data-act="deny"]')).to_have_text("裁定驳回司法确认申请")
    await item.locator('[data-act="grant"]').click()
    dialog = judge.locator("#confirm-dialog")
    await expect(dialog).to_contain_text("确认裁定：调解协议有效？")
    await expect(dialog).to_contain_text(application.id)
    await judge.screenshot(path=str(ARTIFACTS / "court-judge-dialog.png"))
    await judge.click("#dialog-confirm")
    await expect(judge.locator("#court-queue .queue")).to_contain_text("暂无待办申请")
    ruled = await site.services.court.application(site.actor("judge"), application.id)
    assert (ruled.status, ruled.ruling) == ("ruled", "valid")
    await context.close()

    # The ruling document came with the ruling, signed by the court; the applicant reads the outcome.
    context = await person(browser)
    alice = await context.new_page()
    await _open_case(alice, site, "party", "alice", case_id)
    final = alice.locator("#final-state")
    await expect(final).to_contain_text(re.compile(rf"法院已裁定确认调解协议有效（\d{{4}}年\d{{1,2}}月\d{{1,2}}日，{COURT}）"))
    await expect(alice.locator("#next-actor")).to_have_text("案件已结束")
    link = final.locator(f"#open-ruling-{application.id}")
    await expect(link).to_have_text("打开民事裁定书")
    fetched = await alice.evaluate("""async (href) => {
        const response = await fetch(href);
        const bytes = new Uint8Array(await response.arrayBuffer());
        return {status: response.status, type: response.headers.get("content-type"),
                base64: btoa(Array.from(bytes, (b) => String.fromCharCode(b)).join(""))};
    }""", await link.get_attribute("href"))
    pdf = base64.b64decode(fetched["base64"])
    assert (fetched["status"], fetched["type"], pdf[:5]) == (200, "application/pdf", b"%PDF-")
    report = await async_verify_agreement(pdf, [site.app[PKI_KEY].root_cert])  # pyHanko: the court's seal, B-LTA
    assert report.valid and report.document_kind == "ruling", report.to_dict()
    assert (report.ruling or {}).get("court") == COURT and report.signatures[0].signer.organisation == COURT
    await alice.screenshot(path=str(ARTIFACTS / "court-final.png"), full_page=True)
    await context.close()


@SAME_LOOP
async def test_the_mediator_records_a_failure_with_reasons(site: Site, browser: Browser) -> None:
    case_id, mediator = await case_to_mediation_result(site)
    context = await person(browser)
    try:
        page = await context.new_page()
        await _open_case(page, site, "mediator", site.mediators[0].login, case_id)
        await expect(page.locator('#next-actor p[data-mine="yes"]')).to_contain_text("轮到您：登记调解协议或记录调解不成")
        await page.click("#record-failure")  # no reason given
        await expect(page.locator("#failure-panel .notice")).to_contain_text("请填写 1 至 20 条原因")
        await page.fill('#failure-panel textarea[name="failure_reasons"]', "双方对还款金额分歧较大\n\n被申请人无还款能力")
        await page.click("#record-failure")
        await expect(page.locator("#confirm-dialog")).to_contain_text("双方对还款金额分歧较大；被申请人无还款能力")
        await page.screenshot(path=str(ARTIFACTS / "case-failure.png"))
        await page.click("#dialog-confirm")
        await expect(page.locator('#timeline li[data-step="evaluation"]')).to_have_attribute("data-state", "current")
        await expect(page.locator("#next-actor")).to_contain_text("等待申请人、被申请人评价调解员")
        view = await site.services.cases.view(mediator, case_id)
        assert (view.outcome, view.result and view.result.failure_reasons) == (
            "failed", ["双方对还款金额分歧较大", "被申请人无还款能力"])
    finally:
        await context.close()


@SAME_LOOP
async def test_an_administrator_lists_a_court_and_creates_its_judge(site: Site, browser: Browser) -> None:
    new_court = "示例成都高新技术产业开发区人民法院"
    context = await person(browser)
    try:
        page = await context.new_page()
        await sign_in(page, site, "admin", "root")
        await page.click('#nav a[data-route="admin"]')
        await page.fill('#court-form input[name="court_name"]', new_court)
        await page.fill('#court-form input[name="court_region"]', "四川省成都市高新区")
        await page.fill('#court-form input[name="court_code"]', "川0191")
        await page.click("#add-court")
        await expect(page.locator("#court-list")).to_contain_text(new_court)
        await page.select_option("#staff-role", "judge")
        await expect(page.locator("#profile-fields")).to_be_hidden()
        await page.fill('#staff-form input[name="login"]', "judge-gaoxin")
        await page.fill('#staff-form input[name="display_name"]', "示例法官乙")
        await page.fill('#staff-form input[name="password"]', PASSWORD)
        await page.select_option("#staff-court", new_court)  # the court just listed, without a reload
        await page.click("#create-staff")
        await expect(page.locator("#staff-card > .notice")).to_contain_text(
            f"已创建法官账号 judge-gaoxin（示例法官乙，{new_court}）")
        await expect(page.locator('#created-accounts li[data-role="judge"]')).to_have_count(1)
        await page.screenshot(path=str(ARTIFACTS / "admin-staff.png"), full_page=True)

        # The new judge signs in through the court's entrance and sees the court's desk.
        await context.clear_cookies()
        judge = await context.new_page()
        await sign_in(judge, site, "court", "judge-gaoxin")
        await expect(judge.locator("#court-queue h1")).to_contain_text(new_court)
    finally:
        await context.close()


def test_every_next_action_and_ruling_has_words_in_both_languages() -> None:
    """The server's action codes and rulings are shown through keys built at run time
    (`next.<action>`, `who.<role>`, `final.<kind>.<ruling>`): each must exist in zh and en."""
    body = (REPO / "web_client/js/cases/messages.js").read_text(encoding="utf-8")
    zh, en = body[body.index("\n  zh: {"):body.index("\n  en: {")], body[body.index("\n  en: {"):]
    codes = [value for name, value in vars(Action).items() if not name.startswith("_")]
    keys = [f"next.{code}" for code in codes]
    keys += [f"who.{role}" for role in ("mediator", "org_admin", "court_clerk", "judge", "agent", SIGNERS)]
    keys += [f"slot.{role}" for role in ("mediator", "organisation")]
    keys += [f"{kind}.agreement.{what}" for kind in ("log", "event") for what in ("locked", "signed", "sealed", "completed")]
    keys += [f"final.{kind}.{ruling}" for kind, rulings in
             (("judicial_confirmation", ("valid", "rejected")), ("payment_order", ("issued", "rejected"))) for ruling in rulings]
    keys += [f"final.openRuling.{kind}" for kind in ("judicial_confirmation", "payment_order")]
    keys += [f"court.{verb}.{kind}" for verb in ("grant", "deny", "askGrant", "askDeny") for kind in ("confirmation", "order")]
    missing = [(lang, key) for lang, table in (("zh", zh), ("en", en)) for key in keys if f'"{key}":' not in table]
    assert not missing, missing
