"""Order actions a customer asks for in the chat, within the shop's policy.

``tools`` declares each action with its JSON schema (the same tools for the offline dialogue and a model's function
calls); ``policy`` is the one place that decides whether an action may run and runs it (identity, one customer per
conversation, an explicit yes to the listed change, Shopify's status graphs, idempotent writes, audit and events);
``orders`` reads the facts the policy needs from an order; ``ledger`` keeps each action's outcome by its id;
``words`` holds the phrases of the offline dialogue; ``dialogue`` is the offline provider's deterministic dialogue
(slots over turns, proposal, confirmation) and the chat turn's step.
"""
