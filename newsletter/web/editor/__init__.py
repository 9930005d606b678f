"""editor routes."""
