"""An observer (court clerk) watches without publishing until the mediator lets them speak."""

from __future__ import annotations

import pytest

from .conftest import BrowserFactory, Participant, RunningServer, expect_flowing, expect_silent

pytestmark = pytest.mark.browser


def test_observer_watches_then_speaks_when_permitted(accord_server: RunningServer, browsers: BrowserFactory,
                                                     screenshots: list[Participant]) -> None:
    room_id = accord_server.create_room("CASE-OBSERVER")
    mediator = Participant("mediator", browsers.launch(),
                           accord_server.join_url(accord_server.invite(room_id, "mediator", "王调解员")["token"]))
    clerk = Participant("observer", browsers.launch(),
                        accord_server.join_url(accord_server.invite(room_id, "observer", "孙书记员")["token"]))
    screenshots.extend([mediator, clerk])
    mediator.open().join()
    clerk.open().join()
    assert clerk.page.locator("#device-pickers").is_hidden()  # no camera check for observers
    mediator.wait_state("s.participants.some(p => p.role === 'observer' && p.state === 'lobby')")
    mediator.page.click("button[data-action='admit-all']")
    clerk.wait_state("s.you.state === 'admitted' && s.you.can_publish === false")

    expect_flowing(clerk, {mediator.seat: "mediator"})
    expect_silent(mediator, {clerk.seat: "observer"})
    assert clerk.page.locator("#chat-input").is_disabled()
    assert clerk.page.locator("#chat-hint").is_visible()
    assert clerk.page.locator("#toggle-mic").is_disabled()

    mediator.page.click(f"button[data-action='permit'][data-seat='{clerk.seat}']")
    clerk.wait_state("s.you.can_publish === true")
    expect_flowing(mediator, {clerk.seat: "observer"})
    assert not clerk.page.locator("#chat-input").is_disabled()
    assert not clerk.page.locator("#toggle-mic").is_disabled()
