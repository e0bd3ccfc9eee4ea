"""One case through every step in headless Chromium, each step by its person in their own pages.

Before anyone arrives the deployment has what a real one has: a platform administrator (made by
the service, as ``accord admin create`` does) and one mediation organisation in the directory.
Everything else is done in the pages, one browser context (one person) at a time: the
administrator lists the court and creates the organisation's administrator, a mediator, a clerk
and a judge; the applicant registers with a texted code and applies; the respondent registers,
consents and chooses the mediator among the recommendations; the mediator accepts, counsels,
opens and concludes the video session, drafts the agreement from the case, writes its terms and
locks it; the applicant, the respondent and the mediator each sign from their case page when it
is their turn (the identity check simulated on the signing page: the server runs the test gate);
the organisation's administrator seals; both parties rate; the applicant applies for judicial
confirmation at a court chosen from the list and the respondent joins; the clerk accepts; the
judge confirms in a dialog; the applicant reads the outcome and opens the agreement and the
ruling. Then the case package the page links is checked: its signed agreement validates with
pyHanko, ``pyhanko sign adesverify``, poppler's ``pdfsig`` and ``accord verify``, and ``accord
verify`` accepts the whole package (with the court-signed ruling).

Screenshots of every step in ``test-artifacts/whole-case-*.png``.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import zipfile
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import AsyncIterator

import pytest
import pytest_asyncio
from aiohttp import web
from cryptography.hazmat.primitives.serialization import Encoding
from playwright.async_api import Browser, Locator, Page, expect

from mediation.directory import NewOrganisation
from mediation.services import MediationServices
from signaling.api.accounts import SERVICES_KEY
from signaling.api.directory import DIRECTORY_KEY
from signaling.api.pki import PKI_KEY
from signaling.app import create_app
from signaling.config import Settings
from signing.verification import async_verify_agreement

from .case_site import ARTIFACTS, LOOPBACK_MEDIA, PASSWORD, SAME_LOOP, browser, id_number  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.timeout(420)]

ORG = "示例武侯区人民调解委员会"
ORG_CREDIT_CODE = "12510107MB0000001X"
COURT = "示例成都市武侯区人民法院"
COURT_CODE = "川0107"
VENV_BIN = Path(sys.executable).parent
APPLICANT = {"login": "zhangsan", "name": "示例张三", "phone": "17000001001", "id": id_number(11)}
RESPONDENT = {"login": "lisi", "name": "示例李四", "phone": "17000001002", "id": id_number(12)}
MEDIATOR = {"login": "mediator-wh", "name": "示例王调解员", "id": id_number(13)}
JUDGE_LOGIN = "judge-wh"
STAFF = [  # role, login, name, where
    ("org_admin", "orgadmin-wh", "示例组织管理员", ORG),
    ("mediator", MEDIATOR["login"], MEDIATOR["name"], ORG),
    ("court_clerk", "clerk-wh", "示例立案书记员", COURT),
    ("judge", JUDGE_LOGIN, "示例审判员", COURT),
]


@dataclass
class Deployment:
    base_url: str
    data_dir: Path
    app: web.Application

    @property
    def services(self) -> MediationServices:
        return self.app[SERVICES_KEY]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def deployment(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Deployment]:
    """The server with the test identity gate (never in production), a platform administrator and
    one organisation in the directory: nothing else."""
    data_dir = tmp_path_factory.mktemp("whole-case") / "data"
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    app = create_app(Settings(data_dir=data_dir, log_level="WARNING", public_url=base_url, identity_gate="test",
                                **LOOPBACK_MEDIA))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    admin = (await app[SERVICES_KEY].accounts.bootstrap_admin("root", "示例平台管理员", PASSWORD)).as_actor()
    await app[DIRECTORY_KEY].directory.add_organisation(admin, NewOrganisation(
        ORG, "peoples", "四川省成都市武侯区", "示例大道 8 号", "028-00000008", credit_code=ORG_CREDIT_CODE))
    yield Deployment(base_url, data_dir, app)
    await runner.cleanup()


@asynccontextmanager
async def person(browser: Browser) -> AsyncIterator[Page]:
    """One person at a time: a fresh browser context (their own cookies), closed before the next comes."""
    context = await browser.new_context(viewport={"width": 1440, "height": 1000}, locale="zh-CN",
                                        timezone_id="Asia/Shanghai", accept_downloads=True)
    try:
        page = await context.new_page()
        page.on("dialog", lambda dialog: dialog.accept())  # the editor's "lock the text?" confirm
        yield page
    finally:
        await context.close()


class Journey:
    """What the test keeps across people: the numbered screenshots, and the phones' text messages."""

    def __init__(self, deployment: Deployment):
        self.deployment = deployment
        self.shots = 0

    async def shot(self, page: Page, name: str) -> None:
        self.shots += 1
        await page.screenshot(path=str(ARTIFACTS / f"whole-case-{self.shots:02d}-{name}.png"), full_page=True)

    def texted_code(self, phone: str) -> str:
        """The newest code the development SMS gateway texted to ``phone`` (the test holds the phone)."""
        lines = (self.deployment.data_dir / "sms-outbox.jsonl").read_text(encoding="utf-8").splitlines()
        text = next(json.loads(line)["text"] for line in reversed(lines) if json.loads(line)["phone"] == phone)
        code = re.search(r"\b(\d{6})\b", text)
        assert code is not None, text
        return code.group(1)


