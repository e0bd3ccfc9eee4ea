"""The signing page in headless Chromium against a real server: WebCrypto keys that never leave the
browser, the what-you-see-is-what-you-sign check, and a final B-LTA PDF independent tools accept."""

from __future__ import annotations

import datetime as dt
import random
import tempfile
from pathlib import Path
from typing import AsyncIterator

import pytest
from asn1crypto import cms
from cryptography.hazmat.primitives.serialization import Encoding
from playwright.async_api import BrowserContext, Page, async_playwright

from agreement_server import Server, start_server
from pades_samples import pdfsig
from signing.verification import async_verify_agreement

pytestmark = pytest.mark.browser

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    srv = await start_server(tmp_path / "data")
    yield srv
    await srv.close()


@pytest.fixture
async def browser() -> AsyncIterator[BrowserContext]:
    with tempfile.TemporaryDirectory() as profile:
        async with async_playwright() as p:
            context = await p.chromium.launch_persistent_context(
                profile, executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
            yield context
            await context.close()


async def _open_signing_page(browser: BrowserContext, server: Server, token: str) -> tuple[Page, list[str]]:
    page = await browser.new_page()
    requests: list[str] = []
    page.on("request", lambda r: requests.append(f"{r.method} {r.url}"))
    await page.goto(f"{server.base_url}/sign.html#{token}")
    return page, requests


async def _sign_in_browser(browser: BrowserContext, server: Server, agreement_id: str, token: str,
                           signer_key: str) -> Page:
    page, _ = await _open_signing_page(browser, server, token)
    await page.wait_for_selector("body[data-state=blocked]")
    assert "身份核验" in await page.text_content("#blocked")  # Chinese by default
    await server.pass_identity(agreement_id, signer_key)
    await page.click("#refresh")
    await page.wait_for_selector("body[data-state=ready]")
    assert await page.locator("#pages img").count() >= 3
    await page.click("#sign")
    await page.wait_for_selector("body[data-state=signed]", timeout=60_000)
    assert await page.get_attribute('#steps li[data-step="check"]', "data-status") == "done"
    return page


async def test_two_parties_and_the_mediator_sign_in_chromium(server: Server, browser: BrowserContext,
                                                             tmp_path: Path) -> None:
    agreement_id, tokens = await server.locked_agreement(agent_signs=False)
    assert list(tokens) == ["sig_01_party_applicant", "sig_02_party_respondent", "sig_03_mediator"]
    first = await _sign_in_browser(browser, server, agreement_id, tokens["sig_01_party_applicant"], "party:applicant")
    # The key is in IndexedDB and cannot be exported, not even by the page itself.
    outcome = await first.evaluate("""async (id) => {
        const { signingKey } = await import('/js/sign/keystore.js');
        const { pair, created } = await signingKey(id);
        try { await crypto.subtle.exportKey('pkcs8', pair.privateKey); return 'exported'; }
        catch (e) { return e.name + ':' + created + ':' + pair.privateKey.extractable; }
    }""", f"{agreement_id}/party:applicant")
    assert outcome == "InvalidAccessError:false:false"  # the signer's stored key, not a new one
    await first.click("#lang")
    assert await first.text_content("#sign") == "Sign"
    await first.click("#lang")  # the choice is remembered: back to Chinese for the next pages
    await first.close()
    await (await _sign_in_browser(browser, server, agreement_id, tokens["sig_02_party_respondent"], "party:respondent")).close()
    await (await _sign_in_browser(browser, server, agreement_id, tokens["sig_03_mediator"], "mediator")).close()

    status, sealed = await server.call("POST", f"/api/agreements/{agreement_id}/seal", json={"version": 1})
    assert status == 200 and sealed["status"] == "completed", sealed
    assert [s["key_custody"] for s in sealed["slots"]] == ["browser", "browser", "browser", "server"]
    # In effect from the last party signature, at the time its timestamp token proves.
    assert sealed["effective_at"] == sealed["slots"][1]["timestamp_at"] is not None

    status, final = await server.call("GET", f"/api/agreements/{agreement_id}/versions/1/pdf")
    pki = server.ceremony.pki
    report = await async_verify_agreement(final, [pki.root_cert])
    assert report.valid, report.to_dict()
    assert report.signed_fields == report.expected_fields and len(report.document_timestamps) == 1

    pdf_path, root_pem = tmp_path / "final.pdf", tmp_path / "root.pem"
    pdf_path.write_bytes(final)
    root_pem.write_bytes(pki.root_cert.public_bytes(Encoding.PEM))
    out = pdfsig(pdf_path, root_pem, tmp_path)
    assert out.count("Signature Validation: Signature is Valid.") == 4, out
    assert out.count("Certificate Validation: Certificate is Trusted.") == 4, out

    # The public verification page shows the same verdict.
    page = await browser.new_page()
    await page.goto(f"{server.base_url}/verify.html")
    await page.set_input_files("#file", str(pdf_path))
    await page.click("#submit")
    await page.wait_for_selector("body[data-state=valid]", timeout=60_000)
    assert await page.locator("#signatures tr").count() == 4
    evidence = await page.locator("#signatures tr td:nth-child(9)").all_text_contents()
    assert all(e.startswith("签署人浏览器持有密钥") and "face " in e and "frames-sha256=" in e for e in evidence[:3])
    assert evidence[3] == "平台服务器持有密钥"  # the seal states no identity check
    await page.close()


@pytest.mark.parametrize(("where", "reason"), [("end", "消息摘要"), ("start", "增量更新")])
async def test_page_refuses_a_prepared_pdf_that_is_not_what_was_shown(
        server: Server, browser: BrowserContext, monkeypatch: pytest.MonkeyPatch, where: str, reason: str) -> None:
    agreement_id, tokens = await server.locked_agreement()
    ceremony = server.ceremony
    genuine = ceremony.prepared_pdf

    def swapped(*args: object) -> bytes:
        pdf = bytearray(genuine(*args))  # type: ignore[arg-type]
        index = len(pdf) - 20 if where == "end" else 200  # covered bytes: after or before the signature
        pdf[index] ^= 0x20
        return bytes(pdf)

    monkeypatch.setattr(ceremony, "prepared_pdf", swapped)
    await server.pass_identity(agreement_id, "party:applicant")
    page, requests = await _open_signing_page(browser, server, tokens["sig_01_party_applicant"])
    await page.wait_for_selector("body[data-state=ready]")
    await page.click("#sign")
    await page.wait_for_selector("body[data-state=refused]", timeout=60_000)
    notice = await page.text_content("#notice")
    assert "已拒绝签名" in notice and reason in notice, notice
    assert await page.get_attribute('#steps li[data-step="check"]', "data-status") == "failed"
    assert not any("/api/sign/complete" in r for r in requests)
    assert (await server.store.current(agreement_id)).signatures == []
    await page.close()


def _attrs(*attributes: tuple[str, list]) -> bytes:
    return cms.CMSAttributes([cms.CMSAttribute({"type": t, "values": v}) for t, v in attributes]).dump()


async def test_the_der_walker_is_strict(server: Server, browser: BrowserContext) -> None:
    """The page's own DER reader finds messageDigest and refuses everything ambiguous or damaged."""
    digest = bytes(range(32))
    signing_time = cms.Time({"utc_time": dt.datetime(2026, 11, 29, tzinfo=dt.UTC)})
    genuine = _attrs(("content_type", ["data"]), ("signing_time", [signing_time]), ("message_digest", [digest]))
    assert len(genuine) < 128
    cases = {
        "genuine": genuine,
        "duplicate": _attrs(("message_digest", [digest]), ("message_digest", [digest])),
        "two_values": _attrs(("message_digest", [digest, digest])),
        "missing": _attrs(("content_type", ["data"])),
        "trailing": genuine + b"\x00",
        "truncated": genuine[:-3],
        "non_minimal": b"\x31\x81" + bytes([len(genuine) - 2]) + genuine[2:],
        "not_a_set": b"\x30" + genuine[1:],
    }
    rng = random.Random(1234)
    fuzz = [bytes(rng.getrandbits(8) for _ in range(rng.randrange(0, 80))) for _ in range(300)]
    fuzz += [genuine[:i] + bytes([rng.getrandbits(8)]) + genuine[i + 1:] for i in range(len(genuine))]
    page = await browser.new_page()
    await page.goto(f"{server.base_url}/sign.html")
    results = await page.evaluate("""async ([cases, fuzz]) => {
        const { messageDigestOf, DerError } = await import('/js/sign/der.js');
        const run = (bytes) => {
            try { return Array.from(messageDigestOf(new Uint8Array(bytes))).join(','); }
            catch (e) { return e instanceof DerError ? 'DerError' : 'CRASH ' + e; }
        };
        const named = {};
        for (const [name, bytes] of Object.entries(cases)) named[name] = run(bytes);
        return { named, fuzz: fuzz.map(run) };
    }""", [{k: list(v) for k, v in cases.items()}, [list(f) for f in fuzz]])
    await page.close()
    assert results["named"].pop("genuine") == ",".join(str(b) for b in digest)
    assert results["named"] == {name: "DerError" for name in results["named"]}
    assert not [r for r in results["fuzz"] if r.startswith("CRASH")]
