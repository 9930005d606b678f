"""Email address checks: one normal form, so that the unique constraint and the suppression list hold."""

from __future__ import annotations

import re

from newsletter.i18n import N_, Refusal

_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}$")
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")


class InvalidEmail(Refusal, ValueError):
    """The text is not an email address we can deliver to."""


class InvalidLanguage(Refusal, ValueError):
    """The text is not a language code, or not a language of this newsletter."""


def normalize_email(raw: str) -> str:
    """Lower-case, IDNA-encoded domain; refuse what a mail server would refuse (or what is a typo)."""
    text = (raw or "").strip()
    if not text:
        raise InvalidEmail(N_("an email address is required"))
    if len(text) > 254 or any(c.isspace() for c in text) or text.count("@") != 1:
        raise InvalidEmail(N_("%(value)s is not an email address"), value=repr(text[:80]))
    local, domain = text.rsplit("@", 1)
    if not _LOCAL.match(local) or local.startswith(".") or local.endswith(".") or ".." in local:
        raise InvalidEmail(N_("%(value)s is not an email address"), value=repr(text[:80]))
    try:
        domain = domain.rstrip(".").encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise InvalidEmail(N_("%(value)s has an invalid domain"), value=repr(text[:80])) from None
    labels = domain.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels) or labels[-1].isdigit():
        raise InvalidEmail(N_("%(value)s has an invalid domain"), value=repr(text[:80]))
    return f"{local.lower()}@{domain}"


def normalize_language(raw: str | None, default: str) -> str:
    value = (raw or "").strip() or default
    if not _LANGUAGE.match(value):
        raise InvalidLanguage(N_("%(value)s is not a language code such as 'en' or 'ru'"), value=repr(value[:20]))
    return value
