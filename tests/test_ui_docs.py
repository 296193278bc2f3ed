"""docs/ui.md shows the screens the browser tests photograph: every screenshot it names is
one a test writes with `look(page, name)` (at 1280 and 360 px), so the pictures stay those
of the pages as they are."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_screenshot_in_the_ui_guide_is_written_by_a_browser_test() -> None:
    guide = (ROOT / "docs" / "ui.md").read_text()
    shown = set(re.findall(r"\(ui/screens/([a-z0-9-]+)-(?:1280|360)\.png\)", guide))
    sources = "\n".join(p.read_text() for p in (ROOT / "tests" / "web").glob("*.py"))
    written = set(re.findall(r"""look\(\s*\w+,\s*["']([a-z0-9-]+)["']""", sources))
    assert len(shown) >= 20
    assert shown - written == set(), "screens docs/ui.md shows that no test writes"
