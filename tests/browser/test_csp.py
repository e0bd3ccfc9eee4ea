"""The Content-Security-Policy (``script-src 'self'``, ``style-src 'self'``) breaks no page: every
page loads its scripts and styles, and the room page reaches the server over its WebSocket."""

from __future__ import annotations

from typing import Any

from .conftest import BrowserFactory, Participant, RunningServer

PAGES = ("/", "/cases.html", "/agreement.html", "/sign.html", "/verify.html", "/organisations.html", "/mediators.html",
         "/datacentre.html",
         "/mediator.html?id=nobody", "/organisation.html?id=nobody", "/no-such-page")
#: Runs before any page script and outside the policy: records what the policy blocked.
RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation",
    (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`));
"""


def _violations(page: Any) -> list[str]:
    return page.evaluate("window.__csp")


def test_pages_load_their_scripts_and_styles_under_the_policy(accord_server: RunningServer,
                                                               browsers: BrowserFactory) -> None:
    context = browsers.launch()
    context.add_init_script(RECORD_VIOLATIONS)
    page = context.new_page()
    for path in PAGES:
        response = page.goto(accord_server.base_url + path)
        assert "script-src 'self'" in response.headers["content-security-policy"]
        page.wait_for_load_state("networkidle")
        assert page.evaluate("document.styleSheets.length") > 0, path
        assert _violations(page) == [], path
    browsers.close(context)


def test_the_room_page_joins_over_its_websocket_under_the_policy(accord_server: RunningServer,
                                                                  browsers: BrowserFactory) -> None:
    room = accord_server.create_room("CSP-1")
    token = accord_server.invite(room, "mediator", "调解员")["token"]
    context = browsers.launch()
    context.add_init_script(RECORD_VIOLATIONS)
    mediator = Participant("mediator", context, accord_server.join_url(token)).open().join()
    mediator.wait_state("s.you && s.you.seat", timeout=15000)
    assert _violations(mediator.page) == [], mediator.diagnostics()
    browsers.close(context)
