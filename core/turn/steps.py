"""The chat turn, declared once: each step names its agent function, the turn-state fields it reads and the field
its output goes to; the plan groups steps into Durable activities and sequences them.

Everything else is derived from this module: the orchestrator (``blueprints/orchestration.py``) runs ``REPLY``;
each activity is registered under its name and runs its steps (``core.turn.runner``); it is sent only the fields its
steps read; each step is one span named ``agent.<step name>`` in the operator trace.

A step's agent is ``fn(state: TurnState, ports: TurnPorts) -> output``; its output model is the type of the state
field it writes. ``when`` is a pure rule over the state (no I/O, clock or randomness: the orchestrator evaluates it
while replaying): a step whose rule is false does not run. The rule of an activity's first step is the activity's,
checked by the orchestrator before scheduling it; the rules of the steps after it are checked by the activity.
``prepare`` is a pure change to the state made just before an activity is scheduled.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from pydantic import TypeAdapter

from core import audit
from core.actions import dialogue as actions
from core.actions import step as action_step
from core.agents import analytics_outbox, critic, escalation, intent, knowledge, memory, response
from core.turn.state import TurnState

Rule = Callable[[TurnState], bool]


@dataclass(frozen=True)
class Step:
    agent: Callable[..., Any]
    reads: frozenset[str]
    writes: str | None  # None: the step's effect is outside the turn state (a queued event)
    when: Rule | None = None
    audit: Callable[..., None] | None = None  # records the step's data access for audited tenants

    @property
    def name(self) -> str:
        return self.agent.__name__

    @property
    def output(self) -> TypeAdapter | None:
        return None if self.writes is None else _ADAPTERS[self.writes]


def step(agent: Callable[..., Any], *, reads: set[str], writes: str | None, when: Rule | None = None,
         audit: Callable[..., None] | None = None) -> Step:
    unknown = (reads | {writes} - {None}) - set(TurnState.model_fields)
    if unknown or "turn" not in reads:
        raise ValueError(f"step {agent.__name__}: reads/writes must be turn-state fields and include 'turn' "
                         f"(unknown: {sorted(unknown)})")
    return Step(agent, frozenset(reads), writes, when, audit)


@dataclass(frozen=True)
class Activity:
    """One Durable activity: its steps run in one call (one round trip, a span each), in order; the steps named in
    ``together`` (consecutive, under one rule, reading nothing another of them writes, such as two look-ups of the
    same message) run side by side."""

    name: str
    steps: tuple[Step, ...]
    when: Rule | None = None
    prepare: Callable[[TurnState], None] | None = None
    together: tuple[str, ...] = ()
    reads: frozenset[str] = field(init=False)
    groups: tuple[tuple[Step, ...], ...] = field(init=False)

    def __post_init__(self) -> None:
        if self.when is None:
            object.__setattr__(self, "when", self.steps[0].when)
        written: set[str] = set()
        reads: set[str] = set()
        for s in self.steps:
            reads |= s.reads - written  # what an earlier step of the activity writes is not sent
            written |= {s.writes} - {None}
        object.__setattr__(self, "reads", frozenset(reads))
        object.__setattr__(self, "groups", self._grouped())

    def _grouped(self) -> tuple[tuple[Step, ...], ...]:
        names = [s.name for s in self.steps]
        if not self.together:
            return tuple((s,) for s in self.steps)
        start = names.index(self.together[0]) if self.together[0] in names else -1
        group = self.steps[start:start + len(self.together)]
        outputs = [s.writes for s in group if s.writes is not None]
        if (start < 0 or tuple(s.name for s in group) != self.together or len(set(group)) < 2
                or len({s.when for s in group}) != 1 or len(set(outputs)) != len(outputs)
                or set(outputs) & set().union(*(s.reads for s in group))):
            raise ValueError(f"activity {self.name}: steps run side by side are consecutive, under one rule, and "
                             "neither read nor write what another of them writes")
        return (*((s,) for s in self.steps[:start]), group,
                *((s,) for s in self.steps[start + len(group):]))

    @property
    def writes(self) -> tuple[str, ...]:
        return tuple(s.writes for s in self.steps if s.writes is not None)

    def due(self, state: TurnState) -> bool:
        return self.when is None or self.when(state)

    def payload(self, state: TurnState) -> dict:
        """The JSON the activity is sent: only what its steps read (Durable keeps each input in the history and
        every replay serialises it again)."""
        return state.model_dump(mode="json", include=set(self.reads))

    def apply(self, state: TurnState, result: dict) -> None:
        """Put what the activity's steps wrote (plain JSON) back into the orchestrator's state."""
        for name, value in result.items():
            if name not in self.writes:
                raise ValueError(f"activity {self.name} returned {name!r}, which none of its steps writes")
            setattr(state, name, _ADAPTERS[name].validate_python(value))


def alone(s: Step, *, when: Rule | None = None, prepare: Callable[[TurnState], None] | None = None) -> Activity:
    """A step that is an activity of its own, under the step's name."""
    return Activity(s.name, (s,), when=when, prepare=prepare)


_ADAPTERS = {name: TypeAdapter(info.annotation) for name, info in TurnState.model_fields.items()}

# Steps ---------------------------------------------------------------------------------------------------------------
LOAD_CONTEXT = step(memory.load_context, reads={"turn"}, writes="context", audit=audit.conversation_read)
CHECK_INPUT = step(critic.check_input, reads={"turn", "context"}, writes="screen")
CLASSIFY_INTENT = step(intent.classify_intent, reads={"turn", "context", "screen"}, writes="intent",
                       when=critic.lets_through)
