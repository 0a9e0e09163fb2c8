"""HTTP webhook (SMS gateways, app push services, marketing tools): JSON batches POSTed to
the URL in the sync's `url_env` variable.

Each request carries `Idempotency-Key` (the batch's deterministic key: a resumed run re-sends
an unacknowledged batch with the same one) and `X-Tianwen-Signature: sha256=<hex>`, the
HMAC-SHA256 of the exact body under the key in `secret_env`, and `X-Tianwen-Timestamp`.
Requests are spaced to `rate_limit_per_second`. 429, 5xx, timeouts and dropped connections
are retried (tenacity) with exponential backoff and full jitter, or after `Retry-After` when
the server sends one, up to `max_attempts`. A 2xx acknowledges the batch; its JSON body may
list rejected rows (`{"rejected": [{"key": ..., "message": ...}]}`). 400 and 422 reject
the whole batch (kept in sync_rejections, retried next run); other 4xx are configuration
errors and stop the sync.

Body: {"sync", "batch", "idempotency_key", "operations": [{"op", "key", "fields"}]}."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import threading
import time
from email.utils import parsedate_to_datetime

import requests
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential

from orchestration.activation.destinations.base import Batch, Destination, DestinationError
from orchestration.activation.state import REMOVE, BatchOutcome


class Retryable(Exception):
    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds: a number of seconds or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def sign(secret: bytes, body: bytes) -> str:
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


class _RetryAfterOrJitter:
    """tenacity wait: the server's Retry-After when it gave one (capped), else exponential
    backoff with full jitter."""

    def __init__(self, first: float, cap: float):
        self.jitter = wait_random_exponential(multiplier=first, max=cap)
        self.cap = cap

    def __call__(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, Retryable) and exc.retry_after is not None:
            return min(exc.retry_after, self.cap)
        return self.jitter(state)


class WebhookDestination(Destination):
    type = "webhook"

    def __init__(self, sync):
        super().__init__(sync)
        cfg = sync.destination
        missing = [v for v in (cfg.url_env, cfg.secret_env) if not os.environ.get(v)]
        if missing:
            raise DestinationError(f"sync {sync.name}: set {', '.join(missing)} (the webhook's "
                                   f"{'URL' if cfg.url_env in missing else 'HMAC key'})")
        self.url = os.environ[cfg.url_env]
        self.secret = os.environ[cfg.secret_env].encode()
        self.cfg = cfg
        self.session = requests.Session()
        self._next_at = 0.0
        self._lock = threading.Lock()

    def _pace(self) -> None:
        with self._lock:
            wait = self._next_at - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            self._next_at = max(self._next_at, time.monotonic()) + 1.0 / self.cfg.rate_limit_per_second

    def _post(self, body: bytes, batch: Batch) -> requests.Response:
        self._pace()
        headers = {"Content-Type": "application/json", "Idempotency-Key": batch.idempotency_key,
                   "X-Tianwen-Timestamp": str(int(time.time())), "X-Tianwen-Sync": batch.sync_id,
                   "X-Tianwen-Signature": sign(self.secret, body)}
        try:
            response = self.session.post(self.url, data=body, headers=headers, timeout=self.cfg.timeout_seconds)
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise Retryable(f"{type(exc).__name__}") from None
        if response.status_code == 429 or response.status_code >= 500:
            raise Retryable(f"HTTP {response.status_code}", retry_after_seconds(response.headers.get("Retry-After")))
        return response

    def send(self, batch: Batch) -> BatchOutcome:
        ops = [{"op": o.op, "key": o.key, **({} if o.op == REMOVE else {"fields": o.payload})}
               for o in batch.ops]
        body = json.dumps({"sync": batch.sync_id, "batch": batch.number, "idempotency_key": batch.idempotency_key,
                           "operations": ops}, ensure_ascii=False, default=str, separators=(",", ":")).encode()
        retrying = Retrying(retry=retry_if_exception_type(Retryable),
                            wait=_RetryAfterOrJitter(self.cfg.backoff_seconds, self.cfg.max_backoff_seconds),
                            stop=stop_after_attempt(self.cfg.max_attempts), reraise=True)
        try:
            response = retrying(self._post, body, batch)
        except Retryable as exc:
            raise DestinationError(f"webhook gave up after {self.cfg.max_attempts} attempts: {exc}") from None
        attempts = retrying.statistics.get("attempt_number", 1)
        status = response.status_code
        if status in (400, 422):
            message = f"HTTP {status}: {response.text[:500]}"
            return BatchOutcome(acknowledged=[], rejected={o.key: message for o in batch.ops}, attempts=attempts)
        if not 200 <= status < 300:
            # the body is not repeated: it could echo a recipient's data into logs and alerts
            raise DestinationError(f"webhook answered HTTP {status} (check the URL and the HMAC key)")
        rejected = {}
        if response.content and "json" in response.headers.get("Content-Type", ""):
            for item in (response.json() or {}).get("rejected", []) or []:
                rejected[str(item.get("key"))] = str(item.get("message", "rejected"))
        acknowledged = [o for o in batch.ops if o.key not in rejected]
        return BatchOutcome(acknowledged=acknowledged, rejected=rejected, attempts=attempts)

    def close(self) -> None:
        self.session.close()
