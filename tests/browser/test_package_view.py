"""The case package in the page, on a phone (390×844): a party opens the package's contents (each
file with its SHA-256 and size, the integrity check's verdict) and the court's ruling inside it
in the document viewer; someone with no part in the case is refused, by the page and the server.

Screenshots: package-contents, viewer-package-ruling, viewer-refused (test-artifacts/).
"""

from __future__ import annotations

import hashlib
from urllib.parse import urljoin

import pytest
from playwright.async_api import Browser, expect

from mediation.accounts import Actor
from mediation.demo_data import DEMO_COURTS

from .case_site import ARTIFACTS, COURT, SAME_LOOP, Site, browser, case_at_the_court_step, register_party, site  # noqa: F401
from .page_checks import check_layout
from .test_document_viewer import PHONE, expect_pdf_shown, expect_refused, signed_in

pytestmark = pytest.mark.browser


@SAME_LOOP
async def test_the_party_opens_the_package_and_a_document_in_it(site: Site, browser: Browser) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    await site.services.courts.ensure(Actor("root", "platform_admin", "示例平台管理员"), DEMO_COURTS)
    case_id = await case_at_the_court_step(site)
    court = site.services.court
    application = await court.apply_confirmation(site.actor("alice"), case_id, COURT)
    await court.apply_confirmation(site.actor("bob"), case_id, None)
    await court.decide_acceptance(site.actor("clerk"), application.id, True, "材料齐全")
    await court.rule(site.actor("judge"), application.id, True, "")

    context, page = await signed_in(browser, site, "party", "alice")
    try:
        await page.goto(f"{site.base_url}/cases.html#case/{case_id}")
        await page.click("#open-package")
        contents = page.locator("#package-contents")
        await expect(contents.locator(".package-verdict")).to_have_attribute("data-valid", "yes", timeout=20_000)
        await expect(contents.locator(".package-verdict")).to_contain_text("完整性检查通过")
        ruling_pdf = await (await page.request.get(
            urljoin(page.url, f"/api/court/applications/{application.id}/ruling.pdf"))).body()
        ruling = contents.locator('.package-member[data-kind="ruling"]')
        await expect(ruling.locator("code.sha256")).to_have_text(hashlib.sha256(ruling_pdf).hexdigest())
        await expect(contents.locator('.package-member[data-path="manifest.json"]')).to_contain_text("文件清单")
        widths = await page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert widths[0] <= widths[1] == PHONE["width"], widths  # 64-character hashes wrap on the phone
        await page.screenshot(path=str(ARTIFACTS / "package-contents.png"), full_page=True)
        problems: list[str] = []  # both sizes, and axe over the listed package
        await check_layout(page, "package-contents", ("#open-package", "#package-contents .package-member"), problems)
        assert not problems, "\n".join(problems)
        await page.set_viewport_size(PHONE)

        member_url = await ruling.locator("a.document-link").get_attribute("href")
        assert member_url is not None and member_url.startswith(f"/api/cases/{case_id}/package/members/")
        await ruling.locator("a.document-link").click()
        await expect_pdf_shown(page, 1, "package-ruling")
        assert page.url.endswith(f"#case/{case_id}")
        await page.click("#viewer-close")
        await expect(ruling.locator("a.document-link")).to_be_focused()
    finally:
        await context.close()

    await register_party(site.services, site.data_dir, "carol-package", "示例当事人丁", 7)
    context, page = await signed_in(browser, site, "party", "carol-package")
    try:
        await page.goto(f"{site.base_url}/cases.html")
        await expect_refused(page, member_url)
        assert (await page.request.get(urljoin(page.url, f"/api/cases/{case_id}/package/contents"))).status == 404
        assert await page.evaluate("window.__csp") == []
    finally:
        await context.close()
