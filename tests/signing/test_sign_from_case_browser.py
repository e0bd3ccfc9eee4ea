"""Signing from the case page in headless Chromium: the mediator drafts the agreement from the case
page; each participant, signed in, sees their own field on their case page, "sign now" when it is
their turn, and signs on sign.html?agreement=… with their session and a browser-held key (no link
to copy); the organisation's administrator seals from the case page; the case moves on by itself."""

from __future__ import annotations

from pathlib import Path
from typing import AsyncIterator
from urllib.parse import urlparse

import pytest
from playwright.async_api import Browser, Page, async_playwright

from agreement_server import FIELDS, Person, Server, start_server
from signaling.auth import SESSION_COOKIE
from test_sign_browser import CHROMIUM_ARGS

pytestmark = pytest.mark.browser


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    srv = await start_server(tmp_path / "data")
    yield srv
    await srv.close()


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as p:
        chromium = await p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        yield chromium
        await chromium.close()


async def _case_page(browser: Browser, server: Server, person: Person, case_id: str) -> Page:
    """A fresh browser profile signed in as ``person`` (their session cookie), on the case page."""
    context = await browser.new_context(locale="zh-CN")
    await context.add_cookies([{"name": SESSION_COOKIE, "value": person.token,
                                "domain": urlparse(server.base_url).hostname, "path": "/"}])
    page = await context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    await page.goto(f"{server.base_url}/cases.html#case/{case_id}")
    await page.wait_for_selector("#agreement-panel")
    return page


async def test_participants_sign_from_their_case_pages(server: Server, browser: Browser) -> None:
    c = await server.cast()
    case_id = await server.case_at_result()

    # The mediator drafts from the case page and lands in the editor with the case filled in.
    page = await _case_page(browser, server, c.mediator, case_id)
    await page.click("#draft-agreement")
    await page.wait_for_url("**/agreement.html#ag_*")
    agreement_id = page.url.rsplit("#", 1)[1]
    await page.wait_for_selector("#status[data-status=draft]")
    assert await page.input_value('[data-path="parties.0.name"]') == "张三"
    await page.click('[data-path="parties.1.agent.signs"]')
    await page.click("#lock")
    await page.wait_for_selector("#status[data-status=locked]")
    await page.context.close()

    for person, field, key in ((c.zhang, FIELDS[0], "party:applicant"), (c.li, FIELDS[1], "party:respondent"),
                               (c.wang, FIELDS[2], "agent:respondent"), (c.mediator, FIELDS[3], "mediator")):
        page = await _case_page(browser, server, person, case_id)
        blocked = page.locator("#sign-blocked")
        await blocked.wait_for()
        assert await blocked.get_attribute("data-code") == "identity_check_required"
        await server.pass_identity(agreement_id, key)
        await page.reload()
        await page.click("#sign-now")
        await page.wait_for_url(f"**/sign.html?agreement={agreement_id}")
        await page.wait_for_selector("body[data-state=ready]")
        assert field in await page.text_content("#your-field")
        await page.click("#sign")
        await page.wait_for_selector("body[data-state=signed]", timeout=60_000)
        await page.context.close()

    status, case = await server.as_user(c.zhang, "GET", f"/api/cases/{case_id}")
    assert (case["step"], case["result"]["agreement_status"]) == ("evaluation", "effective")

    page = await _case_page(browser, server, c.org_admin, case_id)
    await page.click("#seal-agreement")
    await page.wait_for_selector("#agreement-status[data-status=completed]", timeout=60_000)
    await page.context.close()
    state = await server.store.current(agreement_id)
    assert [s.participant_id for s in state.signatures] == [
        c.zhang.actor.id, c.li.actor.id, c.wang.actor.id, c.mediator.actor.id, c.organisation_id]

    page = await _case_page(browser, server, c.li, case_id)
    assert "生效" in await page.text_content("#agreement-effective")
    assert await page.get_attribute("#open-agreement", "href") == f"/sign.html?agreement={agreement_id}"
    await page.context.close()
