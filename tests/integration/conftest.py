"""Integration fixtures (Azurite, the running local host) live in tests/conftest.py, shared with tests/e2e."""
