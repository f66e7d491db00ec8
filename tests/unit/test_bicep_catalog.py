"""Queues and Event Grid subscriptions in bicep equal the event catalog in code (core/events/catalog.py, exported to
bicep/catalog.json) plus the app's own queues from settings: nothing missing, nothing extra."""

from __future__ import annotations

import importlib
import json

import pytest

from core.config import Settings
from tests.unit.test_bicep_parsing import BICEP, resolve, resources, template

CATALOG = BICEP / "catalog.json"
pytestmark = pytest.mark.skipif(not CATALOG.exists(),
                                reason="bicep/catalog.json not exported yet (python -m core.events.catalog export)")
APP_QUEUE_SETTINGS = [name for name in Settings.model_fields if name.endswith("_QUEUE_NAME")]
EVENT_GRID_MAX_EVENT_TYPES = 25  # Event Grid's limit of includedEventTypes per subscription


def catalog() -> dict:
    return json.loads(CATALOG.read_text(encoding="utf-8"))


def declared_queues() -> list[str]:
    loop = resources("modules/storage.bicep")["queues"]["loop"]
    return resolve("modules/storage.bicep", loop["detail"]["array_name"])


def test_catalog_json_is_the_code_catalog_export():
    module = importlib.import_module("core.events.catalog")
    assert json.loads(module.export_text()) == catalog(), "re-run python -m core.events.catalog export"


def test_queues_are_the_catalog_queues_plus_the_app_queues_from_settings():
    expected = set(catalog()["queues"]) | {str(Settings.model_fields[s].default) for s in APP_QUEUE_SETTINGS}
    queues = declared_queues()
    assert len(queues) == len(set(queues))
    assert set(queues) == expected
    assert {"analytics-events", "escalations", "knowledge-events"} <= set(queues)


def test_one_subscription_per_catalog_entry_delivering_to_its_queue_with_dead_lettering():
    found = resources("modules/eventgrid.bicep")
    loop = found["subscriptions"]["loop"]["detail"]
    assert resolve("modules/eventgrid.bicep", loop["array_name"]) == catalog()["subscriptions"]
    item = loop["item_name"]
    config = found["subscriptions"]["config"]
    assert config["name"] == {"operator": {"type": "property_accessor", "operands": {"operand_1": item,
                                                                                       "operand_2": "name"}}}
    properties = config["properties"]
    assert properties["filter"]["includedEventTypes"]["operator"]["operands"] == {"operand_1": item,
                                                                                   "operand_2": "eventTypes"}
    destination = properties["deliveryWithResourceIdentity"]["destination"]
    assert destination["endpointType"] == "StorageQueue"
    assert destination["properties"]["queueName"]["operator"]["operands"] == {"operand_1": item, "operand_2": "queue"}
    dead_letter = properties["deadLetterWithResourceIdentity"]["deadLetterDestination"]
    assert dead_letter["endpointType"] == "StorageBlob"
    assert resolve("modules/eventgrid.bicep", dead_letter["properties"]["blobContainerName"]) == "dead-letters"
    assert "dead-letters" in resolve("modules/storage.bicep", "containerNames")
    # Identity delivery only: no SAS or keys on the way to the queue.
    assert properties["deliveryWithResourceIdentity"]["identity"] == {"type": "SystemAssigned"}


def test_every_subscription_targets_a_declared_queue_and_fits_event_grid_limits():
    queues = set(declared_queues())
    for subscription in catalog()["subscriptions"]:
        assert subscription["queue"] in queues, subscription["name"]
        assert 1 <= len(subscription["eventTypes"]) <= EVENT_GRID_MAX_EVENT_TYPES, subscription["name"]


def test_knowledge_blob_events_go_to_the_knowledge_events_queue():
    config = resources("modules/eventgrid.bicep")["knowledgeBlobEvents"]["config"]["properties"]
    queue = resolve("modules/eventgrid.bicep", config["deliveryWithResourceIdentity"]["destination"]["properties"]
                    ["queueName"])
    assert queue == Settings.model_fields["KNOWLEDGE_EVENTS_QUEUE_NAME"].default
    assert set(config["filter"]["includedEventTypes"]) == {"Microsoft.Storage.BlobCreated",
                                                            "Microsoft.Storage.BlobDeleted"}


def test_containers_cover_knowledge_archives_dead_letters_and_deployments():
    names = set(resolve("modules/storage.bicep", "containerNames"))
    assert names == {Settings.model_fields["KNOWLEDGE_BLOB_CONTAINER"].default,
                     Settings.model_fields["BLOB_CONTAINER"].default, "dead-letters", "deploymentpackage"}
    assert "catalog" in template("modules/storage.bicep")["variables"]
