"""The static archive: files, validity, relative links, newest-first index, Atom feed, template overrides."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag, urlsplit

import feedparser
import html5lib
import pytest

from newsletter.config import Settings
from newsletter.render import InvalidSnapshot, empty_feed, render_issue, write_archive
from tests.render.builders import BASE_URL, make_snapshot, series
from tests.render.conftest import html_references


def _strict_parse(html: str) -> None:
    """html5lib in strict mode raises on the first parse error (the Nu checker is not available)."""
    html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(html)


@pytest.fixture
def archive(render_settings: Settings) -> Path:
    snaps = series(3, items=6) + [make_snapshot(40, number=4, period="2026-W48")]
    write_archive(render_settings.issues_dir, snaps, render_settings)
    return Path(render_settings.issues_dir)


def test_archive_has_every_file(archive: Path) -> None:
    for period in ("2026-W45", "2026-W46", "2026-W47", "2026-W48"):
        for name in ("email.html", "email.txt", "subject.txt", "index.html", "issue.json", "archive.css", "archive.js"):
            assert (archive / period / name).is_file(), f"{period}/{name}"
    for name in ("index.html", "feed.xml", "archive.css", "archive.js"):
        assert (archive / name).is_file()
    assert not list(archive.rglob("*.tmp")) and not list(archive.rglob(".*"))


def test_pages_are_valid_html5(archive: Path) -> None:
    for page in [archive / "index.html", *archive.glob("*/index.html")]:
        _strict_parse(page.read_text())
    _strict_parse((archive / "2026-W48" / "email.html").read_text())


def test_links_inside_the_site_are_relative_and_resolve(archive: Path) -> None:
    pages = [archive / "index.html", *archive.glob("*/index.html")]
    checked = 0
    for page in pages:
        for url in html_references(page.read_text()):
            parts = urlsplit(url)
            if parts.scheme:
                # Absolute links are the canonical URL of the page, sources off the site, or the site's
                # subscribe page (the static archive cannot hold the form itself).
                assert parts.netloc != urlsplit(BASE_URL).netloc or url.startswith(f"{BASE_URL}/issues/") \
                    or url.startswith(f"{BASE_URL}/articles/") or url == f"{BASE_URL}/subscribe", url
                continue
            path, _ = urldefrag(url)
            if not path:
                continue
            target = (page.parent / path).resolve()
            if target.is_dir():
                target = target / "index.html"
            assert target.is_file() and archive.resolve() in target.parents, f"{page}: {url}"
            checked += 1
    assert checked > 20


def test_in_page_anchors_exist(archive: Path) -> None:
    html = (archive / "2026-W48" / "index.html").read_text()
    for url in html_references(html):
        if url.startswith("#"):
            assert f'id="{url[1:]}"' in html, url


def test_index_is_newest_first(archive: Path) -> None:
    html = (archive / "index.html").read_text()
    positions = [html.index(f'href="{p}/"') for p in ("2026-W48", "2026-W47", "2026-W46", "2026-W45")]
    assert positions == sorted(positions)


def test_web_page_shows_what_was_emailed(archive: Path) -> None:
    page = (archive / "2026-W48" / "index.html").read_text()
    data = json.loads((archive / "2026-W48" / "issue.json").read_text())
    for section in data["sections"]:
        for item in section["items"]:
            assert f'id="item-{item["id"]}"' in page
            for link in item["links"]:
                assert link["url"].replace("&", "&amp;") in page  # the sources the email points to
    assert "3 further cases in 2 cities are not published" in page
    assert "held in prison" in page and '<td class="num">17</td>' in page


def test_feed_parses_without_bozo(archive: Path) -> None:
    feed = feedparser.parse((archive / "feed.xml").read_bytes())
    assert feed.bozo == 0, feed.get("bozo_exception")
    assert feed.version == "atom10"
    assert [e.link for e in feed.entries] == [f"{BASE_URL}/issues/{p}/" for p in
                                                ("2026-W48", "2026-W47", "2026-W46", "2026-W45")]
    first = feed.entries[0]
    assert first.title.startswith("No. 4: ")
    assert first.id == f"{BASE_URL}/issues/2026-W48/"
    assert "Persons of concern" in first.content[0].value
    assert first.published_parsed is not None and first.updated_parsed is not None
    assert feed.feed.title == "Open Dialogue Monitoring"
    assert any(link.rel == "self" and link.href == f"{BASE_URL}/issues/feed.xml" for link in feed.feed.links)


def test_empty_feed_is_valid(render_settings: Settings, tmp_path: Path) -> None:
    feed = feedparser.parse(empty_feed(render_settings).encode())
    assert feed.bozo == 0 and feed.entries == []
    report = write_archive(tmp_path / "empty", [], render_settings)
    assert report.periods == []
    assert feedparser.parse((tmp_path / "empty" / "feed.xml").read_bytes()).bozo == 0
    assert "No issues have been published yet." in (tmp_path / "empty" / "index.html").read_text()


def test_user_template_overrides_and_falls_back(render_settings: Settings, tmp_path: Path) -> None:
    user = tmp_path / "user-templates"
    (user / "email" / "issue").mkdir(parents=True)
    (user / "web" / "archive").mkdir(parents=True)
    (user / "email" / "issue" / "subject.txt.j2").write_text("[{{ v.org_name }}] {{ v.title }}\n")
    (user / "web" / "archive" / "archive.css").write_text("body { color: #123456; }\n")
    settings = render_settings.model_copy(update={"templates_dir": user})
    rendered = render_issue(make_snapshot(2), settings)
    assert rendered.subject == "[Open Dialogue Monitoring] Please, listen to the citizens of Kazakhstan"
    assert rendered.assets["archive.css"] == "body { color: #123456; }\n"
    assert "Read this issue in your browser" in rendered.email_html  # bundled body template still used
    assert 'class="toc"' in rendered.web_html
    default = render_issue(make_snapshot(2), render_settings)
    assert default.subject == "Open Dialogue Monitoring No. 3: Please, listen to the citizens of Kazakhstan"


def test_broken_user_template_gives_a_clear_error(render_settings: Settings, tmp_path: Path) -> None:
    from newsletter.render import RenderError

    user = tmp_path / "user-templates"
    (user / "email" / "issue").mkdir(parents=True)
    (user / "email" / "issue" / "body.txt.j2").write_text("{{ v.title }}\n{{ v.no_such_thing }}\n")
    settings = render_settings.model_copy(update={"templates_dir": user})
    with pytest.raises(RenderError, match=r"template email/issue/body.txt.j2 \(.*user-templates/email/issue/body.txt.j2 line 2\): UndefinedError: .*no_such_thing"):
        render_issue(make_snapshot(1), settings)


def test_invalid_snapshot_lists_each_problem(render_settings: Settings) -> None:
    snap = make_snapshot(2)
    snap["version"] = 2
    snap["sections"][0]["items"][0]["headline"] = ""
    snap["sections"][1]["items"][0]["links"][0]["url"] = "javascript:alert(1)"
    with pytest.raises(InvalidSnapshot) as exc:
        render_issue(snap, render_settings)
    message = str(exc.value)
    assert "snapshot.version" in message
    assert "snapshot.sections[0].items[0].headline" in message
    assert "snapshot.sections[1].items[0].links[0].url: must be an absolute http(s) URL" in message
    with pytest.raises(InvalidSnapshot, match="must be a JSON object"):
        render_issue(None, render_settings)  # type: ignore[arg-type]


def test_one_bad_snapshot_writes_nothing(render_settings: Settings, tmp_path: Path) -> None:
    good, bad = make_snapshot(2), make_snapshot(2, number=4, period="2026-W48")
    del bad["issue"]["period_start"]
    with pytest.raises(InvalidSnapshot, match=r"snapshot.issue.period_start"):
        write_archive(tmp_path / "out", [good, bad], render_settings)
    assert not (tmp_path / "out").exists()
    with pytest.raises(InvalidSnapshot, match="two issues for period 2026-W47"):
        write_archive(tmp_path / "out", [good, make_snapshot(1, number=9)], render_settings)


def test_fields_outside_the_schema_never_reach_an_output(render_settings: Settings, tmp_path: Path) -> None:
    """A field added upstream by mistake (say, a protected name) is dropped, issue.json included."""
    snap = make_snapshot(3)
    snap["internal_notes"] = "Raigul Sadyrbaeva"
    snap["issue"]["author_name"] = "Raigul Sadyrbaeva"
    snap["sections"][0]["items"][0]["persons"] = [{"name": "Raigul Sadyrbaeva", "city": "Semey"}]
    write_archive(tmp_path / "out", [snap], render_settings)
    for path in (tmp_path / "out").rglob("*"):
        if path.is_file():
            text = (subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
                    if path.suffix == ".pdf" else path.read_text())
            assert "Sadyrbaeva" not in text and "Semey" not in text, path


def test_rendering_is_deterministic(render_settings: Settings) -> None:
    snap: dict[str, Any] = make_snapshot(10)
    a, b = render_issue(snap, render_settings), render_issue(snap, render_settings)
    assert a.files() == b.files()
    assert json.loads(a.issue_json)["issue"]["period"] == "2026-W47"
