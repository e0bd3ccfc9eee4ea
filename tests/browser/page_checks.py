"""Checks shared by the browser tests of the pages' layout and accessibility: no sideways scroll
and a one-row header at a desktop and a phone size, key controls visible, screenshots, and
axe-core (installed from npm) with no serious or critical finding."""

from __future__ import annotations

from typing import Any

from playwright.async_api import Page, expect

from .case_site import ARTIFACTS, REPO

SIZES = ((1280, 720), (390, 844))
AXE = (REPO / "web_client/node_modules/axe-core/axe.min.js").read_text(encoding="utf-8")
#: axe's verdicts that fail the page; "moderate" and "minor" ones are reported by the tool, not here.
BLOCKING = ("serious", "critical")
RUN_AXE = """async (blocking) => {
  const result = await axe.run(document, { resultTypes: ["violations"] });
  return result.violations.filter((v) => blocking.includes(v.impact))
    .map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 4).map((n) => n.target.join(" ")) }));
}"""


async def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical findings; evaluated over DevTools, so the page's CSP stays on."""
    if not await page.evaluate("typeof axe !== 'undefined'"):
        await page.evaluate(AXE)
    return await page.evaluate(RUN_AXE, list(BLOCKING))


async def check_layout(page: Page, name: str, controls: tuple[str, ...], problems: list[str]) -> None:
    """At both sizes: no overflow, a one-row header, `controls` visible, a screenshot; then axe."""
    for width, height in SIZES:
        await page.set_viewport_size({"width": width, "height": height})
        for selector in controls:
            try:
                await expect(page.locator(selector).first).to_be_visible(timeout=5000)
            except AssertionError:
                problems.append(f"{name} @{width}: {selector} not visible")
        scroll, inner = await page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        if scroll > inner:
            wide = await page.evaluate("""(inner) => [...document.querySelectorAll('body *')]
                .filter((e) => e.getBoundingClientRect().right > inner + 1
                  || (e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX === 'visible')).slice(0, 5)
                .map((e) => `${e.tagName.toLowerCase()}#${e.id}.${[...e.classList].join('.')} ${Math.round(e.getBoundingClientRect().right)}`)""", inner)
            problems.append(f"{name} @{width}: scrollWidth {scroll} > innerWidth {inner}: {wide}")
        header = await page.evaluate("document.querySelector('header.bar')?.getBoundingClientRect().height ?? 0")
        if header >= 70:
            problems.append(f"{name} @{width}: the header wraps ({header:.0f} px)")
        await page.screenshot(path=str(ARTIFACTS / f"layout-{name}-{width}.png"), full_page=True)
    for violation in await axe_violations(page):
        problems.append(f"{name}: axe {violation['impact']} {violation['id']} ({violation['help']}) at {violation['nodes']}")


