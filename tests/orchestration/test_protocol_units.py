"""Pure pieces: action flattening, nondeterminism messages, failure parsing, the virtual clock, the store."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core.devhost.durable import DurableStore, VirtualClock
from core.devhost.durable.replay import (
    OUT_OF_PROC_LABEL,
    build_context,
    check_determinism,
    flatten_actions,
    parse_failure,
    parse_state,
)


def test_flatten_is_depth_first_through_compound_actions() -> None:
    actions = [[
        {"actionType": 0, "functionName": "a"},
        {"actionType": 11, "compoundActions": [
            {"actionType": 12, "compoundActions": [{"actionType": 1, "functionName": "b"}]},
            {"actionType": 6, "externalEventName": "e"},
            {"actionType": 5, "fireAt": "2024-01-01T00:00:00.000000Z"},
        ]},
        {"actionType": 2, "functionName": "c"},
    ]]
    flat = flatten_actions(actions)
    assert [(a["actionType"], a.get("functionName") or a.get("externalEventName")) for a in flat] == [
        (0, "a"), (1, "b"), (6, "e"), (5, None), (2, "c")]


def test_check_determinism_reports_mismatch_and_missing_actions() -> None:
    log = [[0, "a", 0], [6, "e", None], [5, None, 1]]
    same = [{"actionType": 0, "functionName": "a"}, {"actionType": 6, "externalEventName": "e"},
            {"actionType": 5}, {"actionType": 0, "functionName": "new"}]
    assert check_determinism(log, same) is None
    renamed = [{"actionType": 0, "functionName": "b"}] + same[1:]
    message = check_determinism(log, renamed)
    assert message and message.startswith("Non-deterministic workflow detected")
    assert "activity task named 'a' with sequence ID 0" in message and "instead scheduled" in message
    missing = check_determinism(log, same[:2])
    assert missing and "durable timer with sequence ID 1" in missing and "hasn't (yet?) scheduled" in missing
    other_event = check_determinism(log, [same[0], {"actionType": 6, "externalEventName": "x"}, same[2]])
    assert other_event and "external event 'e'" in other_event


def test_parse_failure_reads_the_out_of_proc_state() -> None:
    state = {"isDone": False, "actions": [[{"actionType": 0, "functionName": "a"}]], "error": "boom",
             "customStatus": {"s": 1}}
    result = parse_failure(Exception(f"boom{OUT_OF_PROC_LABEL}{json.dumps(state)}"))
    assert result.error == "boom" and result.custom_status == {"s": 1} and len(result.actions) == 1
    plain = parse_failure(TypeError("not a generator"))
    assert plain.error == "not a generator" and plain.actions == []
    ok = parse_state('{"isDone": true, "schemaVersion": 2, "actions": [[]], "output": [1]}')
    assert ok.done and ok.output == [1] and ok.error is None


def test_build_context_marks_played_events() -> None:
    past = [{"EventType": 12, "EventId": -1, "Timestamp": "t"}]
    new = [{"EventType": 5, "EventId": -1, "Timestamp": "t"}]
    context = json.loads(build_context(instance_id="i", parent_instance_id="p", input_json='"x"',
                                       past_events=past, new_events=new))
    assert [e["IsPlayed"] for e in context["history"]] == [True, False]
    assert context["isReplaying"] is True and context["parentInstanceId"] == "p" and context["input"] == '"x"'


def test_build_context_from_the_stored_event_texts_is_the_same_payload() -> None:
    past = [{"EventType": 12, "EventId": -1, "Timestamp": "t"},
            {"EventType": 4, "EventId": 0, "Name": "act", "Input": json.dumps({"q": "ça \"va\"", "n": [1, 2]})},
            {}]
    new = [{"EventType": 5, "EventId": -1, "TaskScheduledId": 0, "Result": '{"ok": true}'}]
    plain = {"history": [{**e, "IsPlayed": True} for e in past] + [{**e, "IsPlayed": False} for e in new],
             "instanceId": "i", "isReplaying": True, "parentInstanceId": None, "input": '"x"'}
    texts = [json.dumps(e) for e in past]
    for given in (texts, None):
        built = build_context(instance_id="i", parent_instance_id=None, input_json='"x"', past_events=past,
                              new_events=new, past_texts=given)
        expected = json.dumps({**plain, **{k: v for k, v in json.loads(built).items() if k not in plain}})
        assert built == expected


def test_the_store_keeps_histories_it_wrote_and_forgets_a_rolled_back_one(tmp_path) -> None:
    store = DurableStore(tmp_path / "h.sqlite", "Hub")
    first = [{"EventType": 12, "Timestamp": "t1"}, {"EventType": 0, "Input": '"é"'}]
    with store.transaction():
        store.set_history("a", first)
    read = store.get_history("a")
    assert read == first and store.history_texts("a", read) == [json.dumps(e) for e in first]
    longer = read + [{"EventType": 13, "Timestamp": "t2"}]
    with store.transaction():
        store.set_history("a", longer)
    with pytest.raises(RuntimeError), store.transaction():
        store.set_history("a", longer + [{"EventType": 1}])
        raise RuntimeError("rolled back")
    assert store.get_history("a") == longer
    store.close()
    again = DurableStore(tmp_path / "h.sqlite", "Hub")
    assert again.get_history("a") == longer and again.get_history("missing") == []
    with again.transaction():
        again.clear_execution_data("a")
    assert again.get_history("a") == []
    again.close()


async def test_virtual_clock_wakes_sleepers_only_when_advanced() -> None:
    clock = VirtualClock(datetime(2030, 5, 1, tzinfo=UTC))
    woke: list[str] = []

    async def sleeper(name: str, seconds: float) -> None:
        await clock.sleep_until(clock.now() + timedelta(seconds=seconds))
        woke.append(name)

    tasks = [asyncio.create_task(sleeper("late", 10)), asyncio.create_task(sleeper("early", 5))]
    await asyncio.sleep(0)
    clock.advance(4)
    await asyncio.sleep(0)
    assert woke == []
    clock.advance(1)
    await asyncio.sleep(0)
    assert woke == ["early"]
    clock.set(datetime(2030, 5, 2, tzinfo=UTC))
    await asyncio.gather(*tasks)
    assert woke == ["early", "late"]
    with pytest.raises(ValueError):
        clock.set(datetime(2030, 5, 1, tzinfo=UTC))
    assert clock.now().tzinfo is not None


def test_store_transactions_roll_back_and_task_hubs_do_not_mix(tmp_path: Path) -> None:
    path = tmp_path / "hub.sqlite"
    store = DurableStore(path, "HubA")
    with pytest.raises(RuntimeError):
        with store.transaction():
            store.enqueue("i1", {"EventType": 15})
            raise RuntimeError("abort")
    assert store.inbox_for("i1") == []
    with store.transaction():
        store.add_work("i1", "e1", 3, "timer", {"fire_at": "2024-01-01T00:00:00.000000Z"})
    assert store.take_work("i1", "e1", 3) is True
    assert store.take_work("i1", "e1", 3) is False  # a duplicate completion is ignored
    store.close()
    reopened = DurableStore(path)
    assert reopened.task_hub == "HubA"
    reopened.close()
    with pytest.raises(ValueError, match="one file per task hub"):
        DurableStore(path, "HubB")
