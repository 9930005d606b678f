"""/api/docs: the interactive API documentation, served entirely from this app.

FastAPI's default docs page loads Swagger UI from a CDN and a favicon from fastapi.tiangolo.com,
which tells third parties who reads our API docs and when, and it needs an inline script that our
Content-Security-Policy refuses. This page uses the Swagger UI files shipped in the
`fastapi-offline` package, a same-origin start script, and switches off the online validator
badge (which would fetch an image from validator.swagger.io).
"""

from __future__ import annotations

import html
from functools import lru_cache
from importlib.resources import files

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

router = APIRouter(include_in_schema=False)
DOCS_PATH = "/api/docs"
ASSETS = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon.png": "image/png",
}
START_SCRIPT = """window.ui = SwaggerUIBundle({
  url: "/api/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout"
});
"""
CACHE = "public, max-age=86400"


@lru_cache(maxsize=len(ASSETS))
def _asset(name: str) -> bytes:
    return files("fastapi_offline").joinpath("static", name).read_bytes()


@router.get(DOCS_PATH, response_class=HTMLResponse)
def docs_page(request: Request) -> HTMLResponse:
    title = html.escape(request.app.title)
    return HTMLResponse(
        f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta name="referrer" content="no-referrer">
<link rel="stylesheet" href="{DOCS_PATH}/swagger-ui.css">
<link rel="icon" type="image/png" href="{DOCS_PATH}/favicon.png">
</head><body><div id="swagger-ui"></div>
<script src="{DOCS_PATH}/swagger-ui-bundle.js"></script>
<script src="{DOCS_PATH}/start.js"></script>
</body></html>
""")


@router.get(DOCS_PATH + "/start.js")
def docs_start() -> Response:
    return Response(START_SCRIPT, media_type="text/javascript; charset=utf-8", headers={"cache-control": CACHE})


@router.get(DOCS_PATH + "/{name}")
def docs_asset(name: str) -> Response:
    if name not in ASSETS:
        raise HTTPException(status_code=404, detail="Not found.")
    return Response(_asset(name), media_type=ASSETS[name], headers={"cache-control": CACHE})
