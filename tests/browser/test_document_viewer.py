"""Documents open in the page, on a phone (390×844): evidence (a PDF drawn by pdf.js, an image
inline), the court's ruling and each locked version of the agreement open in the document viewer
for the people entitled to them, and the viewer says "refused" to anyone else (whom the server
refuses as well). The page's Content-Security-Policy stays on and records no violation: pdf.js,
its worker and fonts come from our own server. The agreement editor and the signing page are
checked at both sizes on the way, and so is the verification page's report on the ruling.

Screenshots: viewer-evidence-pdf, viewer-evidence-image, viewer-ruling, viewer-agreement-v1,
viewer-refused (test-artifacts/).
"""

from __future__ import annotations

import io
import json
import re
from urllib.parse import urljoin

import pytest
from PIL import Image
from playwright.async_api import Browser, BrowserContext, Page, expect
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from mediation.accounts import Actor
from mediation.demo_data import DEMO_COURTS

from .case_site import (ARTIFACTS, COURT, SAME_LOOP, Site, browser, case_at_the_court_step,  # noqa: F401
                        case_in_counselling, case_to_mediation_result, id_number, person, register_party, sign_in, site)
from .page_checks import check_layout

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
#: Runs before any page script: records what the Content-Security-Policy blocked.
RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation",
    (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`));
"""
#: How much of the first rendered page is ink (dark pixels): zero for a blank canvas.
INK = """() => {
  const c = document.querySelector("#document-viewer .viewer-page");
  const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
  let dark = 0;
  for (let i = 0; i < d.length; i += 4) if (d[i] < 100 && d[i + 3] > 0) dark += 1;
  return dark;
}"""


def two_page_pdf() -> bytes:
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4)
    for page in (1, 2):
        pdf.setFont("Helvetica-Bold", 28)
        pdf.drawString(72, 700, f"IOU page {page}: 12,000 yuan")
        pdf.rect(72, 400, 400, 200, fill=1)
        pdf.showPage()
    pdf.save()
    return out.getvalue()


def photo_png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (320, 200), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


async def signed_in(browser: Browser, site: Site, channel: str, login: str) -> tuple[BrowserContext, Page]:
    context = await browser.new_context(viewport=PHONE, locale="zh-CN", timezone_id="Asia/Shanghai")
    await context.add_init_script(RECORD_VIOLATIONS)
    page = await context.new_page()
    page.on("pageerror", lambda exc: pytest.fail(f"page error for {login}: {exc}"))
    await sign_in(page, site, channel, login)
    return context, page


async def expect_pdf_shown(page: Page, pages: int, shot: str) -> None:
    viewer = page.locator("#document-viewer")
    await expect(viewer).to_have_attribute("data-state", "ready", timeout=20_000)
    await expect(viewer.locator(".viewer-pages")).to_have_attribute("data-pages", str(pages))
    await expect(viewer.locator('canvas.viewer-page[data-rendered="yes"]')).to_have_count(pages)
    assert await page.evaluate(INK) > 500, "the first page was drawn blank"
    box = await viewer.locator("canvas.viewer-page").first.bounding_box()
    assert box is not None and box["width"] <= PHONE["width"], box  # fits the phone's width
    widths = await page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], widths
    await page.screenshot(path=str(ARTIFACTS / f"viewer-{shot}.png"))
    assert await page.evaluate("window.__csp") == []


async def expect_refused(page: Page, url: str) -> None:
    """The viewer, asked for `url` directly (the reader has no link to it), says it is refused."""
    await page.evaluate("(url) => import('/js/viewer/viewer.js').then((m) => { m.openDocument(url, 'x'); })", url)
    viewer = page.locator("#document-viewer")
    await expect(viewer).to_have_attribute("data-state", "refused")
    await expect(viewer.locator(".viewer-message")).to_have_text("您无权查看此文件，或文件已不存在。")
    assert (await page.request.get(urljoin(page.url, url))).status in (403, 404)  # the server refuses too
    await page.screenshot(path=str(ARTIFACTS / "viewer-refused.png"))
    await page.click("#viewer-close")
    await expect(viewer).to_be_hidden()


@SAME_LOOP
async def test_evidence_and_the_ruling_open_in_the_page_for_the_parties_only(site: Site, browser: Browser) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    await site.services.courts.ensure(Actor("root", "platform_admin", "示例平台管理员"), DEMO_COURTS)
    alice_actor = site.actor("alice")
    filed_case = await case_in_counselling(site, (("借条.pdf", two_page_pdf(), "application/pdf"),
                                                  ("转账截图.png", photo_png(), "image/png")))
    evidence = {d.name: d.url for d in (await site.services.cases.view(alice_actor, filed_case)).documents}
    case_id = await case_at_the_court_step(site)
    court = site.services.court
    application = await court.apply_confirmation(alice_actor, case_id, COURT)
    await court.apply_confirmation(site.actor("bob"), case_id, None)
    await court.decide_acceptance(site.actor("clerk"), application.id, True, "材料齐全")
    await court.rule(site.actor("judge"), application.id, True, "")
    ruling_url = f"/api/court/applications/{application.id}/ruling.pdf"

    context, page = await signed_in(browser, site, "party", "alice")
    try:
        await page.goto(f"{site.base_url}/cases.html#case/{filed_case}")
        documents = page.locator("#documents")
        await documents.locator("a.document-link", has_text="借条.pdf").click()
        await expect_pdf_shown(page, 2, "evidence-pdf")
        assert page.url.endswith(f"#case/{filed_case}")  # still the case page: no new tab, no download
        await page.click("#viewer-close")
        await expect(page.locator("#document-viewer")).to_be_hidden()
        await expect(documents.locator("a.document-link", has_text="借条.pdf")).to_be_focused()  # focus comes back

        await documents.locator("a.document-link", has_text="转账截图.png").click()
        image = page.locator("#document-viewer img.viewer-image")
        await expect(image).to_be_visible()
        assert await image.evaluate("(img) => img.complete && img.naturalWidth") == 320
        await page.screenshot(path=str(ARTIFACTS / "viewer-evidence-image.png"))
        await page.keyboard.press("Escape")  # a dialog: Escape closes it
        await expect(page.locator("#document-viewer")).to_be_hidden()

        await page.goto(f"{site.base_url}/cases.html#case/{case_id}")
        await page.click(f"#open-ruling-{application.id}")
        await expect_pdf_shown(page, await _page_count(page, ruling_url), "ruling")
        ruling = await (await page.request.get(urljoin(page.url, ruling_url))).body()
    finally:
        await context.close()

    # Anyone may check the ruling on the verification page; its report fits the phone too.
    context = await person(browser)
    try:
        page = await context.new_page()
        await page.goto(f"{site.base_url}/verify.html")
        await page.set_input_files("#file", files=[{"name": "裁定书.pdf", "mimeType": "application/pdf", "buffer": ruling}])
        await page.click("#submit")
        await expect(page.locator("body")).to_have_attribute("data-state", re.compile("^(valid|invalid)$"), timeout=30_000)
        problems: list[str] = []
        await check_layout(page, "verify-report", ("#verdict", "#ruling"), problems)
        assert not problems, "\n".join(problems)
    finally:
        await context.close()

    carol = await register_party(site.services, site.data_dir, "carol-viewer", "示例当事人丁", 7)
    assert carol.login == "carol-viewer"
    context, page = await signed_in(browser, site, "party", "carol-viewer")
    try:
        for url in (*evidence.values(), ruling_url):
            await expect_refused(page, url)
        assert await page.evaluate("window.__csp") == []
    finally:
        await context.close()


async def _page_count(page: Page, url: str) -> int:
    """The PDF's page count, read by pdf.js in the page from the bytes the server sends."""
    return await page.evaluate("""async (url) => {
      const lib = await import("/vendor/pdfjs/build/pdf.min.mjs");
      lib.GlobalWorkerOptions.workerSrc = "/vendor/pdfjs/build/pdf.worker.min.mjs";
      const data = new Uint8Array(await (await fetch(url)).arrayBuffer());
      const pdf = await lib.getDocument({ data, isEvalSupported: false, useWasm: false }).promise;
      return pdf.numPages;
    }""", url)


@SAME_LOOP
async def test_each_locked_agreement_version_opens_for_its_drafter_only(site: Site, browser: Browser) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    case_id, _ = await case_to_mediation_result(site)
    context, page = await signed_in(browser, site, "mediator", site.mediators[0].login)
    page.on("dialog", lambda dialog: dialog.accept())  # the editor's "lock the text?" confirm
    try:
        await page.goto(f"{site.base_url}/cases.html#case/{case_id}")
        await page.click("#draft-agreement")
        await page.wait_for_url("**/agreement.html#ag_*")
        agreement_id = page.url.rsplit("#", 1)[1]
        await expect(page.locator("#status")).to_have_attribute("data-status", "draft")
        await expect(page.locator("#versions")).to_have_text("—")  # a draft has no PDF yet
        await page.fill('[data-path="mediator.id_number"]', id_number(11))
        await page.fill('[data-path="place"]', "四川省成都市锦江区")
        await page.fill('[data-path="facts"]', "2025 年 1 月 10 日被申请人向申请人借款 12,000 元，至今未还。")
        await page.fill('[data-path="monetary.0.amount"]', "12000.00")
        await page.fill('[data-path="monetary.0.method"]', "银行转账")
        await page.click("#lock")
        await expect(page.locator("#status"), await page.locator("#notice").inner_text()).to_have_attribute(
            "data-status", "locked", timeout=30_000)
        problems: list[str] = []
        await check_layout(page, "agreement-editor", ("#status", "#versions a.version-link"), problems)
        assert not problems, "\n".join(problems)
        await page.set_viewport_size(PHONE)
        await page.click("#versions a.version-link")
        version_url = f"/api/agreements/{agreement_id}/versions/1/pdf"
        await expect(page.locator("#viewer-title")).to_have_text("调解协议书 第 1 版")
        await expect_pdf_shown(page, await _page_count(page, version_url), "agreement-v1")
    finally:
        await context.close()

    context, page = await signed_in(browser, site, "party", "alice")  # a signer, not a drafter
    try:
        await expect_refused(page, version_url)
        await page.goto(f"{site.base_url}/sign.html?agreement={agreement_id}")
        await expect(page.locator("body")).not_to_have_attribute("data-state", re.compile("^(loading|)$"), timeout=20_000)
        problems = []
        await check_layout(page, "sign", ("header.bar",), problems)
        assert not problems, "\n".join(problems)
        assert json.dumps(await page.evaluate("window.__csp")) == "[]"
    finally:
        await context.close()
