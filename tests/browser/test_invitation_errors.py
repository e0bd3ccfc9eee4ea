"""What a person sees when their invitation is bad, and the language switch — in one
Chromium, against the real server."""

from __future__ import annotations

import base64
import json
import time
from typing import Any, Iterator

import pytest

from .conftest import BrowserFactory, Participant, RunningServer

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def context(browsers: BrowserFactory) -> Any:
    return browsers.launch()


@pytest.fixture(scope="module")
def room_id(accord_server: RunningServer) -> Iterator[str]:
    yield accord_server.create_room("CASE-ERRORS")


def refused_with(person: Participant, code: str, text: str) -> None:
    person.page.wait_for_selector("#ended:not([hidden])", timeout=15000)
    message = person.page.locator("#ended-message")
    assert message.get_attribute("data-code") == code
    assert text in message.inner_text()
    assert person.page.locator("#room").is_hidden()


def test_expired_invitation_shows_a_clear_error(accord_server: RunningServer, room_id: str, context: Any,
                                                screenshots: list[Participant]) -> None:
    token, _ = accord_server.token_issuer().issue(room_id, "party", "赵五", "applicant",
                                                  ttl=60, now=time.time() - 3600)
    person = Participant("expired", context, accord_server.join_url(token))
    screenshots.append(person)
    person.open().join()
    refused_with(person, "token_expired", "邀请链接已过期")


def test_tampered_invitation_shows_a_clear_error(accord_server: RunningServer, room_id: str, context: Any,
                                                 screenshots: list[Participant]) -> None:
    token = accord_server.invite(room_id, "party", "钱六", "respondent")["token"]
    body, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims["role"] = "mediator"  # promote ourselves, keep the old signature
    claims["side"] = None
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    person = Participant("tampered", context, accord_server.join_url(f"{forged}.{signature}"))
    screenshots.append(person)
    person.open().join()
    refused_with(person, "token_invalid", "邀请链接无效或已被修改")


def test_malformed_or_missing_invitation_is_refused_before_connecting(accord_server: RunningServer, context: Any,
                                                                       screenshots: list[Participant]) -> None:
    garbage = Participant("garbage", context, accord_server.join_url("not-a-token"))
    screenshots.append(garbage)
    garbage.open()
    refused_with(garbage, "token_invalid", "邀请链接无效")
    missing = Participant("missing", context, f"{accord_server.base_url}/join")
    screenshots.append(missing)
    missing.open()
    refused_with(missing, "noToken", "缺少邀请码")


def test_language_switch_is_remembered(accord_server: RunningServer, room_id: str, context: Any,
                                       screenshots: list[Participant]) -> None:
    token = accord_server.invite(room_id, "observer", "孙书记员")["token"]
    person = Participant("language", context, accord_server.join_url(token))
    screenshots.append(person)
    person.open()
    page = person.page
    page.wait_for_selector("#prejoin:not([hidden])")
    assert page.inner_text("#prejoin h1") == "加入调解室"
    page.click("#lang")
    assert page.inner_text("#prejoin h1") == "Join the mediation room"
    assert "Observer" in page.inner_text("#prejoin-who")
    page.reload()
    page.wait_for_selector("#prejoin:not([hidden])")
    assert page.inner_text("#prejoin h1") == "Join the mediation room"
    page.click("#lang")  # back to Chinese for the other tests sharing this browser profile
    assert page.inner_text("#prejoin h1") == "加入调解室"


def test_home_page_explains_how_to_join(accord_server: RunningServer, context: Any) -> None:
    page = context.new_page()
    try:
        page.goto(accord_server.base_url + "/")
        text = page.inner_text("main")
        assert "邀请链接" in text  # a person with a link just opens it
        assert "accord room" not in text and page.locator("pre").count() == 0  # no CLI on a public page
    finally:
        page.close()
