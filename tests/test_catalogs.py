"""Every message of the program is translated in every catalog, and each compiled .mo matches its .po.

The messages are extracted afresh with Babel and the project's own config (newsletter/locale/babel.cfg,
over newsletter/ and templates/) into a temporary .pot, so a string added anywhere without its
translation fails here, listing the missing msgids. A translation whose %(name)s placeholders differ
from the original would raise at render time: that fails here too.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from newsletter.config import PROJECT_ROOT
from newsletter.i18n import DEFAULT_LANGUAGE, LOCALE_DIR, catalog_languages

PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]")
TRANSLATED = sorted(catalog_languages() - {DEFAULT_LANGUAGE})  # English is the source language


@pytest.fixture(scope="module")
def wanted(tmp_path_factory: pytest.TempPathFactory) -> dict[str | tuple[str, ...], set[str]]:
    """msgid (a plural one as its (singular, plural) pair) -> the locations it was extracted from."""
    pot = tmp_path_factory.mktemp("catalog") / "messages.pot"
    CommandLineInterface().run(["pybabel", "-q", "extract", "-F", str(LOCALE_DIR / "babel.cfg"), "-k", "N_",
                                "-k", "NP_:1,2", "-k", "translate", "-k", "translate_plural:1,2", "-o", str(pot),
                                str(PROJECT_ROOT)])
    with pot.open("rb") as fh:
        return {_key(m.id): {f"{Path(p).as_posix()}:{n}" for p, n in m.locations} for m in read_po(fh) if m.id}


def _key(value: str | tuple[str, ...] | list[str]) -> str | tuple[str, ...]:
    return value if isinstance(value, str) else tuple(value)


def test_extraction_covers_the_desk_the_reader_pages_and_the_volunteer_form(wanted) -> None:
    for msgid in ("Report an incident", "Publish without names", "Editors' desk", "Log out",
                  "Subscribe to the weekly newsletter", "Confirm your subscription to %(org)s", "Your newsletter language",
                  "Sources and details"):  # the last one is render/'s `translate`
        assert msgid in wanted


@pytest.mark.parametrize("language", TRANSLATED)
def test_catalog_is_complete(wanted, language: str) -> None:
    with (LOCALE_DIR / language / "LC_MESSAGES/messages.po").open("rb") as fh:
        catalog = read_po(fh)
    nplurals = catalog.num_plurals
    found = {_key(m.id): m for m in catalog if m.id}
    missing, fuzzy, bad_forms, bad_placeholders = [], [], [], []
    for msgid in sorted(wanted, key=str):
        msg = found.get(msgid)
        forms = () if msg is None else ((msg.string,) if isinstance(msg.string, str) else tuple(msg.string))
        where = sorted(wanted[msgid])[:1]
        if msg is None or not any(forms):
            missing.append(f"{msgid!r} ({', '.join(where) or 'no location'})")
        elif msg.fuzzy:
            fuzzy.append(repr(msgid))
        elif isinstance(msgid, tuple) and (len(forms) != nplurals or not all(forms)):
            bad_forms.append(f"{msgid!r}: {len(forms)} forms, {nplurals} needed")
        else:
            source = set(PLACEHOLDER.findall(msgid if isinstance(msgid, str) else msgid[1]))
            if isinstance(msgid, str) and any(set(PLACEHOLDER.findall(f)) != source for f in forms):
                bad_placeholders.append(repr(msgid))
    problems = {"untranslated": missing, "fuzzy": fuzzy, "plural forms": bad_forms, "placeholders differ": bad_placeholders}
    report = "\n".join(f"{kind} ({len(ids)}):\n  " + "\n  ".join(ids) for kind, ids in problems.items() if ids)
    assert not report, (f"the {language} catalog misses messages. Run pybabel extract/update (see "
                        f"newsletter/locale/babel.cfg), translate, then pybabel compile.\n{report}")


@pytest.mark.parametrize("language", sorted(catalog_languages()))
def test_compiled_catalog_is_up_to_date(language: str) -> None:
    folder = LOCALE_DIR / language / "LC_MESSAGES"
    with (folder / "messages.po").open("rb") as fh:
        po = {_key(m.id): _key(m.string) for m in read_po(fh) if m.id and not m.fuzzy}
    with (folder / "messages.mo").open("rb") as fh:
        mo = {_key(m.id): _key(m.string) for m in read_mo(fh) if m.id}

    def useful(value: str | tuple[str, ...]) -> bool:
        return any(value) if isinstance(value, tuple) else bool(value)

    expected = {k: v for k, v in po.items() if useful(v)}
    compiled = {k: v for k, v in mo.items() if useful(v)}
    assert expected == compiled, f"{folder / 'messages.mo'} is stale: run pybabel compile -d newsletter/locale"
