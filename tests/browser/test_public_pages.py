"""The public pages in headless Chromium at a desktop (1280×720) and a phone (390×844) size: the
home page carries no developer content and leads to the directory, filtering the directory changes
the results, a mediator's and an organisation's page open, the sign-in links pick the channel, an
unknown URL shows the friendly 404 page, and no page scrolls sideways.

Screenshots land in ``test-artifacts/``: public-<page>-<width>.png.
"""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser, Page, expect

from mediation.accounts import Actor, Role
from mediation.directory import MediatorQuery, ProfileDetails
from signaling.api.directory import DIRECTORY_KEY
from tests.mediation.directory_data import History, give_history

from .case_site import ARTIFACTS, ORG, REPO, SAME_LOOP, Site, browser, site  # noqa: F401

pytestmark = pytest.mark.browser
CLIENT = REPO / "web_client"
SIZES = [pytest.param((1280, 720), id="desktop"), pytest.param((390, 844), id="phone")]
PUBLIC_PAGES = ("index.html", "organisations.html", "mediators.html", "mediator.html", "organisation.html",
                "errors/404.html", "guidance.html")


async def _page(browser: Browser, size: tuple[int, int]) -> Page:
    context = await browser.new_context(viewport={"width": size[0], "height": size[1]}, locale="zh-CN",
                                        timezone_id="Asia/Shanghai")
    page = await context.new_page()
    page.on("pageerror", lambda exc: pytest.fail(f"page error: {exc}"))
    return page


async def _looks_right(page: Page, what: str) -> None:
    """No sideways scroll, a one-row header, no "null"/"undefined" where a value is missing."""
    text = await page.locator("body").inner_text()
    assert not re.search(r"\b(null|undefined|NaN)\b", text), f"{what} shows a missing value: {text}"
    widths = await page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"{what} overflows: scrollWidth {widths[0]} > innerWidth {widths[1]}"
    header = await page.evaluate("document.querySelector('header.bar').getBoundingClientRect().height")
    assert header < 70, f"{what}: the header wraps ({header} px high)"


async def _shot(page: Page, name: str, size: tuple[int, int]) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"public-{name}-{size[0]}.png"), full_page=True)


async def _ready(page: Page) -> None:
    await expect(page.locator("body")).to_have_attribute("data-state", "ready")


@SAME_LOOP
@pytest.mark.parametrize("size", SIZES)
async def test_the_home_page_explains_mediation_and_leads_to_the_directory(site: Site, browser: Browser,
                                                                         size: tuple[int, int]) -> None:
    page = await _page(browser, size)
    try:
        await page.goto(site.base_url + "/")
        text = await page.locator("body").inner_text()
        assert "人民调解不收取任何费用" in text
        for developer in ("accord room", "openapi", "/api/", "--role"):
            assert developer not in text.lower(), developer
        assert await page.locator("pre, code").count() == 0
        assert await page.locator(".steps li").count() == 7
        assert await page.locator("#guidance a[href='/guidance.html']").count() == 1  # the guidance entry
        await _looks_right(page, "home")
        await _shot(page, "home", size)
        await page.click("#find-mediator")
        await expect(page).to_have_url(re.compile(r"/mediators\.html"))
        await expect(page.locator("#results > li")).to_have_count(len(site.mediators))
        await page.go_back()
        await page.click("#find-organisation")
        await expect(page.locator("#results > li")).to_have_count(1)
        await page.go_back()
        await page.click("#lang")
        await expect(page.locator("#what")).to_have_text("What is online mediation")
        await page.click("#lang")  # back to Chinese for the other tests (the choice is per browser context anyway)
    finally:
        await page.context.close()


@SAME_LOOP
@pytest.mark.parametrize("size", SIZES)
async def test_filtering_the_mediators_changes_the_results(site: Site, browser: Browser, size: tuple[int, int]) -> None:
    page = await _page(browser, size)
    try:
        await page.goto(site.base_url + "/mediators.html")
        await _ready(page)
        cards = page.locator("#results > li")
        await expect(cards).to_have_count(6)
        labour = await site.app[DIRECTORY_KEY].directory.search_mediators(MediatorQuery(dispute_type="labour"))
        await page.select_option('select[name="dispute_type"]', "labour")
        await expect(cards).to_have_count(labour.total)
        assert labour.total == 3
        assert sorted(await cards.locator("h3").all_inner_texts()) == sorted(m.name for m in labour.items)
        await expect(page).to_have_url(re.compile(r"dispute_type=labour"))
        await page.reload()  # the filter lives in the address
        await _ready(page)
        await expect(cards).to_have_count(3)
        await expect(page.locator('select[name="dispute_type"]')).to_have_value("labour")
        await _looks_right(page, "mediators")
        await _shot(page, "mediators", size)
        await page.select_option('select[name="dispute_type"]', "")
        await page.fill('input[name="region"]', "北京市")
        await page.click('#filters button[type="submit"]')
        await expect(cards).to_have_count(0)
        await expect(page.locator("#status")).to_have_text("没有符合条件的结果，请换个条件试试。")
    finally:
        await page.context.close()


