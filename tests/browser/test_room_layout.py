"""The room as a screen, in real Chromium at 1280×720 and 390×844: the page never scrolls (chat
and participant list scroll in their panels), the join button and the key controls are in view,
nothing overflows sideways; mute badges tell the mediator's audio and video mute apart; the
waiting side's chat is closed with a reason during a caucus; the chat survives a reload; a
removed person is told so, also when reopening the link; and every message shown on these
paths is one of the translation tables' texts. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

from typing import Any, Iterator

import pytest

from tests.support.page_wait import wait_js

from .conftest import ARTIFACTS, BrowserFactory, Participant, RunningServer
from .test_room import Meeting

pytestmark = pytest.mark.browser

SIZES = {"desktop": (1280, 720), "phone": (390, 844)}
CHAT_MESSAGES = 20

# The page's geometry: what the tests require of every size.
GEOMETRY = """(() => {
  const d = document.documentElement;
  const inView = (sel) => {
    const el = document.querySelector(sel);
    if (!el || el.offsetParent === null) return false;
    const r = el.getBoundingClientRect();
    if (!(r.top >= 0 && r.left >= 0 && r.bottom <= innerHeight + 0.5 && r.right <= innerWidth + 0.5 && r.height > 0)) return false;
    // Not clipped by a panel or covered: what is drawn at its centre is the element itself.
    const top = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
    return top !== null && (el === top || el.contains(top));
  };
  return { scrollHeight: d.scrollHeight, innerHeight, scrollWidth: d.scrollWidth, innerWidth,
           bodyScroll: document.body.scrollHeight, inView: Object.fromEntries(SELECTORS.map((s) => [s, inView(s)])) };
})()"""

# Every text of the page's translation tables in the page's language (what t() can produce).
TABLE_TEXTS = """(async () => {
  const lang = document.documentElement.lang === "en" ? "en" : "zh";
  const tables = [(await import("/js/error_messages.js")).ERROR_MESSAGES, (await import("/js/room_messages.js")).MESSAGES];
  return tables.flatMap((table) => Object.values(table[lang]));
})()"""


def geometry(page: Any, selectors: list[str]) -> dict[str, Any]:
    return page.evaluate(GEOMETRY.replace("SELECTORS", repr(selectors)))


def assert_fits(person: Participant, size: str, selectors: list[str]) -> None:
    g = geometry(person.page, selectors)
    where = f"{person.label} at {size}"
    assert g["scrollHeight"] <= g["innerHeight"], f"{where}: the page scrolls vertically: {g}"
    assert g["scrollWidth"] <= g["innerWidth"], f"{where}: the page overflows sideways: {g}"
    hidden = [s for s, ok in g["inView"].items() if not ok]
    assert not hidden, f"{where}: not in view: {hidden}; {g}"


def assert_from_tables(person: Participant, selector: str) -> str:
    """The element's text is exactly one text of the translation tables (no server English, no codes)."""
    text = person.page.inner_text(selector).strip()
    assert text in person.page.evaluate(TABLE_TEXTS), f"{person.label}: {selector} shows {text!r}, not a table text"
    return text


@pytest.fixture(scope="module")
def meeting(accord_server: RunningServer, browsers: BrowserFactory) -> Iterator[Meeting]:
    room_id = accord_server.create_room("(2026)川0104民调7号")
    people = {}
    for label, role, name, side in [("mediator", "mediator", "王调解员", None),
                                    ("applicant", "party", "张三", "applicant"),
                                    ("respondent", "party", "李四", "respondent")]:
        invite = accord_server.invite(room_id, role, name, side)
        people[label] = Participant(label, browsers.launch(), accord_server.join_url(invite["token"]))
    yield Meeting(room_id, **people)


def resize(person: Participant, size: str) -> None:
    width, height = SIZES[size]
    person.page.set_viewport_size({"width": width, "height": height})


