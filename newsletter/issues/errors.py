"""Errors of the issues domain. Messages are written for editors and operators, never include secrets.

A message is given as a catalog msgid with %(name)s placeholders and its values (`raise IssueLocked(
N_("issue %(number)d ..."), number=3)`): str(exc) is the English sentence (logs, the command line), and
`desk_message()` is the same sentence in the language bound for the reader (a Russian desk account); the
mechanism (Refusal, Words, Phrase, Phrases) is newsletter.i18n's, shared by every domain's refusals.
A message made with an f-string still works; it is shown in English everywhere.
"""

from __future__ import annotations

from newsletter.i18n import N_, Phrase, Phrases, Refusal, Words
from newsletter.issues.consent import ConsentViolation
from newsletter.issues.periods import PeriodError
from newsletter.issues.sections import NoSections


class IssueError(Refusal):
    """An issue operation that is not allowed now; the message says why and what to do."""


# The states a message may name (Words), in the catalog so a desk in another language names them in its own.
STATE_WORDS = (N_("draft"), N_("approved"), N_("scheduled"), N_("sending"), N_("sent"), N_("new"), N_("accepted"),
               N_("rejected"), N_("duplicate"), N_("needs_info"), N_("published"))


class IssueNotFound(IssueError, LookupError):
    """No issue matches the given period, number or "latest"."""


class IssueLocked(IssueError):
    """The issue was sent or published (its snapshot is frozen), or is signed off and must be reopened first."""


class ApprovalError(IssueError):
    """Sign-off rules: an approval is missing, repeated by the same editor, or the issue is not ready."""


__all__ = ["ApprovalError", "ConsentViolation", "IssueError", "IssueLocked", "IssueNotFound", "NoSections", "Phrase",
           "Phrases", "PeriodError", "Words"]
