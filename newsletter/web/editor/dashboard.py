"""The desk's front page."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup
from sqlalchemy.orm import Session

from newsletter.editorial import dashboard
from newsletter.web.deps import get_session
from newsletter.web.editor.auth import CurrentUser
from newsletter.web.templating import render

router = APIRouter()


@router.get("/editor/", response_class=HTMLResponse, include_in_schema=False)
def home(request: Request, user: CurrentUser, session: Session = Depends(get_session, scope="function")) -> HTMLResponse:
    chart = dashboard.weekly_by_section(session)
    return render(request, "editor/dashboard.html.j2", {
        "waiting_total": dashboard.waiting_total(session),
        "by_source": dashboard.waiting_by_source(session),
        "by_day": dashboard.waiting_by_day(session),
        "chart": chart,
        "chart_svg": Markup(dashboard.chart_svg(chart, legend=False)),  # built from escaped values only
        "palette": dashboard.PALETTE,  # the page's legend, an HTML list that wraps long section names
        "broken": dashboard.sources_in_error(session),
    })
