"""The mediator's agreement editor in headless Chromium against a real server: fill the form, get
the API's precise message next to a bad field, save, preview, lock, hand out links, follow a
signature, and edit into a new version."""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path
from typing import Any, AsyncIterator

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from mediation.accounts import Actor, NewAccount, Role
from signaling.api.accounts import SERVICES_KEY
from playwright.async_api import BrowserContext, Page, async_playwright

from agreement_samples import agreement_dict
import signaling.api.agreements as agreements_api
from agreement_server import Server, start_server

pytestmark = pytest.mark.browser

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SCREENSHOT = Path(__file__).resolve().parents[2] / "test-artifacts" / "agreement-editor.png"


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    srv = await start_server(tmp_path / "data")
    yield srv
    await srv.close()


@pytest.fixture
async def browser(server: Server) -> AsyncIterator[BrowserContext]:
    with tempfile.TemporaryDirectory() as profile:
        async with async_playwright() as p:
            context = await p.chromium.launch_persistent_context(
                profile, executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS,
                viewport={"width": 1440, "height": 1000}, locale="zh-CN", timezone_id="Asia/Shanghai")
            await context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.base_url)
            yield context
            await context.close()


async def _fill(page: Page, path: str, value: str) -> None:
    await page.fill(f'[data-path="{path}"]', value)


async def _fill_person(page: Page, prefix: str, person: dict[str, Any]) -> None:
    for name in ("name", "id_number", "address", "contact"):
        if name in person:
            await _fill(page, f"{prefix}.{name}", person[name])


async def _fill_agreement(page: Page, data: dict[str, Any]) -> None:
    """What a mediator types, field by field (the form starts with an applicant and a respondent)."""
    await _fill(page, "case_number", data["case_number"])
    await page.select_option('[data-path="dispute_type"]', data["dispute_type"])
    await _fill(page, "date", data["date"])
    await _fill(page, "place", data["place"])
    for i, party in enumerate(data["parties"]):
        await _fill_person(page, f"parties.{i}", party)
        if party.get("agent"):
            await page.click(f'[data-path="parties.{i}.agent"]')
            await _fill_person(page, f"parties.{i}.agent", party["agent"])
            if party["agent"].get("signs"):
                await page.click(f'[data-path="parties.{i}.agent.signs"]')
    await _fill_person(page, "mediator", data["mediator"])
    await _fill(page, "mediator.certificate_number", data["mediator"]["certificate_number"])
    await _fill(page, "organisation.name", data["organisation"]["name"])
    await _fill(page, "organisation.address", data["organisation"]["address"])
    await _fill(page, "facts", data["facts"])
    await page.click("text=添加金钱给付义务")
    money = data["monetary"][0]
    await page.select_option('[data-path="monetary.0.payer"]', "p2")  # 李四, the respondent
    await page.select_option('[data-path="monetary.0.payee"]', "p1")
    await _fill(page, "monetary.0.amount", money["amount"])
    await _fill(page, "monetary.0.due_date", money["due_date"])
    await _fill(page, "monetary.0.method", money["method"])
    await page.click("text=添加履行义务")
    await page.select_option('[data-path="performance.0.obligor"]', "p1")
    await _fill(page, "performance.0.description", data["performance"][0]["description"])


