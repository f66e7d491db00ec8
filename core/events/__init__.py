"""Event-driven side of ShopDesk: the CloudEvent catalog, webhooks, the bus (Event Grid or local), agent queues,
delivery with limits/retries/dead letters, replay, schedules and the proactive notifications.

Modules: ``catalog`` (types, schemas, subjects, subscriptions), ``webhooks`` (signature checks, vendor payload to
CloudEvents), ``publisher`` (port, Event Grid and local adapters, ``Bus``), ``queues``, ``throttle``, ``delivery``
(``Dispatcher``), ``ledger`` (event log, receipts, dead letters, statistics, alerts), ``handlers`` (per agent),
``operations`` (promotions, announcements, sync schedules), ``schedules`` (timer work), ``news`` (feed poll),
``waitlist`` and ``notifications`` (shipment and back-in-stock e-mails), ``runtime`` (built from settings).
"""
