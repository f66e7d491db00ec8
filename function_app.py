"""The Azure Functions app: builds the app, sets up telemetry (and the Durable SDK's timestamp parsing) and registers
one blueprint per area."""

import azure.durable_functions as df
import azure.functions as func

from blueprints import (
    audit_log,
    chat,
    console,
    events,
    exports,
    feedback,
    handoff,
    knowledge,
    notifications,
    onboarding,
    operator,
    orchestration,
    pages,
    schedules,
    sessions,
    traces,
    webhooks,
)
from core.config import get_settings
from core.durable_timestamps import use_fast_timestamp_parsing
from core.telemetry import configure_telemetry

settings = get_settings()  # fail fast at start-up, naming any missing or invalid setting
configure_telemetry(settings)
use_fast_timestamp_parsing()  # the Durable SDK's per-replay timestamp parsing, see the module

app = df.DFApp(http_auth_level=func.AuthLevel.FUNCTION)
app.register_functions(chat.bp)
app.register_functions(orchestration.bp)
app.register_functions(handoff.bp)
app.register_functions(events.bp)
app.register_functions(schedules.bp)
app.register_functions(exports.bp)
app.register_functions(knowledge.bp)
app.register_functions(traces.bp)
app.register_functions(sessions.bp)
app.register_functions(audit_log.bp)
app.register_functions(webhooks.bp)
app.register_functions(operator.bp)
app.register_functions(onboarding.bp)
app.register_functions(notifications.bp)
app.register_functions(feedback.bp)
app.register_functions(console.bp)
app.register_functions(pages.bp)
