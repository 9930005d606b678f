"""What a volunteer report is allowed to contain. The form and the JSON API validate with the same model."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, timedelta
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

# The kinds a volunteer can pick; "legislation" and "international" are editors' categories.
FORM_KINDS = (
    "search", "summons", "detention", "arrest", "charge", "trial", "verdict", "fine",
    "psychiatric_examination", "psychiatric_placement", "assault", "dismissal", "blocking",
    "pressure_on_relatives", "solidarity_action", "other",
)
ROLES = (
    "activist", "journalist", "blogger", "lawyer", "trade_unionist", "human_rights_defender",
    "relative", "politician", "religious_believer", "citizen", "other",
)
# Publication consent, as the volunteer sees it -> incident publication level.
CONSENT_TO_PUBLICATION = {"names": "public", "no_names": "anonymised", "count_only": "internal"}
MAX_PERSONS = 20
MAX_LINKS = 20
MAX_TEXT = 20_000
MIN_TEXT = 10

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

Kind = Literal[
    "search", "summons", "detention", "arrest", "charge", "trial", "verdict", "fine",
    "psychiatric_examination", "psychiatric_placement", "assault", "dismissal", "blocking",
    "pressure_on_relatives", "solidarity_action", "other",
]
Role = Literal[
    "activist", "journalist", "blogger", "lawyer", "trade_unionist", "human_rights_defender",
    "relative", "politician", "religious_believer", "citizen", "other",
]
Consent = Literal["names", "no_names", "count_only"]
Precision = Literal["day", "week", "month"]


def clean_text(value: str) -> str:
    """Drop control characters and unpaired surrogates that no database stores (PostgreSQL refuses NUL)."""
    value = value.encode("utf-8", "replace").decode("utf-8")
    value = unicodedata.normalize("NFC", value).replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", value).strip()


def _one_line(value: str) -> str:
    return " ".join(clean_text(value).split())


def _optional_line(value: str | None) -> str | None:
    if value is None:
        return None
    return _one_line(value) or None


Line = Annotated[str, AfterValidator(_one_line)]
OptLine = Annotated[str | None, AfterValidator(_optional_line)]


class PersonIn(BaseModel):
    """Someone the report is about. `is_alias` says the name given is not their real name."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[Line, Field(min_length=1, max_length=300, description="Full name, or an alias")]
    role: Role | None = Field(None, description="What the person does (activist, journalist, ...)")
    is_alias: bool = Field(False, description="True when `name` is an alias, not the real name")

    @field_validator("name")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value:
            raise ValueError("empty name")
        return value


class SubmissionIn(BaseModel):
    """A volunteer's report of one incident."""

    model_config = ConfigDict(extra="forbid", str_max_length=MAX_TEXT)

    what: Annotated[str, Field(min_length=MIN_TEXT, max_length=MAX_TEXT,
                               description="What happened, in the volunteer's words (plain text)")]
    title: OptLine = Field(None, max_length=300, description="Optional short headline")
    kind: Kind = Field(description="Kind of incident")
    occurred_on: date | None = Field(None, description="When it happened (any day of the week or month "
                                                        "when the precision is week or month)")
    date_precision: Precision = Field("day", description="How precise `occurred_on` is")
    city: OptLine = Field(None, max_length=200)
    region: OptLine = Field(None, max_length=200)
    country: OptLine = Field(None, max_length=100)
    persons: list[PersonIn] = Field(default_factory=list, max_length=MAX_PERSONS)
    links: list[Annotated[str, Field(max_length=2000)]] = Field(default_factory=list, max_length=MAX_LINKS,
                                                               description="http(s) links to sources")
    contact: OptLine = Field(None, max_length=500, description="Optional way for editors to reach the volunteer")
    consent: Consent = Field(description="names: publish with names; no_names: publish without names; "
                                         "count_only: do not publish, only count")
    language: OptLine = Field(None, max_length=16, description="Language of the report, e.g. en or ru")

    @field_validator("what")
    @classmethod
    def _clean_what(cls, value: str) -> str:
        value = clean_text(value)
        if len(value) < MIN_TEXT:
            raise ValueError(f"too short: write at least {MIN_TEXT} characters")
        return value

    @field_validator("occurred_on")
    @classmethod
    def _plausible_date(cls, value: date | None) -> date | None:
        if value is None:
            return None
        if value > date.today() + timedelta(days=1):
            raise ValueError("in the future")
        if value < date(1950, 1, 1):
            raise ValueError("too long ago")
        return value

    @field_validator("links")
    @classmethod
    def _http_links(cls, values: list[str]) -> list[str]:
        cleaned: list[str] = []
        for raw in values:
            link = _one_line(raw)
            if not link:
                continue
            parts = urlsplit(link)
            if parts.scheme.lower() not in ("http", "https") or not parts.hostname or " " in link:
                raise ValueError(f"not a web address: {link[:100]}")
            if link not in cleaned:
                cleaned.append(link)
        return cleaned

    @field_validator("language")
    @classmethod
    def _language_code(cls, value: str | None) -> str | None:
        if value and not re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})?", value):
            raise ValueError("not a language code such as en or ru")
        return value.lower() if value else None

    @property
    def publication(self) -> str:
        return CONSENT_TO_PUBLICATION[self.consent]
