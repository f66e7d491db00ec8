"""Shared HTTP plumbing for vendor APIs: httpx client, tenacity retries that honour ``Retry-After``, Link-header
pagination, and a log line per call that names tenant, vendor, method, path and status — never credentials,
query strings or bodies."""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Callable
from typing import Any

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from core.telemetry import vendor_call

from .ports import IntegrationError

log = logging.getLogger("shopdesk.integrations")

_LINK = re.compile(r'<([^>]+)>\s*;\s*rel="?([a-z]+)"?')
RETRY_STATUSES = {429, 500, 502, 503, 504}


class RetryableError(IntegrationError):
    def __init__(self, message: str, status: int | None, retry_after: float | None):
        super().__init__(message, status)
        self.retry_after = retry_after


def parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            return max(parsedate_to_datetime(value).timestamp() - time.time(), 0.0)
        except (TypeError, ValueError):
            return None


def next_link(response: httpx.Response) -> str | None:
    """The ``rel="next"`` URL of an RFC 8288 ``Link`` header (Shopify cursor pagination)."""
    for url, rel in _LINK.findall(response.headers.get("link", "")):
        if rel == "next":
            return url
    return None


def vendor_base_url(template: str, **parts: str) -> str:
    """The API base URL from its settings template: https, or plain http on a loopback host (a local stand-in)."""
    url = httpx.URL(template.format(**parts))
    loopback = url.host in ("127.0.0.1", "localhost", "::1")
    if url.scheme != "https" and not (url.scheme == "http" and loopback):
        raise ValueError("a vendor API URL must be https (plain http only on loopback)")
    return str(url).rstrip("/") + "/"


class VendorClient:
    """One vendor API for one tenant: base URL, auth headers, retries. ``sleep`` is injectable for tests."""

    def __init__(self, vendor: str, tenant_id: str, base_url: str, *, headers: dict[str, str] | None = None,
                 auth: httpx.Auth | tuple[str, str] | None = None, timeout: float = 10.0, max_attempts: int = 4,
                 max_wait: float = 30.0, sleep: Callable[[float], None] = time.sleep,
                 transport: httpx.BaseTransport | None = None):
        self.vendor, self.tenant_id = vendor, tenant_id
        self.max_attempts, self.max_wait, self.sleep = max_attempts, max_wait, sleep
        self._client = httpx.Client(base_url=base_url, headers=headers or {}, auth=auth, timeout=timeout,
                                    transport=transport, follow_redirects=False)

    def close(self) -> None:
        self._client.close()

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            return min(retry_after, self.max_wait)
        return min(0.5 * 2 ** (state.attempt_number - 1) + random.uniform(0, 0.25), self.max_wait)

    @vendor_call
    def _once(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        path = httpx.URL(url).path if url.startswith("http") else url.split("?")[0]
        try:
            response = self._client.request(method, url, **kwargs)
        except httpx.TransportError as exc:
            log.warning("%s call failed tenant=%s %s %s error=%s", self.vendor, self.tenant_id, method, path,
                        type(exc).__name__)
            raise RetryableError(f"{self.vendor}: {type(exc).__name__}", None, None) from None
        log.info("%s call tenant=%s %s %s status=%s", self.vendor, self.tenant_id, method, path, response.status_code)
        self.after_response(response)
        if response.status_code in RETRY_STATUSES:
            raise RetryableError(f"{self.vendor} {method} {path}: {response.status_code}", response.status_code,
                                 parse_retry_after(response.headers.get("retry-after")))
        if response.status_code >= 400:
            raise IntegrationError(f"{self.vendor} {method} {path}: {response.status_code}", response.status_code)
        return response

    def after_response(self, response: httpx.Response) -> None:
        """Hook for vendor rate-limit headers (Shopify's call-limit bucket)."""

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        retrying = Retrying(stop=stop_after_attempt(self.max_attempts), wait=self._wait, sleep=self.sleep,
                            retry=retry_if_exception_type(RetryableError), reraise=True)
        return retrying(self._once, method, url, **kwargs)

    def paginate(self, url: str, key: str, *, params: dict[str, Any] | None = None,
                 next_url: Callable[[httpx.Response, dict], str | None] | None = None,
                 max_pages: int = 1000) -> list[dict[str, Any]]:
        """Follow pages until none is left; ``next_url`` defaults to the Link header."""
        items: list[dict[str, Any]] = []
        response = self.request("GET", url, params=params)
        for _ in range(max_pages):
            data = response.json()
            items.extend(data.get(key) or [])
            following = (next_url or (lambda r, d: next_link(r)))(response, data)
            if not following:
                break
            response = self.request("GET", following)
        return items
