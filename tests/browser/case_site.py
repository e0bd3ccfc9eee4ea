"""The case pages' test site, shared by the browser tests of the case pages: the real app in this
process (same event loop as Playwright's async API) over a fresh data directory, with an
administrator, one mediation organisation and six mediators with profiles, a court clerk and a
judge, and two self-registered parties; one Chromium per test module, a browser context per person.
"""

from __future__ import annotations

import json
import re
import socket
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import AsyncIterator

import pytest
import pytest_asyncio
from aiohttp import web
from playwright.async_api import Browser, BrowserContext, Page, async_playwright, expect

from mediation.accounts import AccountInfo, Actor, NewAccount, Role
from mediation.cases import Application, PartyDetails
from mediation.directory import NewOrganisation, ProfileDetails
from mediation.id_numbers import check_character
from mediation.services import MediationServices
from signaling.api.accounts import SERVICES_KEY
from signaling.api.directory import DIRECTORY_KEY
from signaling.app import create_app
from signaling.config import Settings
from tests.support.loopback_media import CHROMIUM_ARGS as LOOPBACK_CHROMIUM_ARGS
from tests.support.loopback_media import SETTINGS as LOOPBACK_MEDIA

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", *LOOPBACK_CHROMIUM_ARGS]
PASSWORD = "correct horse battery"
ORG = "示例锦江区人民调解委员会"
COURT = "示例成都市锦江区人民法院"
SAME_LOOP = pytest.mark.asyncio(loop_scope="module")  # the module's server and browser live on one loop


def id_number(serial: int) -> str:
    """A well-formed, invented GB 11643 number."""
    first17 = f"510104198{serial % 10}0101{serial % 1000:03d}"
    return first17 + check_character(first17)


@dataclass
class Site:
    base_url: str
    data_dir: Path
    services: MediationServices
    app: web.Application
    people: dict[str, AccountInfo]
    mediators: list[AccountInfo]

    def actor(self, name: str) -> Actor:
        return self.people[name].as_actor()


async def register_party(services: MediationServices, data_dir: Path, login: str, name: str, serial: int) -> AccountInfo:
    """Self-registration with the code the development SMS gateway wrote to the data directory."""
    phone = f"1700000{serial:04d}"
    await services.accounts.send_code(phone)
    lines = (data_dir / "sms-outbox.jsonl").read_text(encoding="utf-8").splitlines()
    text = next(json.loads(line)["text"] for line in reversed(lines) if json.loads(line)["phone"] == phone)
    code = re.search(r"\b(\d{6})\b", text)
    assert code is not None, text
    return await services.accounts.register(NewAccount(Role.PARTY, login, name, PASSWORD, phone=phone,
                                                       id_number=id_number(serial)), code.group(1))


async def populate(app: web.Application, data_dir: Path) -> tuple[dict[str, AccountInfo], list[AccountInfo]]:
    services: MediationServices = app[SERVICES_KEY]
    directory = app[DIRECTORY_KEY].directory
    admin = (await services.accounts.bootstrap_admin("root", "示例平台管理员", PASSWORD)).as_actor()
    await directory.add_organisation(admin, NewOrganisation(ORG, "peoples", "四川省成都市锦江区", "示例路 1 号",
                                                            "028-00000001"))
    categories = ["retired_judge", "lawyer", "peoples_mediator", "scholar", "five_elders", "community_worker"]
    mediators = []
    for i, category in enumerate(categories, start=1):
        info = await services.accounts.create_staff(admin, NewAccount(
            Role.MEDIATOR, f"mediator{i}", f"示例调解员{i:02d}", PASSWORD, organisation=ORG))
        specialities = ["loan", "contract"] if i % 2 else ["labour"]
        await directory.set_profile(admin, info.id, ProfileDetails(category, "四川省成都市锦江区", specialities,
                                                                   ["普通话", "四川话"], True, 8))
        mediators.append(info)
    people = {
        "clerk": await services.accounts.create_staff(admin, NewAccount(Role.COURT_CLERK, "clerk1", "示例书记员",
                                                                        PASSWORD, court=COURT)),
        "judge": await services.accounts.create_staff(admin, NewAccount(Role.JUDGE, "judge1", "示例法官", PASSWORD,
                                                                        court=COURT)),
        "alice": await register_party(services, data_dir, "alice", "示例当事人甲", 1),
        "bob": await register_party(services, data_dir, "bob", "示例当事人乙", 2),
    }
    return people, mediators


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def site(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Site]:
    data_dir = tmp_path_factory.mktemp("case-pages") / "data"
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))  # bound before the app exists, so its room links name the real port
    base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    app = create_app(Settings(data_dir=data_dir, log_level="WARNING", public_url=base_url, **LOOPBACK_MEDIA))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    people, mediators = await populate(app, data_dir)
    yield Site(base_url, data_dir, app[SERVICES_KEY], app, people, mediators)
    await runner.cleanup()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser() -> AsyncIterator[Browser]:
    """One Chromium for the module; each person gets a context of their own (own cookies)."""
    async with async_playwright() as p:
        launched = await p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


