"""The desk fixtures (an in-process client on the real app, logged-in editors and admins) for tests/web."""

from tests.editorial.conftest import admin_client, admin_id, client, editor_client, editor_id  # noqa: F401