async def test_mediator_drafts_previews_locks_and_hands_out_links(server: Server, browser: BrowserContext) -> None:
    page = await browser.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    await page.goto(f"{server.base_url}/agreement.html")
    await page.wait_for_selector("body[data-state=auth]")
    await page.fill("#api-key", "ak_wrong")
    await page.click("#use-key")
    await page.wait_for_selector("#auth-error:not([hidden])")
    assert "unknown API key" in await page.text_content("#auth-error")
    await page.fill("#api-key", server.api_key)
    await page.click("#use-key")
    await page.wait_for_selector("body[data-state=ready]")
    stored = await page.evaluate("() => [sessionStorage.getItem('accord.editor.apiKey'), "
                                 "Object.keys(localStorage).some(k => localStorage.getItem(k).startsWith('ak_'))]")
    assert stored == [server.api_key, False]  # the key lives in this tab only

    await page.click("#save")  # the blank form: every message lands under its own field
    await page.wait_for_selector('label[data-field="facts"] .field-error:not([hidden])')
    assert await page.is_hidden('fieldset[data-field="facts"] > .field-error')
    assert "at least 1 character" in await page.text_content('[data-field="parties.1.name"] .field-error')

    data = agreement_dict()
    wrong_id = data["parties"][0]["id_number"][:17] + ("0" if data["parties"][0]["id_number"][17] != "0" else "1")
    await _fill_agreement(page, data)
    await _fill(page, "parties.0.id_number", wrong_id)
    await page.click("#save")
    error = page.locator('[data-field="parties.0.id_number"] .field-error')
    await error.wait_for(state="visible")
    expected = f"check digit is {wrong_id[17]}, but the first 17 digits require {data['parties'][0]['id_number'][17]}"
    assert await error.text_content() == expected  # the API's own message, under the field
    assert await page.get_attribute('[data-path="parties.0.id_number"]', "aria-invalid") == "true"
    assert "1 处需要修改" in await page.text_content("#notice")
    assert await page.text_content("#agreement-id") == "—"  # nothing was created

    await _fill(page, "parties.0.id_number", data["parties"][0]["id_number"])
    assert await error.is_hidden()  # typing clears the message
    await page.click("#save")
    await page.wait_for_selector("#status[data-status=draft]")
    agreement_id = await page.text_content("#agreement-id")
    assert page.url.endswith(f"#{agreement_id}")
    status, saved = await server.call("GET", f"/api/agreements/{agreement_id}")
    assert status == 200 and saved["data"]["parties"][1]["agent"]["signs"] is True
    assert saved["data"]["monetary"][0] == {**data["monetary"][0], "payer": "p2", "payee": "p1", "currency": "CNY",
                                            "description": None}

    await page.click("#preview")
    await page.wait_for_function("document.querySelectorAll('#pages img').length >= 3 && "
                                 "[...document.querySelectorAll('#pages img')].every(i => i.naturalWidth > 0)",
                                 timeout=60_000)

    await page.click("#lock")
    await page.wait_for_selector("#status[data-status=locked]")
    status, locked = await server.call("GET", f"/api/agreements/{agreement_id}/versions/1/pdf?revision=0")
    shown_hash = await page.text_content("#locked-hash")
    assert shown_hash == hashlib.sha256(locked).hexdigest()
    assert shown_hash in await page.text_content("#notice")
    assert await page.is_disabled('[data-path="facts"]') and await page.is_disabled("#save")

    links = page.locator("#signers input.link")
    assert await links.count() == 4  # 张三, 李四, 李四's agent, the mediator; the seal needs none
    first_url = await links.first.input_value()
    assert first_url.startswith(f"{server.app[agreements_api.AGREEMENT_SETTINGS_KEY].base_url}/sign.html#")
    await page.locator("#signers button.copy").first.click()
    assert await page.evaluate("navigator.clipboard.readText()") == first_url
    status, session = await server.call("GET", "/api/sign/session", token=first_url.split("#", 1)[1])
    assert status == 200 and session["you"]["name"] == "张三"

    # The first party signs (a Python key plays the browser); the panel follows.
    await server.pass_identity(agreement_id, "party:p1")
    status, body = await server.sign_as(first_url.split("#", 1)[1], "sig_01_party_p1",
                                        ec.generate_private_key(ec.SECP256R1()))
    assert status == 200, body
    await page.click("#refresh")
    signed = page.locator('#signers li[data-field="sig_01_party_p1"]')
    await page.wait_for_selector('#signers li[data-field="sig_01_party_p1"][data-signed=yes]')
    assert "已签署" in await signed.text_content() and "浏览器密钥" in await signed.text_content()
    assert await links.count() == 3
    SCREENSHOT.parent.mkdir(exist_ok=True)
    await page.evaluate("window.scrollTo(0, 0)")
    await page.screenshot(path=str(SCREENSHOT), full_page=False)

    # Editing the locked text makes version 2: signatures restart, links are gone until it is locked.
    await page.click("#edit")
    assert not await page.is_disabled('[data-path="place"]')
    assert "原签名作废" in await page.text_content("#notice")
    await _fill(page, "place", "上海市徐汇区")
    await page.click("#save")
    await page.wait_for_selector("#status[data-status=draft]")
    assert await page.text_content("#version") == "v2"
    assert await page.locator("#signers li[data-signed=yes]").count() == 0
    assert await links.count() == 0
    status, current = await server.call("GET", f"/api/agreements/{agreement_id}")
    assert (current["version"], current["data"]["place"]) == (2, "上海市徐汇区")

    await page.click("#lang")
    assert await page.text_content("#save") == "Save draft"
    assert await page.text_content('[data-field="case_number"] .label') == "Case number"
    await page.click("#lang")
    await page.close()


async def test_a_mediator_signs_in_with_a_password_and_a_reload_reopens_the_agreement(
        server: Server, browser: BrowserContext) -> None:
    accounts = server.app[SERVICES_KEY].accounts
    admin = await accounts.bootstrap_admin("root", "Platform Admin", "correct horse battery")
    for login in ("mediator1", "mediator2"):
        await accounts.create_staff(Actor(admin.id, "platform_admin", admin.display_name),
                                    NewAccount(Role.MEDIATOR, login, "李调解员", "correct horse battery",
                                               organisation="示例人民调解委员会"))
    sessions = {}
    for login in ("mediator1", "mediator2"):
        status, signed_in = await server.call("POST", "/api/auth/login", key=False, json={
            "channel": "mediator", "login": login, "password": "correct horse battery"})
        assert status == 200
        sessions[login] = signed_in["token"]
    status, created = await server.call("POST", "/api/agreements", key=False, json={"data": agreement_dict()},
                                        headers={"Authorization": f"Bearer {sessions['mediator1']}"})
    assert status == 201
    # Another mediator cannot see it: the same 404 as for an agreement that does not exist.
    status, refused = await server.call("GET", f"/api/agreements/{created['agreement_id']}", key=False,
                                        headers={"Authorization": f"Bearer {sessions['mediator2']}"})
    assert (status, refused["error"]["code"]) == (404, "agreement_not_found")
    page = await browser.new_page()
    await page.goto(f"{server.base_url}/agreement.html#{created['agreement_id']}")
    await page.wait_for_selector("body[data-state=auth]")
    await page.fill("#login", "mediator1")
    await page.fill("#password", "wrong password here")
    await page.click("#sign-in")
    await page.wait_for_selector("#auth-error:not([hidden])")
    assert "wrong login" in await page.text_content("#auth-error")
    await page.fill("#password", "correct horse battery")
    await page.click("#sign-in")
    await page.wait_for_selector("#status[data-status=draft]")
    assert await page.input_value('[data-path="parties.1.agent.name"]') == "王律师"
    assert await page.input_value('[data-path="monetary.0.amount"]') == "50000.00"
    await page.reload()
    await page.wait_for_selector("#status[data-status=draft]")  # the session cookie survives a reload
    await page.click("#sign-out")
    await page.wait_for_selector("body[data-state=auth]")
    await page.close()
