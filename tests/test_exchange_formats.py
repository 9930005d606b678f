"""Import and export of formats, quotes, timelines and photos (JSON): photo paths relative to the JSON
file, pictures rebuilt on import, every bad row reported and nothing written."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from newsletter.models import Incident, Media
from tests.render.builders import demo_picture

TESTIMONY = {
    "external_id": "odf-testimony-1", "title": "“I was told to forget about the union”", "publication": "public",
    "format": "testimony", "quote": {"text": "They took my phone.", "speaker": "a trade unionist"},
    "photo": {"path": "photos/hills.jpg", "alt": "Hills above the town", "caption": "Zhanaozen",
              "credit": "ODF"},
}
TIMELINE = {
    "external_id": "odf-timeline-1", "title": "January events", "format": "timeline",
    "timeline": [{"date": "January 4–5, 2022", "text": "Protests spread."}, "January 6, 2022: Internet shut down."],
}
STATEMENT = {
    "external_id": "odf-statement-1", "title": "Appeal", "format": "statement",
    "quote": {"text": "Release them.", "speaker": "Twelve organisations", "addressee": "The President"},
}


def _folder(tmp_path: Path, rows: list[dict[str, Any]]) -> Path:
    (tmp_path / "photos").mkdir(exist_ok=True)
    (tmp_path / "photos" / "hills.jpg").write_bytes(demo_picture())
    path = tmp_path / "in.json"
    path.write_text(json.dumps(rows), encoding="utf-8")
    return path


def test_formats_and_photos_are_imported_and_exported(cli: Any, session: Session, tmp_path: Path) -> None:
    out = cli("import", "incidents", str(_folder(tmp_path, [TESTIMONY, TIMELINE, STATEMENT])))
    assert "3 created" in out.output
    testimony = session.scalar(select(Incident).where(Incident.external_id == "odf-testimony-1"))
    assert testimony.format == "testimony" and testimony.quote["speaker"] == "a trade unionist"
    photo = testimony.photo
    assert photo["alt"] == "Hills above the town" and photo["width"] == 1200 and photo["origin"] == "import"
    with Image.open(io.BytesIO(session.get(Media, photo["web"]).data)) as img:
        assert not img.getexif() and "exif" not in img.info
    exported = {r["external_id"]: r for r in json.loads(cli("export", "incidents").stdout)}
    assert exported["odf-testimony-1"]["photo"] == {"file": photo["web"], "alt": "Hills above the town",
                                                    "caption": "Zhanaozen", "credit": "ODF",
                                                    "no_one_identifiable": False}
    assert exported["odf-timeline-1"]["timeline"] == [{"date": "January 4–5, 2022", "text": "Protests spread."},
                                                      {"date": "January 6, 2022", "text": "Internet shut down."}]
    assert exported["odf-statement-1"]["quote"] == STATEMENT["quote"]
    # The export (no picture files beside it) imports again without a change.
    again = tmp_path / "again.json"
    again.write_text(json.dumps(list(exported.values())), encoding="utf-8")
    assert "3 unchanged" in cli("import", "incidents", str(again)).output


@pytest.mark.parametrize(("change", "error"), [
    ({"photo": {**TESTIMONY["photo"], "path": "../secret.jpg"}}, "must stay inside the JSON file's folder"),
    ({"photo": {**TESTIMONY["photo"], "path": "/etc/passwd"}}, "must stay inside the JSON file's folder"),
    ({"photo": {**TESTIMONY["photo"], "path": "photos/missing.jpg"}}, "no file 'photos/missing.jpg'"),
    ({"photo": {**TESTIMONY["photo"], "path": "photos/page.jpg"}}, "not a photo"),
    ({"photo": {**TESTIMONY["photo"], "path": "photos/cut.jpg"}}, "damaged or incomplete"),
    ({"photo": {**TESTIMONY["photo"], "alt": ""}}, "needs its alt text"),
    ({"photo": {"file": "a" * 64 + ".jpg", "alt": "x"}}, "path is required"),
    ({"publication": "anonymised"}, "never carries a photo"),
    ({"format": "essay"}, "field format: format 'essay' is not one of"),
    ({"quote": None}, "a testimony needs its quote"),
    ({"quote": {"text": "x", "by": "y"}}, "unknown field 'by'"),
])
def test_a_bad_row_is_reported_and_nothing_is_imported(cli: Any, session: Session, tmp_path: Path,
                                                       change: dict[str, Any], error: str) -> None:
    path = _folder(tmp_path, [TIMELINE, {**TESTIMONY, **change}])
    (tmp_path / "photos" / "page.jpg").write_bytes(b"<html><script>alert(1)</script></html>")
    (tmp_path / "photos" / "cut.jpg").write_bytes(demo_picture()[:4000])
    (tmp_path.parent / "secret.jpg").write_bytes(demo_picture())
    out = cli("import", "incidents", str(path), expect=1)
    assert "row 2, field" in out.output and error in out.output, out.output
    assert session.scalar(select(func.count()).select_from(Incident)) == 0
    assert session.scalar(select(func.count()).select_from(Media)) == 0


def test_a_timeline_line_without_a_date_is_refused(cli: Any, session: Session, tmp_path: Path) -> None:
    out = cli("import", "incidents", str(_folder(tmp_path, [{**TIMELINE, "timeline": ["protests spread"]}])),
              expect=1)
    assert 'row 1, field timeline: timeline line 1 is not "date: what happened"' in out.output


def test_csv_carries_the_format(cli: Any, session: Session, tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text("title,format\nA news item,news\nAn essay,essay\n", encoding="utf-8")
    out = cli("import", "incidents", str(path), expect=1)
    assert "row 2, field format" in out.output
