"""Queue-triggered functions given a pathological message: each rejects it with a ValueError (the host retries it up
to maxDequeueCount, then moves it to the -poison queue), logs the message id and the reason, never the content."""

from __future__ import annotations

import asyncio
import inspect
import json
import logging

import azure.functions as func
import pytest

MARKER = "leak.me@example.com"
MESSAGES = {
    "deep array": f'["{MARKER}", ' + "[" * 5000 + "]" * 5000 + "]",
    "deep object": f'{{"email": "{MARKER}", "x": ' + '{"a":' * 1500 + "1" + "}" * 1500 + "}",
    "long integer": f'{{"email": "{MARKER}", "n": ' + "7" * 5000 + "}",
    "NaN": f'{{"email": "{MARKER}", "n": NaN}}',
}
BINDING = json.dumps({
    "taskHubName": "TestHub",
    "creationUrls": {"createNewInstancePostUri": "http://127.0.0.1:1/x", "createAndWaitOnNewInstancePostUri": "x"},
    "managementUrls": {"id": "INSTANCEID", "statusQueryGetUri": "http://127.0.0.1:1/s"},
    "rpcBaseUrl": "http://127.0.0.1:1/runtime/webhooks/durabletask/",
})
CONSUMERS = ["analytics_events", "escalation_events", "knowledge_blob_events", "response_agent_events",
             "escalation_agent_events", "knowledge_agent_events", "analytics_agent_events"]


@pytest.fixture(scope="module")
def handlers(functions):
    return {f.get_function_name(): f.get_user_function() for f in functions}


@pytest.fixture
def events_runtime(services):
    return services


def run(handler, msg):
    kwargs = {"msg": msg}
    if "client" in inspect.signature(handler).parameters:
        kwargs["client"] = BINDING  # never called: the message is rejected before any Durable call
    result = handler(**kwargs)
    return asyncio.run(result) if inspect.isawaitable(result) else result


@pytest.mark.parametrize("consumer", CONSUMERS)
@pytest.mark.parametrize("case", list(MESSAGES))
def test_a_pathological_message_is_rejected_and_logged_by_id_only(events_runtime, handlers, caplog, consumer, case):
    msg = func.QueueMessage(id=f"msg-{case.replace(' ', '-')}", body=MESSAGES[case].encode())
    with caplog.at_level(logging.INFO), pytest.raises(ValueError) as rejected:
        run(handlers[consumer], msg)
    assert not isinstance(rejected.value, RecursionError)
    assert msg.id in caplog.text and MARKER not in caplog.text
    assert MARKER not in str(rejected.value)
