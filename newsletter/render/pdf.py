"""issue.pdf: the issue's web page printed with its print stylesheet (WeasyPrint). Pure: HTML in, bytes out.

Diplomats and journalists forward a PDF. It must not betray anyone: nothing is fetched while it is
made (the stylesheet comes from memory, only data: URIs and files under the issue's own folder are
read, every other URL is refused), and it carries a Title and nothing else in its metadata (no
author, producer, creator or dates that would tell who made it, or when, with what).

WeasyPrint needs Pango from the system. On a machine installed with pip alone it is missing: the
PDF is then skipped with a one-line reason (`pdf_unavailable()`), and everything else still works.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

# Relative URLs in the page resolve against this; the fetcher maps it to the in-memory assets.
BASE_URL = "file:///issue/"
_MEDIA_NAME = re.compile(r"^[0-9a-f]{64}\.jpg$")


class PdfUnavailable(Exception):
    """WeasyPrint or its system libraries (Pango) are missing; the message says which and what to install."""


class RefusedFetch(Exception):
    """The page asked for something outside the issue; nothing goes over the network for a PDF."""


@functools.cache
def pdf_unavailable() -> str | None:
    """Why issue.pdf cannot be made on this machine (one line), or None when it can."""
    try:
        import weasyprint  # noqa: F401
    except ImportError:
        return "WeasyPrint is not installed (pip install weasyprint)"
    except OSError as exc:  # Pango / GObject not found by cffi
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return (f"WeasyPrint cannot load Pango ({first}); install libpango-1.0-0 libpangoft2-1.0-0 "
                "fonts-dejavu-core")
    return None


def make_fetcher(assets: Mapping[str, str], folder: Path | None = None, *, media: Mapping[str, bytes] | None = None,
                 media_url: str | None = None) -> Any:
    """A url_fetcher that serves the issue's own files and data: URIs, and refuses every other URL.

    The issue's photos are linked by their public address (`media_url` + name, under the base URL);
    they are read from `media` (the bytes being published) or from `folder`/media/, never fetched."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    root = folder.resolve() if folder is not None else None

    class IssueOnlyFetcher(URLFetcher):  # type: ignore[misc]
        def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
            if url.startswith("data:"):
                return super().fetch(url, headers)
            if media_url and url.startswith(media_url):
                name = url[len(media_url):]
                if _MEDIA_NAME.match(name):
                    if media is not None and name in media:
                        return URLFetcherResponse(url, media[name], {"Content-Type": "image/jpeg"})
                    if root is not None and (root / "media" / name).is_file():
                        return URLFetcherResponse(url, (root / "media" / name).read_bytes(),
                                                  {"Content-Type": "image/jpeg"})
            if url.startswith(BASE_URL):
                name = unquote(url[len(BASE_URL):].split("#", 1)[0].split("?", 1)[0])
                if name in assets:
                    mime = "text/css" if name.endswith(".css") else "application/octet-stream"
                    return URLFetcherResponse(url, assets[name].encode("utf-8"),
                                              {"Content-Type": f"{mime}; charset=utf-8"})
                if root is not None:
                    path = (root / name).resolve()
                    if path.is_relative_to(root) and path.is_file():
                        return URLFetcherResponse(url, path.read_bytes())
            raise RefusedFetch(f"refused to fetch {urlsplit(url).scheme or 'relative'} URL for the PDF: {url[:80]}")

    return IssueOnlyFetcher(allowed_protocols=("data", "file"), allow_redirects=False)


def render_pdf(web_html: str, *, title: str, assets: Mapping[str, str], folder: Path | None = None,
               media: Mapping[str, bytes] | None = None, media_url: str | None = None) -> bytes:
    """The web page as an A4 PDF through its @media print rules; raises PdfUnavailable without Pango."""
    reason = pdf_unavailable()
    if reason is not None:
        raise PdfUnavailable(reason)
    import weasyprint

    html = weasyprint.HTML(string=web_html, base_url=BASE_URL, url_fetcher=make_fetcher(assets, folder, media=media, media_url=media_url),
                           media_type="print")
    document = html.render()
    # Only the title: WeasyPrint would add its name as producer and the page's meta tags as the rest.
    document.metadata.title = title
    document.metadata.authors = []
    document.metadata.description = None
    document.metadata.keywords = []
    document.metadata.generator = None
    document.metadata.created = None
    document.metadata.modified = None
    document.metadata.attachments = []
    return document.write_pdf(finisher=_title_only, pdf_identifier=None, custom_metadata=False)


def _title_only(document: Any, pdf: Any) -> None:
    """Drop everything from the PDF's Info dictionary but the Title (WeasyPrint adds its Producer)."""
    for key in list(pdf.info):
        if key != "Title":
            del pdf.info[key]
