"""Errors of the issues domain. Messages are written for editors and operators, never include secrets.

A message is given as a catalog msgid with %(name)s placeholders and its values (`raise IssueLocked(
N_("issue %(number)d ..."), number=3)`): str(exc) is the English sentence (logs, the command line), and
`desk_message()` is the same sentence in the language bound for the reader (a Russian desk account).
A message made with an f-string still works; it is shown in English everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from newsletter import i18n
from newsletter.i18n import N_
from newsletter.issues.consent import ConsentViolation
from newsletter.issues.periods import PeriodError
from newsletter.issues.sections import NoSections


class IssueError(Exception):
    """An issue operation that is not allowed now; the message says why and what to do."""

    def __init__(self, message: str = "", /, **params: Any) -> None:
        self.msgid = message
        self.params = params
        super().__init__(message % params if params else message)

    def desk_message(self) -> str:
        """The message in the bound language (the catalog's words, the same values)."""
        return _translated(self.msgid, self.params)


def _translated(msgid: str, params: dict[str, Any]) -> str:
    shown = {k: _value(v) for k, v in params.items()}
    return i18n._(msgid, **shown) if shown else i18n._(msgid)


def _value(value: Any) -> Any:
    if isinstance(value, Phrase):
        return _translated(value.msgid, value.params)
    if isinstance(value, Words):
        return i18n._(value)
    if isinstance(value, Phrases):
        return value.sep.join(str(_value(v)) for v in value)
    return value


class Words(str):
    """A parameter that is itself a catalog message (an issue's state, "draft"): translated with the sentence."""

    __slots__ = ()


class Phrase(str):
    """A parameter that is a sentence of its own with values (one reason among several)."""

    msgid: str
    params: dict[str, Any]

    def __new__(cls, msgid: str, /, **params: Any) -> "Phrase":
        made = super().__new__(cls, msgid % params if params else msgid)
        made.msgid, made.params = msgid, params
        return made


class Phrases(tuple[Phrase, ...]):
    """Several phrases joined by `sep` (in English as in the desk's language): reasons, named items."""

    sep: str

    def __new__(cls, phrases: Sequence[Phrase], sep: str = "; ") -> "Phrases":
        made = super().__new__(cls, phrases)
        made.sep = sep
        return made

    def __str__(self) -> str:
        return self.sep.join(self)


# The states a message may name (Words), in the catalog so a desk in another language names them in its own.
STATE_WORDS = (N_("draft"), N_("approved"), N_("scheduled"), N_("sending"), N_("sent"), N_("new"), N_("accepted"),
               N_("rejected"), N_("duplicate"), N_("needs_info"), N_("published"))


class IssueNotFound(IssueError, LookupError):
    """No issue matches the given period, number or "latest"."""


class IssueLocked(IssueError):
    """The issue was sent or published (its snapshot is frozen), or is signed off and must be reopened first."""


class ApprovalError(IssueError):
    """Sign-off rules: an approval is missing, repeated by the same editor, or the issue is not ready."""


__all__ = ["ApprovalError", "ConsentViolation", "IssueError", "IssueLocked", "IssueNotFound", "NoSections", "PeriodError"]
