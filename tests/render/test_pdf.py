"""issue.pdf: the web page printed through its print stylesheet, with nothing fetched and nothing leaked.

Real WeasyPrint on Debian's Pango and DejaVu fonts (scripts/test installs them); poppler's pdftotext,
pdfinfo and pdffonts read the result. A pip-only machine (Pango hidden in a private mount namespace)
still publishes, and says in one line why the PDF was skipped.
"""

from __future__ import annotations

import http.server
import os
import re
import shutil
import subprocess
import sys
import threading
import zlib
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.models import Issue
from newsletter.render import render_issue, write_archive
from newsletter.render.pdf import pdf_unavailable, render_pdf
from tests.render.builders import make_snapshot

NEWSLETTER = str(Path(sys.executable).parent / "newsletter")
RUSSIAN_NAME = "Айгуль Утепова"
RUSSIAN_HEADLINE = "Блогера Айгуль Утепову выпустили из психиатрического центра"

pytestmark = pytest.mark.skipif(pdf_unavailable() is not None, reason=f"{pdf_unavailable()} (scripts/test installs it)")


def _poppler(tool: str, pdf: Path, *args: str) -> str:
    return subprocess.run([tool, *args, str(pdf), "-"] if tool == "pdftotext" else [tool, *args, str(pdf)],
                          capture_output=True, text=True, check=True, timeout=60).stdout


def _all_objects(raw: bytes) -> bytes:
    """The file with every Flate stream inflated: WeasyPrint packs objects into compressed object streams."""
    out = [raw]
    for match in re.finditer(rb"stream\r?\n", raw):
        try:
            out.append(zlib.decompressobj().decompress(raw[match.end():]))
        except zlib.error:
            continue
    return b"\n".join(out)


def _russian_snapshot() -> dict[str, Any]:
    snap = make_snapshot(8)
    item = snap["sections"][0]["items"][0]
    item["headline"] = RUSSIAN_HEADLINE
    item["text"] = f"11 декабря блогер {RUSSIAN_NAME} вышла из центра психического здоровья."
    return snap


@pytest.fixture
def issue_pdf(tmp_path: Path, render_settings: Settings) -> tuple[Path, dict[str, Any]]:
    snap = _russian_snapshot()
    rendered = render_issue(snap, render_settings, pdf=True)
    assert rendered.pdf is not None and rendered.pdf_skipped is None
    out = rendered.write(tmp_path / "out")
    return out / "issue.pdf", snap


def test_the_pdf_carries_every_headline_and_renders_cyrillic(issue_pdf: tuple[Path, dict[str, Any]]) -> None:
    pdf, snap = issue_pdf
    assert pdf.read_bytes().startswith(b"%PDF-")
    text = " ".join(_poppler("pdftotext", pdf).split())
    for section in snap["sections"]:
        for item in section["items"]:
            assert " ".join(item["headline"].split()) in text
    assert RUSSIAN_NAME in text and RUSSIAN_HEADLINE in text
    info = _poppler("pdfinfo", pdf)
    assert "Page size:       595.276 x 841.89 pts (A4)" in info
    assert re.search(r"^Pages:\s+([2-9]|\d\d)", info, re.M)
    assert re.search(r"\b1 ?/ ?\d", text)  # page numbers in the footer margin box
    # Print rules: the URL follows the link text; no navigation, no "Other formats" line.
    assert "<https://www.rferl.org/a/" in text
    assert "All issues" not in text and "Atom feed" not in text and "Other formats" not in text


def test_the_pdf_says_only_its_title_and_embeds_its_fonts(issue_pdf: tuple[Path, dict[str, Any]]) -> None:
    pdf, snap = issue_pdf
    raw = _all_objects(pdf.read_bytes())
    assert b"/Title" in raw and b"/Type /Page" in raw  # the inflation reached the objects
    info = _poppler("pdfinfo", pdf)
    assert re.search(r"^Title:\s+Please, listen to the citizens of Kazakhstan", info, re.M)
    for key in ("Author", "Creator", "Producer", "CreationDate", "ModDate", "Subject", "Keywords"):
        assert not re.search(rf"^{key}:", info, re.M), info
        assert f"/{key}".encode() not in raw
    assert b"WeasyPrint" not in raw and b"/Metadata" not in raw
    fonts = _poppler("pdffonts", pdf).splitlines()[2:]
    assert fonts and all(line.split()[-5] == "yes" for line in fonts)  # the "emb" column: nothing to fetch
    assert any("DejaVu" in line for line in fonts)
    # No external references: no remote files, launches, scripts or forms; only the page's own links.
    for marker in (b"/GoToR", b"/Launch", b"/JavaScript", b"/JS ", b"/SubmitForm", b"/ImportData", b"/EmbeddedFile"):
        assert marker not in raw
    assert "0 embedded files" in _poppler("pdfdetach", pdf, "-list")
    uris = {line.split()[-1] for line in _poppler("pdfinfo", pdf, "-url").splitlines()[1:]}
    assert uris and all(u.startswith("https://") for u in uris)