@SAME_LOOP
async def test_the_language_filter_finds_who_speaks_it(site: Site, browser: Browser) -> None:
    directory = site.app[DIRECTORY_KEY].directory
    cantonese = site.mediators[5]
    admin = Actor("test-admin", str(Role.PLATFORM_ADMIN), "测试管理员")  # profiles are kept by administrators
    await directory.set_profile(admin, cantonese.id, ProfileDetails(
        "community_worker", "四川省成都市锦江区", ["labour"], ["普通话", "粤语"], True, 8))
    page = await _page(browser, (390, 844))
    try:
        await page.goto(site.base_url + "/mediators.html?language=粤语")
        await _ready(page)
        await expect(page.locator("#results > li h3")).to_have_text([cantonese.display_name])
        await expect(page.locator('input[name="language"]')).to_have_value("粤语")
    finally:
        await page.context.close()


@SAME_LOOP
@pytest.mark.parametrize("size", SIZES)
async def test_a_mediator_profile_and_their_organisation_open(site: Site, browser: Browser,
                                                             size: tuple[int, int]) -> None:
    page = await _page(browser, size)
    mediator = site.mediators[0]
    try:
        await page.goto(site.base_url + "/mediators.html")
        await _ready(page)
        await page.click(f'#results > li[data-id="{mediator.id}"] h3 a')
        await expect(page).to_have_url(re.compile(rf"/mediator\.html\?id={mediator.id}"))
        await expect(page.locator("#profile h1")).to_have_text(mediator.display_name)
        profile = await page.locator("#profile").inner_text()
        assert "民间借贷" in profile or "借贷" in profile, profile  # speciality: loan
        assert "四川话" in profile
        # No decided case and no rating yet: the record says so instead of showing 0 %.
        await expect(page.locator("#record")).to_contain_text("暂无调解记录")
        assert await page.locator("#record .stat").count() == 0
        await _looks_right(page, "mediator")
        await _shot(page, "mediator", size)
        await page.click("#profile dd a")  # the organisation
        await expect(page).to_have_url(re.compile(r"/organisation\.html\?id=o_"))
        await expect(page.locator("#profile h1")).to_have_text("示例锦江区人民调解委员会")
        await expect(page.locator("#record .results > li")).to_have_count(len(site.mediators))
        await _looks_right(page, "organisation")
        await _shot(page, "organisation", size)
    finally:
        await page.context.close()


@SAME_LOOP
async def test_an_unknown_mediator_says_so(site: Site, browser: Browser) -> None:
    page = await _page(browser, (390, 844))
    try:
        await page.goto(site.base_url + "/mediator.html?id=nobody")
        await _ready(page)
        await expect(page.locator("#status")).to_have_text("没有找到这条记录，它可能已被移除。")
    finally:
        await page.context.close()


@SAME_LOOP
async def test_the_sign_in_links_pick_the_channel(site: Site, browser: Browser) -> None:
    page = await _page(browser, (390, 844))
    try:
        await page.goto(site.base_url + "/")
        await page.click('a[href="/cases.html?channel=court"]')
        await expect(page.locator('[data-channel="court"]')).to_have_attribute("aria-selected", "true")
    finally:
        await page.context.close()


@SAME_LOOP
@pytest.mark.parametrize("size", SIZES)
async def test_an_unknown_url_shows_the_friendly_404_page(site: Site, browser: Browser, size: tuple[int, int]) -> None:
    page = await _page(browser, size)
    try:
        response = await page.goto(site.base_url + "/no/such/page")
        assert response is not None and response.status == 404
        await expect(page.locator("h1")).to_have_text("页面不存在")
        await expect(page.locator("#home-link")).to_be_visible()
        await _looks_right(page, "404")
        await _shot(page, "404", size)
        await page.click("#home-link")
        await expect(page.locator("#what")).to_be_visible()
    finally:
        await page.context.close()


