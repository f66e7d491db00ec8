import pytest


@pytest.fixture(scope="session")
def functions():
    """``app.get_functions()`` may be called once per app object, so every test shares this list."""
    import function_app

    return function_app.app.get_functions()
