"""Workflows that cross domains (intake, draft, approve, publish, send, correct, the scheduled jobs)."""
