"""Build and release commands of the project (not shipped with the function app)."""