def shot(person: Participant, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    person.page.screenshot(path=str(ARTIFACTS / f"room-layout-{name}-{person.label}.png"))


@pytest.mark.parametrize("size", list(SIZES))
def test_the_join_button_is_in_view_before_joining(meeting: Meeting, size: str) -> None:
    person = meeting.applicant
    if person.page is None or person.page.is_closed():
        person.open()
    resize(person, size)
    person.page.reload()
    person.page.wait_for_selector("#join:not([disabled])", timeout=15000)
    assert_fits(person, size, ["#join", ".topbar"])
    shot(person, f"prejoin-{size}")


def test_the_room_fits_the_screen_after_twenty_messages(meeting: Meeting) -> None:
    mediator, applicant, respondent = meeting.everyone
    mediator.open().join()
    for party in (applicant, respondent):
        party.join()
    mediator.wait_state("s.participants.filter(p => p.state === 'lobby').length === 2")
    mediator.page.click("button[data-action='admit-all']")
    for party in (applicant, respondent):
        party.wait_state("s.you.state === 'admitted'")
    for n in range(CHAT_MESSAGES):
        speaker = mediator if n % 2 == 0 else applicant
        speaker.page.fill("#chat-input", f"第 {n + 1} 条消息：关于还款计划的说明。")
        speaker.page.press("#chat-input", "Enter")
        wait_js(speaker.page, "document.getElementById('chat-input').value === ''", 10000)
    wait_js(mediator.page, f"document.querySelectorAll('#chat-list .chat-item').length === {CHAT_MESSAGES}", 15000)
    for size in SIZES:
        for person in meeting.everyone:
            resize(person, size)
        mediator.page.wait_for_timeout(300)  # layout settles
        assert_fits(mediator, size, [".topbar", "#toggle-mic", "#toggle-cam", "#leave", "#chat-input",
                                     "#chat-form button", "#console button[data-action='end']",
                                     "#console button[data-action='caucus-start']"])
        assert_fits(applicant, size, [".topbar", "#toggle-mic", "#toggle-cam", "#leave", "#chat-input"])
        # The chat scrolls inside its panel, showing the newest message.
        chat = mediator.page.evaluate("(() => { const l = document.getElementById('chat-list');"
                                      " return {overflows: l.scrollHeight > l.clientHeight,"
                                      " atEnd: l.scrollTop + l.clientHeight >= l.scrollHeight - 2}; })()")
        assert chat["overflows"] and chat["atEnd"], (size, chat)
        for person in meeting.everyone:
            shot(person, f"chat-{size}")


def test_mute_badges_tell_audio_and_video_apart(meeting: Meeting) -> None:
    mediator, applicant, _ = meeting.everyone
    for person in meeting.everyone:
        resize(person, "desktop")
    seat = applicant.seat
    tile = f"#grid .tile[data-seat='{seat}'] .tile-badges"
    mediator.page.click(f"button[data-action='mute'][data-seat='{seat}'][data-kind='video']")
    mediator.page.wait_for_selector(f"{tile} .badge.video-forced")
    assert mediator.page.locator(f"{tile} .badge.audio-forced").count() == 0
    assert mediator.page.inner_text(f"{tile} .badge.video-forced") == "摄像头被调解员关闭"
    applicant.page.wait_for_selector("#toggle-cam[data-state='forced']")
    assert applicant.page.get_attribute("#toggle-mic", "data-state") == "on"
    assert applicant.page.get_attribute("#toggle-mic", "aria-pressed") == "true"
    mediator.page.click(f"button[data-action='mute'][data-seat='{seat}'][data-kind='audio']")
    mediator.page.wait_for_selector(f"{tile} .badge.audio-forced")
    assert mediator.page.inner_text(f"{tile} .badge.audio-forced") == "被调解员静音"
    shot(mediator, "badges")
    for kind in ("audio", "video"):  # back as they were
        mediator.page.click(f"button[data-action='mute'][data-seat='{seat}'][data-kind='{kind}']")
    mediator.page.wait_for_selector(f"{tile} .badge.forced", state="detached")


def test_the_waiting_side_is_told_why_it_cannot_chat(meeting: Meeting) -> None:
    mediator, applicant, respondent = meeting.everyone
    mediator.page.click("button[data-action='caucus-start'][data-side='applicant']")
    respondent.wait_state("s.you.waiting_for_caucus === true")
    respondent.page.wait_for_selector("#chat-input:disabled")
    assert respondent.page.locator("#chat-hint").is_visible()
    assert "背对背" in assert_from_tables(respondent, "#chat-hint")
    assert applicant.page.locator("#chat-input:disabled").count() == 0
    shot(respondent, "caucus-waiting")
    mediator.page.click("button[data-action='caucus-end']")
    respondent.page.wait_for_selector("#chat-input:enabled")


def test_the_chat_survives_a_reload(meeting: Meeting) -> None:
    applicant = meeting.applicant
    applicant.page.reload()  # a tab that had joined re-joins at once
    applicant.wait_state("s.you.state === 'admitted'")
    wait_js(applicant.page, f"document.querySelectorAll('#chat-list .chat-item').length === {CHAT_MESSAGES}", 15000)
    assert "第 20 条消息" in applicant.page.inner_text("#chat-list")


def test_a_removed_person_is_told_so_also_when_reopening_the_link(meeting: Meeting) -> None:
    mediator, _, respondent = meeting.everyone
    resize(respondent, "phone")
    mediator.page.click(f"button[data-action='remove'][data-seat='{respondent.seat}']")
    mediator.page.click("#confirm button[value='ok']")
    respondent.page.wait_for_selector("#ended:not([hidden])")
    assert assert_from_tables(respondent, "#ended-heading") == "您已被调解员移出"
    assert_from_tables(respondent, "#ended-message")
    respondent.page.close()
    respondent.open()  # the same link again
    respondent.page.wait_for_selector("#join:not([disabled])", timeout=15000)
    respondent.page.click("#join")
    respondent.page.wait_for_selector("#ended:not([hidden])")
    assert respondent.page.get_attribute("#ended-message", "data-code") == "removed_from_room"
    assert assert_from_tables(respondent, "#ended-heading") == "您已被调解员移出"
    assert "移出" in assert_from_tables(respondent, "#ended-message")
    assert_fits(respondent, "phone", ["#ended-message"])
    shot(respondent, "removed-reopened")


def test_a_bad_link_a_missing_file_and_a_bad_file_are_explained_from_the_tables(meeting: Meeting, accord_server: RunningServer) -> None:
    person = meeting.respondent
    person.page.goto(f"{accord_server.base_url}/join#not-a-token")
    person.page.wait_for_selector("#ended:not([hidden])")
    assert_from_tables(person, "#ended-message")
    person.page.goto(f"{accord_server.base_url}/verify.html")
    # Submitting without a file: our words under the field, not the browser's bubble.
    person.page.click("#submit")
    person.page.wait_for_selector("#file + .form-check:not([hidden])")
    assert person.page.inner_text("#file + .form-check") == "必填"
    assert person.page.evaluate("document.activeElement.id") == "file"
    person.page.set_input_files("#file", files=[{"name": "letter.pdf", "mimeType": "application/pdf",
                                                  "buffer": "这不是 PDF 文件".encode()}])
    person.page.click("#submit")
    person.page.wait_for_selector("#error:not([hidden])")
    shown = person.page.inner_text("#error").strip()
    assert shown in person.page.evaluate(TABLE_TEXTS.replace(
        '(await import("/js/room_messages.js")).MESSAGES', '(await import("/js/verify/messages.js")).MESSAGES')), shown
    assert "%PDF" not in shown and "header" not in shown
    # A refused body, as the server words it, through the client's one error formatter.
    worded = person.page.evaluate("""(async () => {
      const { errorMessage } = await import("/js/i18n.js");
      const response = await fetch("/api/auth/login", { method: "POST", headers: { "Content-Type": "application/json" },
                                                         body: JSON.stringify({ channel: "party", login: "", password: "" }) });
      const { error } = await response.json();
      return errorMessage(error.code, error.message, error.details);
    })()""")
    assert worded == "请检查填写的内容：账号：至少 1 个字符；密码：至少 1 个字符", worded
