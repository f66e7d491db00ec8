"""GA4 Measurement Protocol adapter (``AnalyticsSink``): ``POST /mp/collect?measurement_id=…&api_secret=…``.

At most 25 events per request (the protocol's limit), so larger batches are chunked. The api_secret is in the
query string, so URLs are never logged (the shared client logs the path only). GA4 answers 204 whatever the
payload; ``validate`` uses ``/debug/mp/collect`` to get validation messages.
"""

from __future__ import annotations

import re
from typing import Any

from .http import VendorClient

GA4_BASE = "https://www.google-analytics.com/"
MAX_EVENTS = 25
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,39}$")


class Ga4Client(VendorClient):
    def __init__(self, tenant_id: str, measurement_id: str, api_secret: str, **kwargs: Any):
        super().__init__("ga4", tenant_id, GA4_BASE, **kwargs)
        self.params = {"measurement_id": measurement_id, "api_secret": api_secret}


class Ga4AnalyticsSink:
    def __init__(self, client: Ga4Client):
        self.client = client

    def track(self, tenant_id: str, client_id: str, events: list[dict[str, Any]]) -> int:
        valid = [e for e in events if _NAME.match(str(e.get("name", "")))]
        for start in range(0, len(valid), MAX_EVENTS):
            payload = {"client_id": client_id, "non_personalized_ads": True,
                       "events": [{"name": e["name"], "params": e.get("params", {})}
                                  for e in valid[start:start + MAX_EVENTS]]}
            self.client.request("POST", "mp/collect", params=self.client.params, json=payload)
        return len(valid)

    def validate(self, client_id: str, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        payload = {"client_id": client_id, "events": events[:MAX_EVENTS]}
        response = self.client.request("POST", "debug/mp/collect", params=self.client.params, json=payload)
        return response.json().get("validationMessages", [])
