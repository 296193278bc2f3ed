"""Every string of the translated pages has its translation (consent page: French, Arabic,
Ukrainian; staff pages: French and Arabic), and no catalog keeps strings nobody uses.

Strings are extracted the way `pybabel extract` does (Jinja2 templates with the i18n
extension, Python with `_`, `gettext` and `N_`).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
KEYWORDS = {"_": None, "gettext": None, "N_": None, "ngettext": (1, 2)}
CATALOGS = {
    "consent": (ROOT / "consent", ("fr", "ar", "uk")),
    "staff pages": (ROOT / "gateway" / "web", ("fr", "ar")),
}


def used_strings(package: Path) -> set[str]:
    method_map = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
    options = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    found: set[str] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        package, method_map, options, keywords=KEYWORDS
    ):
        if isinstance(message, tuple):
            found.update(m for m in message if m)
        elif message:
            found.add(message)
    return found


@pytest.mark.parametrize(
    ("name", "language"),
    [(name, lang) for name, (_path, langs) in CATALOGS.items() for lang in langs],
)
def test_every_string_is_translated(name: str, language: str) -> None:
    package, _languages = CATALOGS[name]
    po = package / "locale" / language / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    translated = {str(m.id) for m in catalog if m.id and m.string}
    used = used_strings(package)
    assert len(used) > 20  # the extraction found the pages' strings
    missing = sorted(used - translated)
    assert missing == [], f"{len(missing)} strings without a {language} translation in {po}"
