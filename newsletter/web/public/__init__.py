"""public routes."""
