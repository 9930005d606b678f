"""Links as we publish them: without campaign and click-tracking parameters, otherwise untouched."""

from __future__ import annotations

import pytest

from newsletter.urls import canonical_url, without_tracking


@pytest.mark.parametrize(("given", "published"), [
    ("https://ex.org/a?utm_source=rss&utm_medium=feed", "https://ex.org/a"),
    ("https://ex.org/a?id=7&UTM_Campaign=x&page=2#part", "https://ex.org/a?id=7&page=2#part"),
    ("https://ex.org/a?fbclid=IwAR0&gclid=1&msclkid=2&yclid=3&mc_eid=4&_hsenc=5&igshid=6", "https://ex.org/a"),
    ("https://ex.org/a?q=%D0%B4%D0%B5%D0%BB%D0%BE&ref_src=twsrc", "https://ex.org/a?q=%D0%B4%D0%B5%D0%BB%D0%BE"),
    ("https://ex.org/a?utm%5Fsource=x&b=1", "https://ex.org/a?b=1"),  # an encoded name is still that name
    ("https://ex.org/search?utmost=1&source=x", "https://ex.org/search?utmost=1&source=x"),  # look-alikes stay
    ("https://ex.org/plain", "https://ex.org/plain"),
])
def test_tracking_parameters_are_removed_and_nothing_else_changes(given: str, published: str) -> None:
    assert without_tracking(given) == published


def test_the_canonical_form_used_for_deduplication_ignores_them_too() -> None:
    assert canonical_url("https://Ex.org/a/?utm_source=x&b=1") == canonical_url("https://ex.org/a?b=1")
