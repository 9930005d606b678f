"""The editors' desk: one router that gathers the desk's pages (login, dashboard, triage, persons, admin ...)."""

from fastapi import APIRouter

from newsletter.web.editor import account, admin, attachments, auth, dashboard, duplicates, persons, translations, triage

router = APIRouter()
for _module in (auth, account, dashboard, triage, attachments, duplicates, persons, admin, translations):
    router.include_router(_module.router)