def _catalog(body: str) -> dict[str, set[str]]:
    zh_start, en_start = body.index("\n  zh: {"), body.index("\n  en: {")
    key = re.compile(r'^\s+"([\w.:]+)":', re.M)
    return {"zh": set(key.findall(body[zh_start:en_start])), "en": set(key.findall(body[en_start:]))}


def test_every_public_page_string_exists_in_both_languages() -> None:
    public = _catalog((CLIENT / "js/public/messages.js").read_text())
    cases = _catalog((CLIENT / "js/cases/messages.js").read_text())  # app title, step names
    guidance = _catalog((CLIENT / "js/public/guidance_messages.js").read_text())
    assert public["zh"] == public["en"], public["zh"] ^ public["en"]
    assert guidance["zh"] == guidance["en"], guidance["zh"] ^ guidance["en"]
    public = {lang: public[lang] | guidance[lang] for lang in public}
    used: set[str] = set()
    for page in PUBLIC_PAGES:
        used |= set(re.findall(r'data-i18n(?:-placeholder)?="([\w.]+)"', (CLIENT / page).read_text()))
    for path in (CLIENT / "js/public").glob("*.js"):
        used |= set(re.findall(r'\bt\(\s*"([\w.]+)"', path.read_text()))
        used |= set(re.findall(r'"(dir\.[\w.]+)"', path.read_text()))
    assert len(used) > 40, "the scan found the keys"
    missing = used - public["zh"] - cases["zh"]
    assert not missing, sorted(missing)


@SAME_LOOP
@pytest.mark.parametrize("size", SIZES)
async def test_organisations_are_found_by_what_their_mediators_handle(site: Site, browser: Browser,
                                                                    size: tuple[int, int]) -> None:
    page = await _page(browser, size)
    try:
        await page.goto(site.base_url + "/organisations.html")
        await _ready(page)
        cards = page.locator("#results > li")
        await expect(cards).to_have_count(1)
        await page.select_option('select[name="dispute_type"]', "traffic")  # no mediator of theirs handles it
        await expect(cards).to_have_count(0)
        await page.select_option('select[name="dispute_type"]', "labour")
        await expect(cards.locator("h3")).to_have_text(["示例锦江区人民调解委员会"])
        await _looks_right(page, "organisations")
        await _shot(page, "organisations", size)
    finally:
        await page.context.close()


@SAME_LOOP
async def test_a_mediator_with_a_record_shows_it(site: Site, browser: Browser) -> None:
    mediator = site.mediators[2]
    await give_history(site.services.db, mediator.id, History(settled=3, failed=1, active=1, ratings=(5, 4, 3)),
                       organisation=ORG)
    page = await _page(browser, (390, 844))
    try:
        await page.goto(f"{site.base_url}/mediator.html?id={mediator.id}")
        await _ready(page)
        stats = {await s.get_attribute("data-stat"): await s.locator("strong").inner_text()
                 for s in await page.locator("#record .stat").all()}
        assert stats == {"dir.settled": "3", "dir.successRate": "75%", "dir.satisfaction": "4.0", "dir.ratings": "3"}
        await _looks_right(page, "mediator with a record")
        await _shot(page, "mediator-record", (390, 844))
        await page.click("#profile dd a")  # the organisation counts its closed (here: the failed) case
        await expect(page.locator('#profile [data-stat="dir.closedCases"] strong')).to_have_text("1")
        await _looks_right(page, "organisation with a record")
    finally:
        await page.context.close()


@SAME_LOOP
async def test_the_directory_in_english(site: Site, browser: Browser) -> None:
    page = await _page(browser, (390, 844))
    try:
        await page.goto(site.base_url + "/mediators.html?dispute_type=labour")
        await _ready(page)
        await page.click("#lang")
        await expect(page.locator("h1")).to_have_text("Mediators")
        await expect(page.locator('select[name="dispute_type"] option:checked')).to_have_text("Labour")
        await expect(page.locator("#status")).to_have_text("3 found")
        first = page.locator("#results > li").first
        await expect(first.locator(".tags li")).to_have_text(["Labour"])
        await expect(first.locator(".badge")).to_have_text("Taking cases")
        await _looks_right(page, "mediators in English")
    finally:
        await page.context.close()
