"""When the camera or microphone cannot be opened, the room's device check says why in the page's
own words: each DOMException getUserMedia throws has its text in the room's message table, and
the browser's English message never reaches a Chinese page (390×844)."""

from __future__ import annotations

from typing import Any, Iterator

import pytest

from .conftest import BrowserFactory, RunningServer

pytestmark = pytest.mark.browser

#: The DOMException name -> the key of the room's table that explains it.
EXPECTED = {
    "NotAllowedError": "devices.denied",
    "NotFoundError": "devices.notFound",
    "NotReadableError": "devices.busy",
    "OverconstrainedError": "devices.unsupported",
    "SecurityError": "devices.blocked",
    "AbortError": "devices.aborted",
    "TypeError": "devices.failed",  # anything else: the general text, still without the browser's words
}
RAW = "Raw browser message from getUserMedia"
#: Runs before the page's scripts: every getUserMedia call fails with the exception named.
FAIL_WITH = """(name) => {
  navigator.mediaDevices.getUserMedia = async () => { throw new DOMException("%s", name); };
}""" % RAW


@pytest.fixture(scope="module")
def context(browsers: BrowserFactory) -> Any:
    return browsers.launch()


@pytest.fixture(scope="module")
def room_id(accord_server: RunningServer) -> Iterator[str]:
    yield accord_server.create_room("CASE-DEVICES")


@pytest.mark.parametrize("name", list(EXPECTED))
def test_each_device_failure_has_plain_words(accord_server: RunningServer, room_id: str, context: Any,
                                             name: str) -> None:
    token = accord_server.invite(room_id, "party", "孙七", "applicant")["token"]
    page = context.new_page()
    try:
        page.set_viewport_size({"width": 390, "height": 844})
        page.add_init_script(f"({FAIL_WITH})({name!r})")
        page.goto(accord_server.join_url(token), wait_until="domcontentloaded")
        warning = page.locator("#prejoin-warning")
        warning.wait_for(state="visible", timeout=15000)
        expected = page.evaluate("(key) => import('/js/room_messages.js').then((m) => m.MESSAGES.zh[key])",
                                 EXPECTED[name])
        assert expected and warning.inner_text() == expected, (name, warning.inner_text())
        assert RAW not in page.locator("body").inner_text()
        assert page.locator("#join").is_visible()  # one can still join without devices
    finally:
        page.close()


def test_every_failure_text_is_in_both_languages(accord_server: RunningServer, context: Any) -> None:
    page = context.new_page()
    try:
        page.goto(f"{accord_server.base_url}/room.html")
        tables = page.evaluate("import('/js/room_messages.js').then((m) => m.MESSAGES)")
        for key in set(EXPECTED.values()):
            assert tables["zh"].get(key) and tables["en"].get(key), key
            assert "{" not in tables["zh"][key] + tables["en"][key], key  # no placeholder left for a raw message
    finally:
        page.close()
