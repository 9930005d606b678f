"""The wording of the transactional mails: the organisation's name is never followed by a second "newsletter"."""

from __future__ import annotations

import re

import pytest

from newsletter.config import Settings
from newsletter.delivery.transactional import render_mail


@pytest.mark.parametrize("name, extra", [
    ("confirm", {"confirm_url": "http://127.0.0.1:8000/confirm/abc", "valid_days": 7}),
    ("unsubscribe", {"unsubscribe_url": "http://127.0.0.1:8000/unsubscribe/abc"}),
])
def test_default_org_name_reads_naturally(settings: Settings, name: str, extra: dict) -> None:
    settings = settings.model_copy(update={"org_name": "Monitoring Newsletter"})
    mail = render_mail(settings, name, "anna@example.org", {"language": "en", **extra})
    for part in (mail.text, re.sub(r"<[^>]+>", "", mail.html)):
        flat = " ".join(part.split())
        assert "Monitoring Newsletter" in flat
        assert "Newsletter newsletter" not in flat
    if name == "confirm":
        assert "asked to subscribe this address to Monitoring Newsletter." in " ".join(mail.text.split())
