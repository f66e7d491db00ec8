"""HTTP API tests: the OpenAPI description and the app's conformance to it."""