READ_SIGNALS = step(escalation.read_signals, reads={"turn", "intent"}, writes="signals", when=critic.lets_through)
TAKE_ACTION = step(action_step.take_action, reads={"turn", "context", "screen", "intent", "facts"}, writes="action",
                  when=actions.in_play)
RETRIEVE_KNOWLEDGE = step(knowledge.retrieve_knowledge, reads={"turn", "context", "intent"}, writes="citations",
                          when=knowledge.needs_lookup)
LOOKUP_SHOP_DATA = step(knowledge.lookup_shop_data, reads={"turn", "context", "intent", "action"}, writes="facts",
                        when=knowledge.needs_lookup, audit=audit.order_lookups)
LOOKUP_CITED_PRODUCTS = step(knowledge.lookup_cited_products, reads={"turn", "context", "citations", "facts"},
                             writes="facts", when=knowledge.needs_cited_products)
ESCALATE = step(escalation.escalate, reads={"turn", "context", "screen", "intent", "facts", "citations", "action",
                                           "signals"},
                writes="escalation", when=escalation.needed)
COMPOSE_RESPONSE = step(response.compose_response, writes="draft", reads={
    "turn", "context", "screen", "intent", "citations", "facts", "action", "escalation", "signals",
    "retry_feedback"})
CHECK_OUTPUT = step(critic.check_output, writes="review", reads={
    "turn", "context", "screen", "intent", "citations", "facts", "action", "escalation", "draft"})
FALLBACK_RESPONSE = step(response.fallback_response, reads={"turn", "screen", "intent"}, writes="draft")
APPEND_NOTICES = step(response.append_notices, reads={"turn", "context", "screen", "intent", "facts", "draft"},
                      writes="draft")
RECORD_TURN = step(memory.record_turn, writes="recorded", reads={
    "turn", "context", "screen", "intent", "facts", "action", "escalation", "draft", "guardrail_reasons"})
COUNT_TURN_EVENT = step(analytics_outbox.count_turn_event, reads={"turn", "recorded"}, writes=None)

# Activities ----------------------------------------------------------------------------------------------------------
LOOK_UP_STEPS = (RETRIEVE_KNOWLEDGE, LOOKUP_SHOP_DATA)


def looks_up_at_once(state: TurnState) -> bool:
    """Pure rule: the critic let the message through and no order action comes first (so none has answered it:
    ``knowledge.needs_lookup`` before the action's step)."""
    return critic.lets_through(state) and not actions.in_play(state)


def looks_up_after_the_action(state: TurnState) -> bool:
    """Pure rule: the message needs the look-ups after the order-action dialogue's step (which may answer it)."""
    return knowledge.needs_lookup(state) and actions.in_play(state)


# The conversation so far, the input critic, then (only for a message it lets through) the intent agent and the
# escalation agent's reading of the message, then, unless an order action comes first, the knowledge search and
# the shop's data for the message side by side: one round trip, and a blocked message never reaches a model.
UNDERSTAND_MESSAGE = Activity("understand_message", (
    LOAD_CONTEXT, CHECK_INPUT, CLASSIFY_INTENT, READ_SIGNALS,
    *(replace(s, when=looks_up_at_once) for s in LOOK_UP_STEPS)), together=tuple(s.name for s in LOOK_UP_STEPS))
# The same look-ups after the order-action dialogue's step.
LOOK_UP = Activity("look_up", tuple(replace(s, when=looks_up_after_the_action) for s in LOOK_UP_STEPS),
                   together=tuple(s.name for s in LOOK_UP_STEPS))
# The reply as it is recorded: the shop's notices, then the conversation's record with the turn's analytics event
# (one atomic write), the API result; the event is counted by this process once the reply is out.
RECORDING = (APPEND_NOTICES, RECORD_TURN, COUNT_TURN_EVENT)
# The response agent's draft and the critic's review of it, recorded in the same round trip once the critic approves
# it; a rejected model draft is composed again once, told why.
COMPOSED = (COMPOSE_RESPONSE, CHECK_OUTPUT, *(replace(s, when=critic.approved) for s in RECORDING))
COMPOSE_AND_REVIEW = Activity("compose_and_review", COMPOSED)
RECOMPOSE_AND_REVIEW = Activity("compose_and_review", COMPOSED, when=critic.worth_a_retry,
                                prepare=critic.retry_with_reasons)
# A reply the critic did not approve: the safe fallback, then recorded.
RECORD = Activity("record_turn", RECORDING, when=memory.not_recorded)

#: Stages run in order; the activities of one stage run at the same time (fan-out). Each stage that runs is one
#: more replay of the orchestrator: a reply the critic approves at once is out after two activities (understand and
#: look up; compose, review and record).
Stage = tuple[Activity, ...]
REPLY: tuple[Stage, ...] = (
    (UNDERSTAND_MESSAGE,),
    (alone(TAKE_ACTION),),
    (LOOK_UP,),
    (alone(LOOKUP_CITED_PRODUCTS),),
    (alone(ESCALATE),),
    (COMPOSE_AND_REVIEW,),
    (RECOMPOSE_AND_REVIEW,),
    (alone(FALLBACK_RESPONSE, when=critic.rejected, prepare=critic.fall_back),),
    (RECORD,),
)


def _by_name(stages: tuple[Stage, ...]) -> dict[str, Activity]:
    found: dict[str, Activity] = {}
    for activity in (a for stage in stages for a in stage):
        if found.setdefault(activity.name, activity).steps != activity.steps:
            raise ValueError(f"two activities named {activity.name!r} run different steps")
    return found


#: Every activity the Functions app registers, by name (one activity may be scheduled at several stages).
ACTIVITIES: dict[str, Activity] = _by_name(REPLY)
