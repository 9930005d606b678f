"""The editors' desk: one router that gathers the desk's pages (login, dashboard, triage, persons, admin ...)."""

from fastapi import APIRouter

from newsletter.web.editor import auth, dashboard

router = APIRouter()
for _module in (auth, dashboard):
    router.include_router(_module.router)
