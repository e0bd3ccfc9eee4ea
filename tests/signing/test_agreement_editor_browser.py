"""The mediator's agreement editor in headless Chromium against a real server: open the draft made
from the case, write the terms (never an ID number), get the API's precise message next to a bad
field, save, preview, lock, hand out links, follow a signature, and edit into a new version."""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path
from typing import AsyncIterator

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from mediation.accounts import NewAccount, Role
from signaling.api.accounts import SERVICES_KEY
from playwright.async_api import BrowserContext, Page, async_playwright

from agreement_samples import agreement_dict
import signaling.api.agreements as agreements_api
from agreement_server import Person, Server, start_server
from tests.support.page_wait import wait_js_async

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


async def test_mediator_edits_the_case_draft_previews_locks_and_hands_out_links(
        server: Server, browser: BrowserContext) -> None:
    """The draft comes from the case: names and ID numbers are there, masked and read-only; the
    mediator writes the terms, gets the API's precise message next to a bad field, saves,
    previews, locks, hands out links, follows a signature and edits into a new version."""
    c = await server.cast()
    case_id = await server.case_at_result()
    status, drafted = await server.as_user(c.mediator, "POST", f"/api/cases/{case_id}/agreement", json={})
    assert status == 201, drafted
    agreement_id = drafted["agreement_id"]
    sample = agreement_dict()

    page = await browser.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    await page.goto(f"{server.base_url}/agreement.html#{agreement_id}")
    await page.wait_for_selector("body[data-state=auth]")
    await page.fill("#api-key", "ak_wrong")
    await page.click("#use-key")
    await page.wait_for_selector("#auth-error:not([hidden])")
    # the server's code (bad_credentials) in the page's words, never its English message
    assert await page.text_content("#auth-error") == "凭据无效或无权编辑协议：账号、密码或登录入口不正确。"
    await page.fill("#api-key", server.api_key)
    await page.click("#use-key")
    await page.wait_for_selector("#status[data-status=draft]")
    stored = await page.evaluate("() => [sessionStorage.getItem('accord.editor.apiKey'), "
                                 "Object.keys(localStorage).some(k => localStorage.getItem(k).startsWith('ak_'))]")
    assert stored == [server.api_key, False]  # the key lives in this tab only

    # Everything the case knows is there; who the participants are cannot be typed over.
    assert await page.text_content("#case-id") == case_id
    case_number = drafted["case"]["case_number"]
    assert case_number.startswith("(") and case_number.endswith("号")  # the court's format, not the case id
    assert await page.input_value('[data-path="case_number"]') == case_number
    zhang_id = sample["parties"][0]["id_number"]
    assert await page.input_value('[data-path="parties.0.id_number"]') == zhang_id[:3] + "*" * 13 + zhang_id[-2:]
    for path in ("parties.0.name", "parties.0.id_number", "parties.1.agent.id_number", "mediator.id_number",
                 "organisation.name", "parties.1.side"):
        assert await page.is_disabled(f'[data-path="{path}"]'), path
    assert await page.input_value('[data-path="parties.1.agent.name"]') == "王律师"
    assert await page.input_value('[data-path="monetary.0.amount"]') == "50000.00"

    await _fill(page, "facts", "")  # a required text left empty: the message lands under its field
    await page.click('[data-path="parties.0.agent"]')  # 张三 names an agent the case does not know
    wrong_id = zhang_id[:17] + ("0" if zhang_id[17] != "0" else "1")
    await _fill(page, "parties.0.agent.name", "孙律师")
    await _fill(page, "parties.0.agent.id_number", wrong_id)
    await _fill(page, "parties.0.agent.contact", "13700000009")
    await page.click("#save")
    error = page.locator('[data-field="parties.0.agent.id_number"] .field-error')
    await error.wait_for(state="visible")
    # the API's precise problem (type id_number_check_digit and its digits), worded by the page's table
    expected = f"校验码为 {wrong_id[17]}，按前 17 位应为 {zhang_id[17]}，请核对号码"
    assert await error.text_content() == expected
    assert await page.get_attribute('[data-path="parties.0.agent.id_number"]', "aria-invalid") == "true"
    assert "至少 1 个字符" in await page.text_content('label[data-field="facts"] .field-error')
    assert "2 处需要修改" in await page.text_content("#notice")

    await page.click('[data-path="parties.0.agent"]')  # no agent after all
    await _fill(page, "facts", sample["facts"])
    await page.click('[data-path="parties.1.agent.signs"]')
    await _fill(page, "monetary.0.due_date", sample["monetary"][0]["due_date"])
    await _fill(page, "monetary.0.method", sample["monetary"][0]["method"])
    await page.click("#save")
    await page.wait_for_selector("#status[data-status=draft]")
    await page.wait_for_selector("#notice:has-text('已保存')")
    status, saved = await server.call("GET", f"/api/agreements/{agreement_id}")
    assert status == 200 and saved["data"]["parties"][1]["agent"]["signs"] is True
    assert saved["data"]["monetary"][0] == {**sample["monetary"][0], "payer": "respondent", "payee": "applicant",
                                            "currency": "CNY", "description": None}
    kept = await server.store.current(agreement_id)
    assert kept.data.parties[0].id_number == zhang_id  # the masked value went back; the number stayed whole

    await page.click("#preview")
    await wait_js_async(page, "document.querySelectorAll('#pages img').length >= 3 && "
                              "[...document.querySelectorAll('#pages img')].every(i => i.naturalWidth > 0)", 60_000)

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
    await server.pass_identity(agreement_id, "party:applicant")
    status, body = await server.sign_as(first_url.split("#", 1)[1], "sig_01_party_applicant",
                                        ec.generate_private_key(ec.SECP256R1()))
    assert status == 200, body
    await page.click("#refresh")
    signed = page.locator('#signers li[data-field="sig_01_party_applicant"]')
    await page.wait_for_selector('#signers li[data-field="sig_01_party_applicant"][data-signed=yes]')
    assert "已签署" in await signed.text_content() and "浏览器密钥" in await signed.text_content()
    assert await links.count() == 3
    SCREENSHOT.parent.mkdir(exist_ok=True)
    await page.evaluate("window.scrollTo(0, 0)")
    await page.screenshot(path=str(SCREENSHOT), full_page=False)

    # Editing the locked text makes version 2: signatures restart, links are gone until it is locked.
    await page.click("#edit")
    assert not await page.is_disabled('[data-path="place"]')
    assert await page.is_disabled('[data-path="parties.0.id_number"]')
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
    c = await server.cast()
    _, agreement_id = await server.drafted_agreement()
    accounts = server.app[SERVICES_KEY].accounts
    admin = (await accounts.get(c.org_admin.actor.id)).as_actor()
    await accounts.create_staff(admin, NewAccount(Role.MEDIATOR, "mediator2", "李调解员", "correct horse battery",
                                                  organisation=c.mediator.actor.organisation))
    other = Person(c.mediator.actor, "mediator2", await server.login("mediator", "mediator2"))
    # Another mediator, even of the same organisation, cannot see it: the same 404 as for no agreement.
    status, refused = await server.as_user(other, "GET", f"/api/agreements/{agreement_id}")
    assert (status, refused["error"]["code"]) == (404, "agreement_not_found")
    page = await browser.new_page()
    await page.goto(f"{server.base_url}/agreement.html")
    await page.wait_for_selector("body[data-state=auth]")
    await page.fill("#login", "mediator")
    await page.fill("#password", "wrong password here")
    await page.click("#sign-in")
    await page.wait_for_selector("#auth-error:not([hidden])")
    assert await page.text_content("#auth-error") == "账号、密码或登录入口不正确。"
    await page.fill("#password", "correct horse battery")
    await page.click("#sign-in")
    await page.wait_for_selector("body[data-state=ready]")
    assert "案件页面" in await page.text_content("#notice")  # no free-standing agreements
    assert await page.is_disabled("#save")
    await page.goto(f"{server.base_url}/agreement.html#{agreement_id}")
    await page.wait_for_selector("#status[data-status=draft]")
    assert await page.input_value('[data-path="parties.1.agent.name"]') == "王律师"
    assert await page.input_value('[data-path="monetary.0.amount"]') == "50000.00"
    await page.reload()
    await page.wait_for_selector("#status[data-status=draft]")  # the session cookie survives a reload
    await page.click("#sign-out")
    await page.wait_for_selector("body[data-state=auth]")
    await page.close()