class _Counting(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        type(self).hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def loopback() -> Iterator[tuple[str, list[str]]]:
    _Counting.hits = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Counting)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _Counting.hits
    server.shutdown()
    server.server_close()


def test_making_the_pdf_fetches_nothing_outside_the_issue(loopback: tuple[str, list[str]], tmp_path: Path) -> None:
    url, hits = loopback
    folder = tmp_path / "2026-W47"
    (folder / "media").mkdir(parents=True)
    (tmp_path / "secret.css").write_text("body { color: red }")
    png = ("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"
           "+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")
    page = f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>t</title>
<link rel="stylesheet" href="{url}/remote.css"><link rel="stylesheet" href="archive.css">
<link rel="stylesheet" href="../secret.css"><link rel="stylesheet" href="file:///etc/passwd">
<style>@import url("{url}/imported.css"); body {{ background: url("{url}/bg.png") }}
@font-face {{ font-family: X; src: url("{url}/font.woff2") }}</style></head>
<body><h1>Headline stays</h1><img src="{url}/pixel.png" alt="remote"><img src="{png}" alt="inline">
<img src="media/../../secret.css" alt="escape"><iframe src="{url}/frame"></iframe></body></html>"""
    pdf = render_pdf(page, title="t", assets={"archive.css": "h1 { color: #000 }"}, folder=folder)
    assert pdf.startswith(b"%PDF-")
    assert hits == []  # not one request reached the server
    assert b"/Image" in pdf or b"/XObject" in pdf  # the data: image was embedded


def test_render_and_publish_write_issue_pdf(cli: Any, session: Session, settings: Settings, tmp_path: Path) -> None:
    session.add(Issue(number=3, period="2026-W47", period_start=date(2026, 11, 16), period_end=date(2026, 11, 22),
                      state="sent", snapshot=_russian_snapshot()))
    session.commit()
    rendered = cli("render", "2026-W47", "--out", str(tmp_path / "out"))
    assert "issue.pdf" in rendered.output and (tmp_path / "out" / "issue.pdf").read_bytes().startswith(b"%PDF-")
    published = cli("publish", "2026-W47")
    assert "skipped" not in published.output
    folder = Path(settings.issues_dir) / "2026-W47"
    assert RUSSIAN_NAME in " ".join(_poppler("pdftotext", folder / "issue.pdf").split())
    assert 'href="issue.pdf"' in (folder / "index.html").read_text()


def test_an_archive_rewrite_keeps_existing_pdfs_and_makes_missing_ones(tmp_path: Path,
                                                                        render_settings: Settings) -> None:
    issues = tmp_path / "archive"
    snaps = [make_snapshot(3, number=1, period="2026-W46"), make_snapshot(3, number=2, period="2026-W47")]
    write_archive(issues, snaps, render_settings)
    first = (issues / "2026-W46" / "issue.pdf").stat().st_mtime_ns
    assert (issues / "2026-W47" / "issue.pdf").exists()
    write_archive(issues, snaps, render_settings, pdf_periods={"2026-W47"})
    assert (issues / "2026-W46" / "issue.pdf").stat().st_mtime_ns == first  # not remade: seconds per issue


PANGO = Path("/usr/lib/x86_64-linux-gnu/libpango-1.0.so.0")


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("unshare") or not PANGO.exists(),
                    reason="needs root, unshare and Debian's Pango to hide it")
def test_without_pango_publish_succeeds_and_says_the_pdf_was_skipped(session: Session, settings_env: dict[str, Any],
                                                                      settings: Settings) -> None:
    session.add(Issue(number=3, period="2026-W47", period_start=date(2026, 11, 16), period_end=date(2026, 11, 22),
                      state="sent", snapshot=make_snapshot(3)))
    session.commit()
    env = {**os.environ, **settings_env}
    # A pip-only machine: Pango's library is an empty file in a private mount namespace.
    script = f"mount --bind /dev/null {PANGO} && {NEWSLETTER} publish 2026-W47"
    result = subprocess.run(["unshare", "-m", "sh", "-c", script], env=env, capture_output=True, text=True, timeout=120)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    assert "published to" in out and "Traceback" not in out
    skipped = [line for line in out.splitlines() if "issue.pdf skipped" in line]
    assert len(skipped) == 1 and "libpango-1.0-0" in skipped[0], out
    folder = Path(settings.issues_dir) / "2026-W47"
    assert (folder / "index.html").exists() and not (folder / "issue.pdf").exists()
    assert 'href="issue.pdf"' not in (folder / "index.html").read_text()  # no dead link
