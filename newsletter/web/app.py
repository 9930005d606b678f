"""FastAPI app factory. Routers live per audience under submit/, editor/ and public/."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from newsletter.runtime import Runtime
from newsletter.web import docs, errors
from newsletter.web.language import LanguageMiddleware
from newsletter.web.security import SecurityMiddleware
from newsletter.templating import make_environment

STATIC_DIR = Path(__file__).parent / "static"


def create_app(runtime: Runtime | None = None) -> FastAPI:
    runtime = runtime or Runtime()
    settings = runtime.settings
    app = FastAPI(
        title=f"{settings.org_name} API",
        description="Volunteer and partner intake for the monitoring newsletter.",
        docs_url=None,  # served by newsletter.web.docs from local files, never from a CDN
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.runtime = runtime
    app.state.templates = make_environment(settings)
    app.add_middleware(LanguageMiddleware)
    app.add_middleware(SecurityMiddleware, secure_cookies=settings.base_url.startswith("https://"))
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    errors.install(app)

    from newsletter.web.editor import issues as editor_issues
    from newsletter.web.editor import routes as editor_routes
    from newsletter.web.editor import subscribers as editor_subscribers
    from newsletter.web.public import archive, subscribe
    from newsletter.web.submit import api as submit_api
    from newsletter.web.submit import routes as submit_routes

    for module in (submit_routes, submit_api, editor_routes, editor_issues, editor_subscribers, subscribe, archive, docs):
        app.include_router(module.router)

    @app.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        return RedirectResponse("/issues/", status_code=302)

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> FileResponse:
        """Browsers ask for /favicon.ico on every page without an icon link (the archived email is
        one); answering it keeps their consoles free of 404s and needs no third-party icon."""
        return FileResponse(STATIC_DIR / "favicon.ico", media_type="image/x-icon",
                            headers={"Cache-Control": "public, max-age=604800"})

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> JSONResponse:
        """For a load balancer: 503 when this node cannot reach the database or cannot WRITE to it (a
        full disk or a read-only file still answers reads, but would refuse every volunteer's report).
        The write probe commits one row of health_probe. The scheduler's state is informational (it
        runs elsewhere; alert on `newsletter status --check` instead)."""
        from newsletter.db import probe_read, probe_write, utcnow
        from newsletter.lease import current

        try:
            probe_read(runtime.engine)
        except Exception as exc:  # noqa: BLE001 - a health check reports any failure
            return JSONResponse({"status": "error", "database": type(exc).__name__}, status_code=503)
        try:
            probe_write(runtime.engine)
        except Exception as exc:  # noqa: BLE001
            return JSONResponse({"status": "error", "database": "read-only", "error": type(exc).__name__},
                                status_code=503)
        try:
            lease = current(runtime.engine)
        except Exception as exc:  # noqa: BLE001
            return JSONResponse({"status": "error", "database": type(exc).__name__}, status_code=503)
        scheduler = "none" if lease is None else ("active" if lease.active(utcnow()) else "stale")
        return JSONResponse({"status": "ok", "scheduler": scheduler})

    return app
