"""The chat turn's ``take_action`` step: with a model provider configured, the model's function calls over the
action guard (``function_calls``); otherwise the offline dialogue (``dialogue``)."""

from __future__ import annotations

from core.models import ActionOutcome
from core.turn.ports import TurnPorts
from core.turn.state import TurnState

from . import dialogue, function_calls


def take_action(state: TurnState, ports: TurnPorts) -> ActionOutcome:
    if function_calls.model_configured(ports):
        return function_calls.take_action(state, ports)
    return dialogue.take_action(state, ports)
