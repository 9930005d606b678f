"""Workflows that cross domains (draft, approve, publish, send, preview, the scheduled jobs); web, cli and the scheduler call them."""
