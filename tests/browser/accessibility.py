"""axe-core in the page under test, and its violations in a form a template author can act on.

axe-playwright-python bundles axe-core and injects it with ``page.evaluate``: our Content-Security-Policy
refuses ``page.add_script_tag``, and it should, so the page is checked with its real CSP in force.
"""

from __future__ import annotations

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

_AXE = Axe()
# Every WCAG 2.0/2.1/2.2 A and AA rule plus axe's best practices (landmarks, one h1, skip-link target...).
# Experimental rules stay off: they change between axe releases.
RUN_OPTIONS = {
    "resultTypes": ["violations"],
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa", "best-practice"],
    },
}


def violations(page: Page) -> list[dict]:
    return _AXE.run(page, options=RUN_OPTIONS).response["violations"]


def describe(found: list[dict]) -> str:
    """One block per violation: rule id, impact, help text and link, and each offending node's selector."""
    lines = []
    for violation in found:
        lines.append(f"{violation['id']} ({violation.get('impact')}): {violation['help']} "
                     f"<{violation['helpUrl']}>")
        for node in violation["nodes"]:
            target = " ".join(str(part) for part in node["target"])
            lines.append(f"    at {target}: {node['html'][:200]}")
            summary = node.get("failureSummary")
            if summary:
                lines.extend("        " + line for line in summary.splitlines())
    return "\n".join(lines)