async def person(browser: Browser) -> BrowserContext:
    return await browser.new_context(viewport={"width": 1440, "height": 1000}, locale="zh-CN",
                                     timezone_id="Asia/Shanghai")


async def sign_in(page: Page, site: Site, channel: str, login: str) -> None:
    await page.goto(f"{site.base_url}/cases.html")
    await page.click(f'[data-channel="{channel}"]')
    await page.fill("#login", login)
    await page.fill("#password", PASSWORD)
    await page.click("#sign-in")
    await expect(page.locator("#sign-out")).to_be_visible()  # the name (#who) is left out on a phone


# --------------------------------------------------------------------------- cases made through the services

async def case_in_counselling(site: Site, evidence: tuple[tuple[str, bytes, str], ...] = ()) -> str:
    """Alice v. Bob: the respondent consented, the first mediator was chosen and accepted (step 3).
    ``evidence``: (name, bytes, media type) files the applicant filed with the application."""
    alice, bob = site.actor("alice"), site.actor("bob")
    view = await site.services.filing.apply(alice, Application(
        "loan", "请求被申请人归还借款 12,000 元", "2025 年 1 月 10 日借款，至今未还。",
        PartyDetails(alice.name, site.people["alice"].phone or "", id_number(1), "四川省成都市锦江区示例路 1 号"),
        PartyDetails(bob.name, site.people["bob"].phone or "", id_number(2), "四川省成都市锦江区示例路 2 号"),
        amount_fen=1_200_000))
    for name, data, media_type in evidence:
        await site.services.documents.add_document(alice, view.id, data, name, media_type)
    mediator = site.mediators[0].as_actor()
    await site.services.filing.answer_consent(bob, view.id, True)
    await site.services.mediator_choice.choose_mediator(alice, view.id, mediator.id)
    await site.services.mediator_choice.answer_assignment(mediator, view.id, True)
    return view.id


async def case_to_mediation_result(site: Site) -> tuple[str, Actor]:
    """Alice v. Bob through steps 1-4 (services): consent, mediator, counselling, video concluded."""
    case_id = await case_in_counselling(site)
    mediator = site.mediators[0].as_actor()
    await site.services.video.open_video(mediator, case_id)
    await site.services.video.conclude_video(mediator, case_id)
    return case_id, mediator


async def case_at_the_court_step(site: Site) -> str:
    """A settled case whose agreement took effect and whose mediator both parties rated."""
    case_id, mediator = await case_to_mediation_result(site)
    agreement_id = await site.services.results.record_agreement(mediator, case_id, None)
    # What the signing ceremony reports in-process once the parties have signed.
    await site.services.results.agreement_took_effect(case_id, agreement_id, datetime.now(timezone.utc))
    await site.services.evaluation.rate(site.actor("alice"), case_id, 5, "")
    await site.services.evaluation.rate(site.actor("bob"), case_id, 5, "")
    return case_id
