"""API keys on the administrators' page in headless Chromium: the platform administrator creates
a key for one scope, sees it once (copies it to the clipboard), the key works against the server,
the page never shows it again, and after the revocation (confirmed in a dialog) it is refused.

Screenshot in ``test-artifacts/``: admin-api-keys.
"""

from __future__ import annotations

from typing import get_args

import aiohttp
import pytest
from playwright.async_api import Browser, expect

from signaling.api.api_keys import ApiKeyOut
from signaling.auth import SCOPES

from .case_site import ARTIFACTS, REPO, SAME_LOOP, Site, browser, person, sign_in, site  # noqa: F401

pytestmark = pytest.mark.browser


async def _status(site: Site, key: str) -> int:
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{site.base_url}/api/rooms", json={"case_id": "KEYS-1"},
                             headers={"Authorization": f"Bearer {key}"}) as response:
            return response.status


@SAME_LOOP
async def test_an_administrator_creates_sees_once_and_revokes_a_key(site: Site, browser: Browser) -> None:
    context = await person(browser)
    await context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site.base_url)
    try:
        page = await context.new_page()
        await sign_in(page, site, "admin", "root")
        await page.click('#nav a[data-route="admin"]')
        card = page.locator("#api-keys-card")
        await expect(card.locator("#no-api-keys")).to_be_visible()
        await expect(card.locator('#api-key-scopes label:has(input[value="rooms"])')).to_contain_text("创建视频调解室")

        await page.fill('#api-key-form input[name="key_name"]', "court-system")
        await page.fill('#api-key-form input[name="expires_in_days"]', "30")
        await page.check('#api-key-scopes input[value="rooms"]')
        await page.click("#create-api-key")
        await expect(page.locator("#issued-api-key")).to_contain_text("不再显示")
        key = await page.input_value("#new-api-key")
        assert key.startswith("ak_")
        await page.click("#copy-api-key")
        await expect(page.locator("#copy-api-key")).to_have_text("已复制")
        assert await page.evaluate("navigator.clipboard.readText()") == key
        row = card.locator("#api-key-rows tr", has_text="court-system")
        await expect(row).to_contain_text("rooms")
        await expect(row.locator(".state")).to_have_text("有效")
        await page.screenshot(path=str(ARTIFACTS / "admin-api-keys.png"), full_page=True)
        assert await _status(site, key) == 201

        # Shown once: after a reload the page lists the key but holds it nowhere.
        await page.reload()
        await expect(row.locator(".state")).to_have_text("有效")
        assert key not in await page.content()
        await expect(page.locator("#issued-api-key")).to_have_count(0)

        # Revocation asks first; cancelling keeps the key.
        await row.locator("button.revoke").click()
        await expect(page.locator("#confirm-dialog")).to_contain_text("确认吊销密钥 court-system？")
        await page.click("#dialog-cancel")
        await expect(row.locator(".state")).to_have_text("有效")
        await row.locator("button.revoke").click()
        await page.click("#dialog-confirm")
        await expect(page.locator("#api-keys-card > .notice")).to_contain_text("已吊销密钥 court-system")
        await expect(row.locator(".state")).to_have_text("已吊销")
        await expect(row.locator("button.revoke")).to_have_count(0)
        assert await _status(site, key) == 401
    finally:
        await context.close()


def test_every_scope_and_state_has_words_in_both_languages() -> None:
    """Keys the panel builds at run time (`apikeys.scope.${scope}`, `apikeys.state.${state}`)."""
    body = (REPO / "web_client/js/cases/messages.js").read_text(encoding="utf-8")
    zh, en = body[body.index("\n  zh: {"):body.index("\n  en: {")], body[body.index("\n  en: {"):]
    states = get_args(ApiKeyOut.model_fields["state"].annotation)
    keys = [f"apikeys.scope.{s}" for s in SCOPES] + [f"apikeys.state.{s}" for s in states]
    keys += [f"apikeys.col.{c}" for c in ("name", "scopes", "state", "created", "expires", "lastUsed", "actions")]
    for catalog in (zh, en):
        missing = [k for k in keys if f'"{k}":' not in catalog]
        assert not missing, missing
