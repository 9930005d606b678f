"""Fixtures for render tests: settings without a database (rendering is pure) and helpers to inspect output."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from newsletter.config import Settings, load_settings
from tests.conftest import TEST_SECRET
from tests.render.builders import BASE_URL, make_snapshot


@pytest.fixture
def render_settings(tmp_path: Path) -> Settings:
    return load_settings(secret_key=TEST_SECRET, data_dir=tmp_path / "var", issues_dir=tmp_path / "issues",
                         base_url=BASE_URL, org_name="Open Dialogue Monitoring")


@pytest.fixture
def snapshot40() -> dict[str, Any]:
    return make_snapshot(40)


_CSS_URL = re.compile(r"""url\(\s*['"]?([^'")\s]+)""", re.I)
_CSS_IMPORT = re.compile(r"""@import\s+['"]([^'"]+)""", re.I)
URL_ATTRS = {"href", "src", "background", "action", "poster", "data", "srcset", "cite", "formaction", "xlink:href"}


class _References(HTMLParser):
    """Every URL an HTML document refers to: attributes, inline styles and <style> blocks."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is None:
                continue
            if name in URL_ATTRS:
                self.urls.extend(v.strip().split(" ")[0] for v in value.split(",")) if name == "srcset" else \
                    self.urls.append(value.strip())
            elif name == "style":
                self.urls.extend(_CSS_URL.findall(value))
            elif name == "content" and "url=" in value.lower():
                self.urls.append(value.split("=", 1)[1].strip())
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.urls.extend(_CSS_URL.findall(data) + _CSS_IMPORT.findall(data))

    def handle_comment(self, data: str) -> None:
        # Outlook conditional comments carry markup too.
        inner = _References()
        inner.feed(data)
        self.urls.extend(inner.urls)


def html_references(html: str) -> list[str]:
    parser = _References()
    parser.feed(html)
    parser.close()
    return parser.urls


TEXT_URL = re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s<>\"')\]]+", re.I)
