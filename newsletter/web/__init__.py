"""The web app: volunteer intake, the editors' desk, subscriber pages and the public archive."""
