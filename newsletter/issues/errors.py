"""Errors of the issues domain. Messages are written for editors and operators, never include secrets."""

from __future__ import annotations

from newsletter.issues.consent import ConsentViolation
from newsletter.issues.periods import PeriodError
from newsletter.issues.sections import NoSections


class IssueError(Exception):
    """An issue operation that is not allowed now; the message says why and what to do."""


class IssueNotFound(IssueError, LookupError):
    """No issue matches the given period, number or "latest"."""


class IssueLocked(IssueError):
    """The issue was sent or published (its snapshot is frozen), or is signed off and must be reopened first."""


class ApprovalError(IssueError):
    """Sign-off rules: an approval is missing, repeated by the same editor, or the issue is not ready."""


__all__ = ["ApprovalError", "ConsentViolation", "IssueError", "IssueLocked", "IssueNotFound", "NoSections", "PeriodError"]
