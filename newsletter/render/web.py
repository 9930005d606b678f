"""The web page of one issue and the archive index: static HTML with only relative links inside the site."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from newsletter.config import Settings
from newsletter.render.context import Alternate, IssueView
from newsletter.render.env import RenderError, render_environment, render_template
from newsletter.render.pdf import pdf_unavailable

ISSUE_TEMPLATE = "web/archive/issue.html.j2"
INDEX_TEMPLATE = "web/archive/index.html.j2"
CONTENT_TEMPLATE = "web/archive/_content.html.j2"
# Copied next to every page that uses them, so each issue folder stands on its own.
ASSETS = ("archive.css", "archive.js")


def page_context(view: IssueView) -> dict[str, Any]:
    """An issue page lives in <period>/: the archive root is one level up, its assets sit beside it.

    It links issue.pdf only on a machine that can make it, so a pip-only install has no dead link.
    """
    root = "../../" if view.edition else "../"  # a further edition lives in <period>/<lang>/
    return view.as_context() | {
        "lang": view.lang, "dir": view.dir, "org_name": view.org_name, "root": root, "asset_prefix": "",
        **edition_links(root, view.edition, view.alternates),
        "charts": True,  # the inline SVG chart: on the page only, a feed reader gets the table
        "pdf_link": pdf_unavailable() is None,
    }


def edition_links(root: str, edition: str | None, alternates: Sequence[Alternate]) -> dict[str, Any]:
    """Where a page's chrome points in its edition: its language's index and feed, and the switch."""
    return {"home_href": f"{root}{edition}/" if edition else root,
            "feed_href": f"{root}feed.{edition}.xml" if edition else f"{root}feed.xml",
            "alternates": list(alternates)}


def render_web_page(view: IssueView, settings: Settings) -> str:
    return render_template(settings, ISSUE_TEMPLATE, page_context(view))


def render_content(view: IssueView, settings: Settings) -> str:
    """The issue body alone (intro, sections, notices), as the Atom feed carries it."""
    return render_template(settings, CONTENT_TEMPLATE, view.as_context())


def load_assets(settings: Settings) -> dict[str, str]:
    """The archive's CSS and JS, from the user's template folder when they override them."""
    env = render_environment(settings)
    assets = {}
    for name in ASSETS:
        try:
            source, _, _ = env.loader.get_source(env, f"web/archive/{name}")  # type: ignore[union-attr]
        except Exception as exc:  # noqa: BLE001 - a missing asset is a broken installation
            raise RenderError(f"archive asset web/archive/{name} not found in {settings.template_dirs}") from exc
        assets[name] = source
    return assets
