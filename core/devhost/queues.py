"""Queue triggers from Azure Storage queues (Azurite): batches, dequeue count, backoff and ``-poison`` queues.

Behaviour follows the Functions host: messages are base64 text; a failed message becomes visible again after
the visibility timeout (doubled on each failure here, capped at 10 minutes) and moves to ``<queue>-poison``
once it has been dequeued ``maxDequeueCount`` times.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
from dataclasses import dataclass

from azure.core.exceptions import ResourceExistsError
from azure.core.pipeline.transport import AioHttpTransport
from azure.functions.queue import QueueMessage
from azure.storage.queue import BinaryBase64DecodePolicy, BinaryBase64EncodePolicy
from azure.storage.queue.aio import QueueServiceClient

from core.stores.storage_queue import loopback_options

from .functions import FunctionSpec, call_user_function, resolved_queue_name

log = logging.getLogger("shopdesk.devhost.queues")


@dataclass
class QueueOptions:
    batch_size: int = 16
    max_dequeue_count: int = 5
    visibility_timeout: float = 0.0
    max_polling_interval: float = 2.0
    min_polling_interval: float = 0.1
    #: A poll this process's own send asked for waits this long first, so the messages sent meanwhile (a message
    #: per chat turn under load) come back in one receive instead of one receive each.
    nudge_gather: float = 0.25

    @classmethod
    def from_host_json(cls, host: dict) -> QueueOptions:
        queues = (host.get("extensions") or {}).get("queues") or {}

        def seconds(value: str | None, default: float) -> float:
            if not value:
                return default
            parts = [float(p) for p in value.split(":")]
            return parts[0] * 3600 + parts[1] * 60 + parts[2] if len(parts) == 3 else float(value)

        return cls(
            batch_size=int(queues.get("batchSize", 16)),
            max_dequeue_count=int(queues.get("maxDequeueCount", 5)),
            visibility_timeout=seconds(queues.get("visibilityTimeout"), 0.0),
            max_polling_interval=seconds(queues.get("maxPollingInterval"), 60.0),
        )


class QueuePoller:
    def __init__(self, spec: FunctionSpec, connection_string: str, options: QueueOptions):
        self.spec = spec
        self.queue_name = resolved_queue_name(spec)
        self.options = options
        self._service = QueueServiceClient.from_connection_string(
            connection_string, **loopback_options(connection_string, AioHttpTransport))
        self._queue = self._service.get_queue_client(self.queue_name, message_decode_policy=BinaryBase64DecodePolicy())
        self._poison = self._service.get_queue_client(f"{self.queue_name}-poison",
                                                      message_encode_policy=BinaryBase64EncodePolicy())
        self.processed = 0
        self.failed = 0
        self.poisoned = 0
        self.polls = 0
        self._wake = asyncio.Event()

    def nudge(self) -> None:
        """A message was just enqueued on this queue by this process: poll now (call on the host's loop)."""
        self._wake.set()

    async def ensure_queues(self) -> None:
        for client in (self._queue, self._poison):
            try:
                await client.create_queue()
            except ResourceExistsError:
                pass

    async def _handle(self, message) -> None:
        body = message.content if isinstance(message.content, bytes) else bytes(message.content or b"")
        msg = QueueMessage(id=message.id, body=body, dequeue_count=message.dequeue_count,
                           expiration_time=message.expires_on, insertion_time=message.inserted_on,
                           time_next_visible=message.next_visible_on, pop_receipt=message.pop_receipt)
        try:
            await call_user_function(self.spec, **{self.spec.trigger_name: msg})
        except Exception:
            self.failed += 1
            log.warning("queue function %s failed on message %s (dequeue %s)", self.spec.name, message.id,
                        message.dequeue_count)
            if message.dequeue_count >= self.options.max_dequeue_count:
                await self._poison.send_message(body)
                await self._queue.delete_message(message)
                self.poisoned += 1
                log.error("message %s moved to %s-poison", message.id, self.queue_name)
            else:
                backoff = max(self.options.visibility_timeout, 0.5) * 2 ** (message.dequeue_count - 1)
                # By id + pop receipt: passing the message object would re-upload (and re-encode) its content.
                await self._queue.update_message(message.id, pop_receipt=message.pop_receipt,
                                                 visibility_timeout=int(min(backoff, 600)))
            return
        await self._queue.delete_message(message)
        self.processed += 1

    async def poll_once(self) -> int:
        self.polls += 1
        batch = []
        async for message in self._queue.receive_messages(messages_per_page=self.options.batch_size,
                                                          max_messages=self.options.batch_size,
                                                          visibility_timeout=300):
            batch.append(message)
        if batch:
            await asyncio.gather(*(self._handle(m) for m in batch))
        return len(batch)

    async def run_forever(self) -> None:
        await self.ensure_queues()
        delay = self.options.min_polling_interval
        while True:
            self._wake.clear()  # before the poll: a message sent while it runs wakes the next wait
            failed_before = self.failed
            try:
                count = await self.poll_once()
            except (binascii.Error, ValueError):
                log.exception("undecodable message on %s", self.queue_name)
                count = 0
            except Exception as exc:
                log.warning("queue %s: polling failed (%s); retrying", self.queue_name, type(exc).__name__)
                count = 0
            if count >= self.options.batch_size:
                delay = self.options.min_polling_interval
                continue  # a full batch: more may be waiting
            if self.failed > failed_before:
                delay = self.options.min_polling_interval  # failed messages come back after their visibility backoff
            # Empty or drained: back off towards maxPollingInterval. Messages this app sends wake the poller at once
            # (nudge), so the backoff only bounds how late another producer's message is seen, and no empty polls
            # follow each message: each poll is a storage request that competes with chat turns for the CPU.
            try:
                await asyncio.wait_for(self._wake.wait(), delay)
            except TimeoutError:
                pass
            else:
                if self.options.nudge_gather > 0:
                    await asyncio.sleep(self.options.nudge_gather)
            delay = min(delay * 2, self.options.max_polling_interval)

    async def close(self) -> None:
        await self._service.close()


def encode_message(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")