async def sign_in(page: Page, base_url: str, channel: str, login: str) -> None:
    await page.goto(f"{base_url}/cases.html")
    await page.click(f'[data-channel="{channel}"]')
    await page.fill("#login", login)
    await page.fill("#password", PASSWORD)
    await page.click("#sign-in")
    await expect(page.locator("#who")).to_be_visible()


async def open_case(page: Page, case_id: str) -> None:
    await page.click(f'#case-list a[href="#case/{case_id}"]')
    await expect(page.locator("#timeline")).to_be_visible()


async def register(page: Page, journey: Journey, who: dict[str, str]) -> None:
    """Self-registration through the party channel with the code texted to the phone."""
    await page.goto(f"{journey.deployment.base_url}/cases.html")
    await page.click("#show-register")
    await page.fill("#reg-phone", who["phone"])
    await page.click("#send-code")
    await expect(page.locator("#auth-info")).to_be_visible()
    await page.fill("#reg-code", journey.texted_code(who["phone"]))
    await page.fill("#reg-name", who["name"])
    await page.fill("#reg-id", who["id"])
    await page.fill("#reg-login", who["login"])
    await page.fill("#reg-password", PASSWORD)
    await page.click("#register")
    await expect(page.locator("#who")).to_contain_text(who["name"])


