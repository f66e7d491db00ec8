"""Escalation tickets on their way to the desk: idempotent pushes, retries with backoff, a dead letter after the
last attempt, and the operator's replay delivering it once the desk is back."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from core import desk_outbox
from core.agents.escalation import open_ticket
from core.events import handlers
from core.events.catalog import CloudEvent
from core.events.delivery import Dispatcher
from core.events.throttle import Limits
from core.integrations.ports import IntegrationError, TicketRef
from core.models import HandoffJob


class Desk:
    def __init__(self, fail: bool = False):
        self.fail, self.created = fail, []

    def create_ticket(self, tenant_id, ticket):
        if self.fail:
            raise IntegrationError("zendesk POST tickets.json: 503", 503)
        self.created.append((tenant_id, ticket))
        return TicketRef(id=f"zd-{len(self.created)}", status="new")


@pytest.fixture
def ticket(services):
    escalation = open_ticket(services.store, tenant_id="demo", conversation_id="conv-desk-0001", reason="complaint",
                             language="fr", transcript=[{"user": "Carte 4111 1111 1111 1111 débitée deux fois"}],
                             customer={"email": "client@example.com", "name": "Client"}, priority="high",
                             created_at="2026-01-01T00:00:00Z")
    return HandoffJob(tenant_id="demo", conversation_id="conv-desk-0001", ticket_id=escalation.ticket_id)


def _with_desk(services, monkeypatch, desk):
    real = services.integrations_for
    monkeypatch.setattr(services, "integrations_for",
                        lambda tenant_id: dataclasses.replace(real(tenant_id), tickets=desk))


def _stored(services):
    return services.store.get("demo", "tickets", "conv-desk-0001").body


def test_a_ticket_is_pushed_once_with_our_id_and_no_card_number(services, ticket):
    desk = Desk()
    assert desk_outbox.push_ticket(services.store, desk, "demo", "conv-desk-0001") == "zd-1"
    assert desk_outbox.push_ticket(services.store, desk, "demo", "conv-desk-0001") == "zd-1"
    [(tenant, request)] = desk.created
    assert tenant == "demo" and request.external_id == ticket.ticket_id and request.priority == "high"
    assert "4111 1111 1111 1111" not in request.description and "1111" in request.description
    assert "lang-fr" in request.tags and request.requester_email == "client@example.com"
    assert _stored(services)["desk_sync"] == "synced" and _stored(services)["external_id"] == "zd-1"


def test_a_desk_failure_is_recorded_and_raised_for_the_bus_to_retry(services, ticket):
    with pytest.raises(IntegrationError):
        desk_outbox.push_ticket(services.store, Desk(fail=True), "demo", "conv-desk-0001")
    assert _stored(services)["desk_sync"] == "failed"


def test_the_opened_event_has_one_id_per_ticket_and_names_the_tenant(ticket):
    event = desk_outbox.opened_event(ticket)
    assert event.id == desk_outbox.opened_event(ticket).id and event.tenant_id == "demo"
    assert event.type == "shopdesk.tickets.opened" and event.subject == f"tenants/demo/tickets/{ticket.ticket_id}"
    other = desk_outbox.opened_event(ticket.model_copy(update={"tenant_id": "northwind-tea"}))
    assert other.id != event.id


def test_a_desk_that_keeps_failing_dead_letters_the_ticket_and_replay_delivers_it(services, ticket, monkeypatch):
    desk = Desk(fail=True)
    _with_desk(services, monkeypatch, desk)
    events = services.events
    requeued = []
    dispatcher = Dispatcher(events.ledger, Limits(1000, 1000, 4), lambda agent, e, delay: requeued.append(delay),
                            retry_delays=(1, 2, 4))
    handler = lambda e: handlers.escalation_agent(e, services.handler_ports())  # noqa: E731
    event = desk_outbox.opened_event(ticket)
    outcomes = [asyncio.run(dispatcher.deliver_one("escalation", event.model_copy(update={"deliveryattempt": n}),
                                                   handler)) for n in range(4)]
    assert outcomes == ["retried", "retried", "retried", "dead_lettered"] and requeued == [1, 2, 4]
    [letter] = events.ledger.dead_letters("demo")
    assert letter["agent"] == "escalation" and letter["event"]["id"] == event.id
    assert events.ledger.dead_letters("northwind-tea") == []

    desk.fail = False
    assert events.bus.replay_dead_letters("demo") == 1
    [body] = events.queues.receive("events-escalation")
    replayed = CloudEvent.model_validate_json(body)
    assert asyncio.run(dispatcher.deliver_one("escalation", replayed, handler)) == "handled"
    assert [request.external_id for _, request in desk.created] == [ticket.ticket_id]
    assert _stored(services)["desk_sync"] == "synced"
