from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from newsletter.config import load_settings
from newsletter.runtime import Runtime


@pytest.fixture
def make_runtime(settings_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Runtime]]:
    """A Runtime whose settings get extra NEWSLETTER_* values (also set in the environment for subprocesses)."""
    made: list[Runtime] = []

    def build(**env: Any) -> Runtime:
        for key, value in env.items():
            monkeypatch.setenv(f"NEWSLETTER_{key.upper()}", str(value))
        rt = Runtime(load_settings())
        made.append(rt)
        return rt

    yield build
    for rt in made:
        rt.close()
