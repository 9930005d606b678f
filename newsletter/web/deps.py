"""Request-scoped dependencies: the runtime and one database transaction per request."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import Request
from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.runtime import Runtime


def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime


def get_settings(request: Request) -> Settings:
    return request.app.state.runtime.settings


def get_session(request: Request) -> Iterator[Session]:
    """One transaction per request: committed when the handler returns, rolled back if it raises.

    Declare it as Depends(get_session, scope="function") so the commit happens before the
    response is sent: a redirect's next page, or a confirmation email, then sees the change.
    """
    session = request.app.state.runtime.sessions()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
