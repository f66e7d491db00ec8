"""Order actions over HTTP on the imported orders of a shop onboarded from its own files (the stories are in
order_actions_story.py; test_vendor_standins_over_http.py runs them with the Shopify adapter against its stand-in)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import REPO
from tests.integration import order_actions_story as story
from tests.integration.hosting import HostProcess, host_env

pytestmark = pytest.mark.integration

KEY = "order-actions-function-key"
TENANT = "brume-actions"


@pytest.fixture(scope="module")
def desk(storage_connection, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("order-actions-host")
    env = host_env(storage_connection, data_dir, LOCAL_FUNCTION_KEY=KEY)
    folder = story.shop_folder(data_dir / "shop", TENANT)
    subprocess.run([sys.executable, "-m", "core.tenants", "import", TENANT, str(folder)], cwd=REPO, env=env,
                   check=True, capture_output=True)
    host = HostProcess(env, REPO, "function_app", data_dir / "host.log")
    host.start()
    yield story.Desk(host.base, TENANT, KEY)
    host.stop()


@pytest.mark.parametrize("run", story.STORIES, ids=lambda s: s.__name__)
def test_order_actions_on_the_imported_orders(desk, run):
    run(desk)
