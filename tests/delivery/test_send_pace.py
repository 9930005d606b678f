"""The send summary gives a rate only over a meaningful run (issue #15 item 7: "142 msg/s over 0.0s")."""

from __future__ import annotations

from newsletter.delivery.service import SendReport


def test_a_short_run_reports_its_time_without_a_rate() -> None:
    assert SendReport("2026-W47", sent=3, elapsed=0.021).pace == "in 0.0s"
    assert SendReport("2026-W47", sent=500, elapsed=0.9).pace == "in 0.9s"
    assert SendReport("2026-W47", sent=5, elapsed=30.0).pace == "in 30.0s"


def test_a_long_run_reports_its_rate() -> None:
    assert SendReport("2026-W47", sent=1000, elapsed=4.0).pace == "250 msg/s over 4.0s"
