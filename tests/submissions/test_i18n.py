"""Choosing the volunteer pages' language (the catalogs' completeness is tests/test_catalogs.py)."""

from __future__ import annotations

from newsletter.i18n import choose_language


def test_language_choice() -> None:
    assert choose_language(None, "ru-RU,ru;q=0.9,en;q=0.5") == "ru"
    assert choose_language("en", "ru") == "en"
    assert choose_language("xx", "en;q=0.4, ru;q=0.8") == "ru"
    assert choose_language(None, "de-DE") == "en"
    assert choose_language(None, "garbage;;;q=abc, ru;q=0") == "en"
