"""Volunteer intake: validation, attachments, receipts, API tokens and the per-request protections."""
