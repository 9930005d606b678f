"""The static archive (settings.issues_dir) served at /issues/, exactly as any web server would serve it.

Only files inside the archive folder are served (no dot-files, nothing outside it through `..` or
symlinks). Before the first issue is published the index says so and the feed is a valid empty feed.
"""

from __future__ import annotations

import mimetypes
import re
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from newsletter.render import empty_feed
from newsletter.render.web import ASSETS, load_assets
from newsletter.web.templating import render

router = APIRouter(include_in_schema=False)

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".json": "application/json",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
}
FEED_TYPE = "application/atom+xml; charset=utf-8"
_FEED_NAME = re.compile(r"feed(\.[a-z]{2,3}(-[a-z0-9]{2,8})*)?\.xml")
CACHE = "public, max-age=300"
# The archived email is styled inline (that is how email works); it may use inline styles, nothing else.
EMAIL_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; "
             "form-action 'none'; frame-ancestors 'self'")


def _root(request: Request) -> Path:
    return Path(request.app.state.runtime.settings.issues_dir).resolve()


MAX_PATH = 512  # archive paths are short ("2026-W47/ru/index.html"); longer ones exist nowhere
_NAME_MAX = 255  # bytes in one file name on common filesystems


def _resolve(root: Path, path: str) -> Path | None:
    """The file for a URL path inside the archive, or None when it is outside, hidden, missing or a
    name no filesystem could hold (a NUL byte, control characters, over-long names): those are a 404,
    not an error from the operating system."""
    if len(path) > MAX_PATH or any(ord(c) < 32 or ord(c) == 127 for c in path):
        return None
    parts = [p for p in path.split("/") if p]
    if any(p.startswith(".") or len(p.encode("utf-8", "surrogatepass")) > _NAME_MAX for p in parts):
        return None
    try:
        target = root.joinpath(*parts).resolve()
        if target != root and not target.is_relative_to(root):
            return None
        return target if target.exists() else None
    except (OSError, ValueError):
        return None


def _is_feed(target: Path) -> bool:
    """feed.xml, and each further edition's feed.<lang>.xml (Atom, not any XML)."""
    return _FEED_NAME.fullmatch(target.name) is not None


def _file(target: Path) -> FileResponse:
    media = FEED_TYPE if _is_feed(target) else CONTENT_TYPES.get(target.suffix.lower())
    media = media or mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    headers = {"cache-control": CACHE}
    if target.name == "email.html":
        headers |= {"content-security-policy": EMAIL_CSP, "x-frame-options": "SAMEORIGIN"}
    return FileResponse(target, media_type=media, headers=headers)


def _missing(request: Request, *, empty: bool) -> Response:
    return render(request, "archive/missing.html.j2", {"empty": empty}, status_code=200 if empty else 404)


@router.api_route("/issues", methods=["GET", "HEAD"])
def archive_redirect() -> RedirectResponse:
    return RedirectResponse("/issues/", status_code=308)


@router.api_route("/issues/feed.xml", methods=["GET", "HEAD"])
def archive_feed(request: Request) -> Response:
    target = _resolve(_root(request), "feed.xml")
    if target is not None and target.is_file():
        return _file(target)
    return Response(empty_feed(request.app.state.runtime.settings), media_type=FEED_TYPE,
                    headers={"cache-control": CACHE})


@router.api_route("/issues/{path:path}", methods=["GET", "HEAD"])
def archive_file(request: Request, path: str = "") -> Response:
    root = _root(request)
    target = _resolve(root, path)
    if target is not None and target.is_dir():
        if path and not path.endswith("/"):
            # Pages link relatively ("archive.css", "../"), which only works below a trailing slash.
            return RedirectResponse(f"/issues/{path}/", status_code=308)
        target = target / "index.html"
        target = target if target.is_file() else None
    if target is not None and target.is_file():
        return _file(target)
    if path in ASSETS:
        # Before the first publication the "no issues yet" page still gets its stylesheet.
        return Response(load_assets(request.app.state.runtime.settings)[path],
                        media_type=CONTENT_TYPES[Path(path).suffix], headers={"cache-control": CACHE})
    return _missing(request, empty=not path)
