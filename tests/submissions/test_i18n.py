"""Every string of the volunteer pages is in the Russian catalog, and the compiled .mo matches the .po."""

from __future__ import annotations

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from newsletter.config import PROJECT_ROOT
from newsletter.i18n import LOCALE_DIR, choose_language


def _key(value: str | tuple[str, ...] | list[str]) -> str | tuple[str, ...]:
    """A message id or string; a plural one (a list or tuple of forms) as a tuple."""
    return value if isinstance(value, str) else tuple(value)


def _extracted() -> set[str]:
    with (LOCALE_DIR / "babel.cfg").open() as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    keywords = dict(DEFAULT_KEYWORDS) | {"N_": None, "NP_": (1, 2)}
    return {msg[2] if isinstance(msg[2], str) else msg[2][0]
            for msg in extract_from_dir(str(PROJECT_ROOT), method_map, options_map, keywords=keywords)}


def test_russian_catalog_is_complete_and_compiled() -> None:
    wanted = _extracted()
    assert "Report an incident" in wanted and "Publish without names" in wanted
    with (LOCALE_DIR / "ru/LC_MESSAGES/messages.po").open("rb") as fh:
        po = {_key(m.id): _key(m.string) for m in read_po(fh) if m.id}
    # A plural message is keyed by its (singular, plural) pair and needs all three Russian forms.
    translated = {(k if isinstance(k, str) else k[0]): (v if isinstance(v, str) else len(v) == 3 and all(v))
                  for k, v in po.items()}
    missing = sorted(m for m in wanted if not translated.get(m))
    assert missing == [], f"untranslated (run pybabel update/compile, see babel.cfg): {missing}"
    with (LOCALE_DIR / "ru/LC_MESSAGES/messages.mo").open("rb") as fh:
        mo = {_key(m.id): _key(m.string) for m in read_mo(fh) if m.id}
    expected = {k: v for k, v in po.items() if (any(v) if isinstance(v, tuple) else v)}
    assert expected == mo, "messages.mo is stale: run pybabel compile -d newsletter/locale"


def test_language_choice() -> None:
    assert choose_language(None, "ru-RU,ru;q=0.9,en;q=0.5") == "ru"
    assert choose_language("en", "ru") == "en"
    assert choose_language("xx", "en;q=0.4, ru;q=0.8") == "ru"
    assert choose_language(None, "de-DE") == "en"
    assert choose_language(None, "garbage;;;q=abc, ru;q=0") == "en"
