"""submit routes."""
