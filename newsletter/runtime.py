"""What a process needs at hand: settings, the engine and a session factory, built once."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from newsletter.clock import Clock, SystemClock
from newsletter.config import Settings, load_settings
from newsletter.db import make_engine, make_session_factory, session_scope, upgrade


@dataclass
class Runtime:
    """Shared by the CLI, the web app and the scheduler; holds no business logic."""

    settings: Settings = field(default_factory=load_settings)
    # Desk sessions and login throttling ask this clock, so tests can move time.
    clock: Clock = field(default_factory=SystemClock)

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.settings)

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        return make_session_factory(self.engine)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with session_scope(self.sessions) as session:
            yield session

    def migrate(self) -> None:
        upgrade(self.settings)

    def close(self) -> None:
        if "engine" in self.__dict__:
            self.engine.dispose()
