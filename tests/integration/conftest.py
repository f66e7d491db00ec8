"""Integration fixtures: Azurite and the real function app on the local host."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from core.devhost import azurite
from tests.integration.hosting import REPO, HostProcess, free_port, host_env


@pytest.fixture(scope="session")
def storage_connection(tmp_path_factory):
    """The Azurite that `make test` started, or one of our own when pytest runs alone."""
    existing = os.environ.get("TEST_AZURITE_CONNECTION_STRING")
    if existing:
        yield existing
        return
    location = tmp_path_factory.mktemp("azurite")
    ports = (free_port(), free_port(), free_port())
    azurite.start(location, *ports)
    yield azurite.connection_string(*ports)
    azurite.stop(location)


@pytest.fixture(scope="session")
def app_host(storage_connection, tmp_path_factory):
    """The real function_app.py on the local host, with the demo shop and a second shop imported."""
    data_dir = tmp_path_factory.mktemp("host-data")
    env = host_env(storage_connection, data_dir)
    for tenant, folder in (("demo", REPO / "knowledge/tenants/demo"),
                           ("northwind-tea", REPO / "tests/fixtures/tenants/northwind-tea")):
        subprocess.run([sys.executable, "-m", "core.tenants", "import", tenant, str(folder)], cwd=REPO, env=env,
                       check=True, capture_output=True)
    host = HostProcess(env, REPO, "function_app", data_dir / "host.log")
    host.startup_seconds = host.start()
    yield host
    host.stop()
