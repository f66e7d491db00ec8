"""The event bus, ledger and dispatcher built from settings (the composition root, ``core.services``, builds the
process's once)."""

from __future__ import annotations

from dataclasses import dataclass

from core.config import QueueKind, Settings

from .delivery import Dispatcher
from .ledger import Ledger
from .publisher import Bus, EventGridPublisher, EventPublisher, LocalPublisher
from .queues import EventQueues, MemoryEventQueues, StorageEventQueues
from .throttle import Limits


@dataclass
class Events:
    bus: Bus
    ledger: Ledger
    dispatcher: Dispatcher
    queues: EventQueues


def build_events(settings: Settings, store) -> Events:
    queues: EventQueues
    if settings.EVENT_QUEUE is QueueKind.STORAGE:
        queues = StorageEventQueues(settings.AzureWebJobsStorage, settings.AzureWebJobsStorage__queueServiceUri)
    else:
        queues = MemoryEventQueues()
    ledger = Ledger(store, retention_days=settings.EVENTS_RETENTION_DAYS, drop_alert=settings.EVENTS_DROP_ALERT,
                    dead_letter_alert=settings.EVENTS_DEAD_LETTER_ALERT)
    publisher: EventPublisher
    if settings.EVENT_BUS == "eventgrid":
        publisher = EventGridPublisher(settings.EVENT_GRID_ENDPOINT, settings.EVENT_GRID_KEY)
    else:
        # Batching pays off over a network hop (Azurite / Storage); in-process queues need none.
        publisher = LocalPublisher(queues, ledger, max_depth=settings.EVENTS_QUEUE_MAX_DEPTH,
                                   batch_window=0.01 if settings.EVENT_QUEUE is QueueKind.STORAGE else 0.0)
    bus = Bus(publisher, ledger, queues)
    limits = Limits(settings.EVENTS_GLOBAL_RATE, settings.EVENTS_AGENT_RATE, settings.EVENTS_AGENT_CONCURRENCY)
    delays = tuple(int(d) for d in settings.EVENTS_RETRY_DELAYS.split(","))
    dispatcher = Dispatcher(ledger, limits, lambda agent, event, delay: bus.deliver_to(agent, event,
                                                                                        delay_seconds=delay),
                            retry_delays=delays, fault_rate=settings.EVENTS_FAULT_RATE)
    return Events(bus=bus, ledger=ledger, dispatcher=dispatcher, queues=queues)
