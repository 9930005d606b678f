"""Subscribers, consent, the outbox and the SMTP sender. Entry points live in service.py."""
