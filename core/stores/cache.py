"""Caches for data that may be a little stale: an in-process TTL cache (default) and Redis (by setting)."""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from typing import Any


class MemoryTtlCache:
    """Bounded LRU with per-entry expiry; values are stored as JSON so callers never share mutable objects."""

    def __init__(self, max_entries: int = 10_000, clock=time.monotonic):
        self._items: OrderedDict[str, tuple[float, str]] = OrderedDict()
        self._max = max_entries
        self._clock = clock
        self._lock = threading.Lock()

    def get(self, key: str) -> Any | None:
        with self._lock:
            entry = self._items.get(key)
            if entry is None:
                return None
            if entry[0] <= self._clock():
                del self._items[key]
                return None
            self._items.move_to_end(key)
            return json.loads(entry[1])

    def set(self, key: str, value: Any, ttl_seconds: float) -> None:
        if ttl_seconds <= 0:
            return
        data = json.dumps(value, separators=(",", ":"))
        with self._lock:
            self._items[key] = (self._clock() + ttl_seconds, data)
            self._items.move_to_end(key)
            while len(self._items) > self._max:
                self._items.popitem(last=False)

    def delete(self, key: str) -> None:
        with self._lock:
            self._items.pop(key, None)


class RedisCache:
    """redis-py; TTLs in milliseconds (``PX``) so sub-second staleness budgets keep their meaning."""

    def __init__(self, client: Any, namespace: str = "shopdesk"):
        self._redis = client
        self._ns = namespace

    @classmethod
    def from_url(cls, url: str, namespace: str = "shopdesk") -> RedisCache:
        import redis

        return cls(redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2), namespace)

    def _key(self, key: str) -> str:
        return f"{self._ns}:{key}"

    def get(self, key: str) -> Any | None:
        raw = self._redis.get(self._key(key))
        return None if raw is None else json.loads(raw)

    def set(self, key: str, value: Any, ttl_seconds: float) -> None:
        if ttl_seconds <= 0:
            return
        self._redis.set(self._key(key), json.dumps(value, separators=(",", ":")), px=max(int(ttl_seconds * 1000), 1))

    def delete(self, key: str) -> None:
        self._redis.delete(self._key(key))