@SAME_LOOP
async def test_one_case_through_every_step_in_the_pages(deployment: Deployment, browser: Browser,
                                                        tmp_path: Path) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    journey = Journey(deployment)
    base = deployment.base_url

    # The platform administrator lists the court and creates the staff.
    async with person(browser) as page:
        await sign_in(page, base, "admin", "root")
        await page.click('#nav a[data-route="admin"]')
        await page.fill('#court-form input[name="court_name"]', COURT)
        await page.fill('#court-form input[name="court_region"]', "四川省成都市武侯区")
        await page.fill('#court-form input[name="court_code"]', COURT_CODE)
        await page.click("#add-court")
        await expect(page.locator("#court-list")).to_contain_text(COURT)
        for role, login, name, where in STAFF:
            await page.select_option("#staff-role", role)
            await page.fill('#staff-form input[name="login"]', login)
            await page.fill('#staff-form input[name="display_name"]', name)
            await page.fill('#staff-form input[name="password"]', PASSWORD)
            if role in ("court_clerk", "judge"):
                await page.select_option("#staff-court", where)
            else:
                await page.select_option('#staff-form select[name="organisation"]', where)
            if role == "mediator":
                await page.select_option('#profile-fields select[name="category"]', "peoples_mediator")
                await page.fill('#profile-fields input[name="region"]', "四川省成都市武侯区")
                await page.check('#profile-fields input[name="speciality"][value="loan"]')
            await page.click("#create-staff")
            await expect(page.locator(f'#created-accounts li[data-role="{role}"]')).to_contain_text(login)
        await journey.shot(page, "admin-staff")

    # The applicant registers with the code texted to her phone and applies.
    async with person(browser) as page:
        await register(page, journey, APPLICANT)
        await page.click('#nav a[data-route="apply"]')
        form = page.locator("#application-form")
        await form.locator('[data-path="dispute_type"]').select_option("loan")
        await form.locator('[data-path="amount"]').fill("12000")
        await form.locator('[data-path="claims"]').fill("请求被申请人归还借款 12,000 元")
        await form.locator('[data-path="facts"]').fill("2025 年 1 月 10 日被申请人借款 12,000 元，约定半年归还，至今未还。")
        await expect(form.locator("#applicant-identity")).to_contain_text(APPLICANT["name"])  # from the registration
        await form.locator('[data-path="applicant_address"]').fill("四川省成都市武侯区示例路 1 号")
        await form.locator('[data-path="respondent.name"]').fill(RESPONDENT["name"])
        await form.locator('[data-path="respondent.phone"]').fill(RESPONDENT["phone"])
        await form.locator('[data-path="respondent.id_number"]').fill(RESPONDENT["id"])
        await form.locator('[data-path="respondent.address"]').fill("四川省成都市武侯区示例路 2 号")
        await page.click("#submit-application")
        await expect(page.locator("#confirmation")).to_contain_text("申请已提交")
        await page.click("#open-case")
        await expect(page.locator("#timeline")).to_be_visible()
        case_id = re.search(r"#case/(CASE-[0-9A-F]+)", page.url).group(1)  # type: ignore[union-attr]
        await expect(page.locator("#next-actor")).to_contain_text("等待被申请人确认是否同意调解")
        await journey.shot(page, "applied")

    # The respondent registers with the phone the application names, consents and chooses the mediator.
    async with person(browser) as page:
        await register(page, journey, RESPONDENT)
        await open_case(page, case_id)
        await expect(page.locator('#next-actor p[data-mine="yes"]')).to_contain_text("轮到您：确认是否同意调解")
        await page.click("#consent")
        choice = page.locator("#mediator-choice")
        await expect(choice).to_contain_text(MEDIATOR["name"])
        await journey.shot(page, "recommendations")
        await choice.locator("li.mediator", has_text=MEDIATOR["name"]).locator("button").click()
        await expect(page.locator("#choice-pending")).to_be_visible()
        await expect(page.locator("#next-actor")).to_contain_text("等待调解员接受或拒绝承办本案")

    # The mediator accepts, counsels, opens and concludes the video session, drafts the agreement
    # from the case page and writes its terms in the editor, then locks it.
    async with person(browser) as page:
        await sign_in(page, base, "mediator", MEDIATOR["login"])
        await open_case(page, case_id)
        await expect(page.locator('#next-actor p[data-mine="yes"]')).to_contain_text("轮到您：接受或拒绝承办本案")
        await page.click("#accept-case")
        counselling = page.locator("#counselling-panel")
        await counselling.locator('select[name="message_side"]').select_option("respondent")
        await counselling.locator('input[name="message"]').fill("您好，请于本周内提交还款能力的相关材料。")
        await counselling.locator('button[type="submit"]').click()
        await expect(counselling.locator(".messages")).to_contain_text("请于本周内提交还款能力的相关材料")
        await journey.shot(page, "counselling")
        await page.click("#open-video")
        await expect(page.locator("#video-panel")).to_be_visible()
        await expect(page.locator('#next-actor p[data-mine="yes"]')).to_contain_text("轮到您：主持并结束视频调解")
        await page.click("#conclude-video")
        await expect(page.locator('#next-actor p[data-mine="yes"]')).to_contain_text("轮到您：登记调解协议或记录调解不成")
        await journey.shot(page, "result-step")
        await page.click("#draft-agreement")
        await page.wait_for_url("**/agreement.html#ag_*")
        agreement_id = page.url.rsplit("#", 1)[1]
        await expect(page.locator("#status")).to_have_attribute("data-status", "draft")
        await expect(page.locator('[data-path="parties.0.name"]')).to_have_value(APPLICANT["name"])
        await expect(page.locator('[data-path="parties.1.name"]')).to_have_value(RESPONDENT["name"])
        await page.fill('[data-path="mediator.id_number"]', MEDIATOR["id"])
        await page.fill('[data-path="place"]', "四川省成都市武侯区")
        await page.fill('[data-path="facts"]', "2025 年 1 月 10 日被申请人向申请人借款 12,000 元，约定半年归还，至今未还。")
        await page.fill('[data-path="monetary.0.amount"]', "12000.00")
        await page.fill('[data-path="monetary.0.method"]', "银行转账")
        await page.click("#preview")
        await expect(page.locator("#pages img").first).to_be_visible(timeout=30_000)
        await journey.shot(page, "editor")
        await page.click("#lock")
        await expect(page.locator("#status")).to_have_attribute("data-status", "locked", timeout=30_000)
        await journey.shot(page, "locked")
        await page.click("#back-to-case")
        await expect(page.locator("#next-actor")).to_contain_text("等待申请人签署调解协议")
        await journey.shot(page, "waiting-for-signatures")

    # Each signer signs from their case page when it is their turn, in the legal order.
    for signer, channel, waits_for in ((APPLICANT, "party", "等待被申请人签署调解协议"),
                                       (RESPONDENT, "party", "等待调解员签署调解协议"),
                                       (MEDIATOR, "mediator", "等待调解组织在调解协议上加盖调解组织印章")):
        async with person(browser) as page:
            await sign_in(page, base, channel, signer["login"])
            await open_case(page, case_id)
            await sign_from_the_case_page(page, journey, agreement_id, signer["login"])
            await page.click("#back-to-case")
            await expect(page.locator("#next-actor")).to_contain_text(waits_for)

    # The organisation's administrator seals.
    async with person(browser) as page:
        await sign_in(page, base, "mediator", "orgadmin-wh")  # the organisations' entrance
        await open_case(page, case_id)
        await expect(page.locator('#next-actor p[data-mine="yes"]')).to_contain_text("轮到您：在调解协议上加盖调解组织印章")
        await page.click("#seal-agreement")
        await expect(page.locator("#agreement-status")).to_have_attribute("data-status", "completed", timeout=60_000)
        await expect(page.locator("#agreement-panel")).to_contain_text("已签署并加盖印章")
        for line in (f"签署调解协议：{APPLICANT['name']}", f"签署调解协议：{RESPONDENT['name']}",
                     f"签署调解协议：{MEDIATOR['name']}", "协议签署完成并加盖印章"):
            await expect(page.locator("#activity")).to_contain_text(line)  # each signature in the case's trail
        await journey.shot(page, "sealed")

    # Both parties rate; the applicant applies for judicial confirmation at a court from the list.
    async with person(browser) as page:
        await sign_in(page, base, "party", RESPONDENT["login"])
        await open_case(page, case_id)
        await rate(page, 5, "调解员耐心细致")
        await expect(page.locator("#next-actor")).to_contain_text("等待申请人评价调解员")
    async with person(browser) as page:
        await sign_in(page, base, "party", APPLICANT["login"])
        await open_case(page, case_id)
        await rate(page, 4, "")
        await expect(page.locator('#next-actor p[data-mine="yes"]')).to_contain_text("轮到您：申请司法确认")
        await page.locator('#court-panel select[name="court"]').select_option(COURT)
        await page.click("#apply-confirmation")
        await expect(page.locator("#awaiting-other")).to_contain_text(f"您已向{COURT}申请司法确认")
        await journey.shot(page, "applied-to-court")
    async with person(browser) as page:
        await sign_in(page, base, "party", RESPONDENT["login"])
        await open_case(page, case_id)
        await expect(page.locator('#next-actor p[data-mine="yes"]')).to_contain_text("轮到您：共同申请司法确认")
        await page.click("#join-confirmation")
        await expect(page.locator("#next-actor")).to_contain_text(f"等待{COURT}立案庭审查司法确认申请并决定是否受理")

    # The clerk accepts; the judge confirms the agreement, asked again in a dialog.
    async with person(browser) as page:
        await sign_in(page, base, "court", "clerk-wh")
        item = page.locator("#court-queue li.application", has_text=case_id)
        await item.locator("textarea").fill("材料齐全，予以受理")
        await journey.shot(page, "clerk-queue")
        await item.locator('[data-act="accept"]').click()
        await expect(item).to_have_count(0)
    async with person(browser) as page:
        await sign_in(page, base, "court", JUDGE_LOGIN)
        item = page.locator("#court-queue li.application", has_text=case_id)
        application_id = await item.get_attribute("data-application-id")
        await item.locator('[data-act="grant"]').click()
        await expect(page.locator("#confirm-dialog")).to_contain_text("确认裁定：调解协议有效？")
        await journey.shot(page, "judge-dialog")
        await page.click("#dialog-confirm")
        await expect(page.locator("#court-queue .queue")).to_contain_text("暂无待办申请")
    assert application_id is not None

    # The applicant reads the outcome in plain words and opens the agreement and the ruling.
    async with person(browser) as page:
        await sign_in(page, base, "party", APPLICANT["login"])
        await open_case(page, case_id)
        final = page.locator("#final-state")
        await expect(final).to_contain_text(re.compile(rf"法院已裁定确认调解协议有效（\d{{4}}年\d{{1,2}}月\d{{1,2}}日，{COURT}）"))
        await expect(page.locator("#next-actor")).to_have_text("案件已结束")
        await journey.shot(page, "final")
        agreement_pdf = await opened(page, final.locator("#open-final-agreement"), "打开调解协议书")
        ruling_pdf = await opened(page, final.locator(f"#open-ruling-{application_id}"), "打开民事裁定书")
        assert ruling_pdf.startswith(b"%PDF")
        async with page.expect_download() as download:
            await final.locator("#download-package").click()
        package = tmp_path / "package.zip"
        await (await download.value).save_as(package)

    # The signed agreement in the package: the one the page opened, valid for every tool.
    with zipfile.ZipFile(package) as archive:
        case_json = json.loads(archive.read("case.json"))
        signed = archive.read(case_json["agreement"]["path"])
    assert case_json["agreement"]["status"] == "completed"
    assert signed == agreement_pdf
    await check_signed_agreement(deployment, signed, tmp_path)
    # The ruling the page opened is the court-signed one in the package, and the package as a
    # whole (manifest, audit chain, agreement, ruling and their ties) verifies offline.
    with zipfile.ZipFile(package) as archive:
        assert archive.read(f"rulings/{application_id}.pdf") == ruling_pdf
    run = subprocess.run([str(VENV_BIN / "accord"), "--data-dir", str(deployment.data_dir), "verify", str(package)],
                         capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stdout + run.stderr


async def sign_from_the_case_page(page: Page, journey: Journey, agreement_id: str, who: str) -> None:
    """"Sign now" on the case page, the development identity check, then the signature."""
    await expect(page.locator('#next-actor p[data-mine="yes"]')).to_contain_text("轮到您：签署调解协议")
    await expect(page.locator("#sign-blocked")).to_have_attribute("data-code", "identity_check_required")
    await page.click("#sign-now")
    await page.wait_for_url(f"**/sign.html?agreement={agreement_id}")
    await expect(page.locator("body")).to_have_attribute("data-state", "blocked", timeout=30_000)
    await expect(page.locator("#blocked")).to_contain_text("身份核验")
    await expect(page.locator("#simulate-identity")).to_have_text("开发环境：模拟身份核验")
    await journey.shot(page, f"sign-{who}")
    await page.click("#simulate-identity")
    await expect(page.locator("body")).to_have_attribute("data-state", "ready", timeout=30_000)
    await expect(page.locator("#dev-identity")).to_be_hidden()
    await page.click("#sign")
    await expect(page.locator("body")).to_have_attribute("data-state", "signed", timeout=60_000)
    await journey.shot(page, f"signed-{who}")


async def rate(page: Page, score: int, comment: str) -> None:
    panel = page.locator("#rating-panel")
    await panel.locator('select[name="score"]').select_option(str(score))
    await panel.locator('input[name="comment"]').fill(comment)
    await panel.locator('button[type="submit"]').click()
    await expect(panel).to_have_count(0)


async def opened(page: Page, link: Locator, text: str) -> bytes:
    """Click a link that opens a PDF in the page's document viewer; its bytes fetched as the
    viewer did."""
    await expect(link).to_have_text(text)
    href = await link.get_attribute("href")
    assert href is not None
    async with page.context.expect_event("response", lambda r: r.url.endswith(href)) as response:
        await link.click()
    got = await response.value
    assert (got.status, got.headers["content-type"]) == (200, "application/pdf"), got.url
    await expect(page.locator("#document-viewer")).to_have_attribute("data-state", "ready", timeout=30_000)
    await page.click("#viewer-close")
    again = await page.request.get(got.url)
    assert again.ok
    return await again.body()


async def check_signed_agreement(deployment: Deployment, pdf: bytes, work: Path) -> None:
    """pyHanko's validation (the platform's verifier), ``pyhanko sign adesverify``, poppler's
    ``pdfsig`` and ``accord verify``: the applicant, the respondent, the mediator and the seal."""
    pki = deployment.app[PKI_KEY]
    report = await async_verify_agreement(pdf, [pki.root_cert])
    assert report.valid, report.to_dict()
    assert [(s.field, s.signer.name) for s in report.signatures] == [
        ("sig_01_party_applicant", APPLICANT["name"]), ("sig_02_party_respondent", RESPONDENT["name"]),
        ("sig_03_mediator", MEDIATOR["name"]), ("sig_04_organisation", ORG)]
    assert report.signed_fields == report.expected_fields and len(report.document_timestamps) == 1
    # Each person's signature says its identity check was the development stand-in, not a face check.
    assert all((s.identity_check or "").startswith("test ") for s in report.signatures[:3]), report.to_dict()

    path, root = work / "agreement.pdf", work / "root.pem"
    path.write_bytes(pdf)
    root.write_bytes(pki.root_cert.public_bytes(Encoding.PEM))
    run = subprocess.run([str(VENV_BIN / "pyhanko"), "sign", "adesverify", "--trust", str(root), "--trust-replace",
                          str(path)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    lines = [line for line in run.stdout.splitlines() if line.strip()]
    assert len(lines) == 4 and all(":INTACT:TRUSTED," in line for line in lines), run.stdout

    nss = work / "nss"
    nss.mkdir()
    subprocess.run(["certutil", "-N", "-d", f"sql:{nss}", "--empty-password"], check=True, capture_output=True)
    subprocess.run(["certutil", "-A", "-d", f"sql:{nss}", "-n", "accord-root", "-t", "C,C,C", "-i", str(root)],
                   check=True, capture_output=True)
    out = subprocess.run(["pdfsig", "-nssdir", f"sql:{nss}", str(path)], capture_output=True, text=True,
                         timeout=120).stdout
    assert out.count("Signature Validation: Signature is Valid.") == 4, out
    assert out.count("Certificate Validation: Certificate is Trusted.") == 4, out

    run = subprocess.run([str(VENV_BIN / "accord"), "--data-dir", str(deployment.data_dir), "verify", str(path)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.startswith("VALID"), run.stdout
