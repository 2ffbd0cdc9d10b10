"""Fetch the CRIC RSE catalogue with requests: bounded timeouts, retries, one run deadline.

Why: a sync runs in CI and by hand; it must fail in bounded time with one clear line rather
than hang on a slow catalogue, and must not retry requests the server refused (4xx).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests

from dlaas_gen.errors import DlaasGenError

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 10.0
ATTEMPTS = 3
BACKOFF = 1.0
RUN_DEADLINE = 45.0


_sleep = time.sleep  # module attribute, so tests can skip the backoff


class CricError(DlaasGenError):
    """The catalogue could not be fetched or used (one line; nothing was written)."""


@dataclass
class Deadline:
    """A wall-clock budget shared by every request of one run."""

    seconds: float = RUN_DEADLINE
    clock: Callable[[], float] = time.monotonic
    start: float = field(default=-1.0)

    def __post_init__(self) -> None:
        """Start the clock now unless a start time was given."""
        if self.start < 0:
            self.start = self.clock()

    def remaining(self) -> float:
        """Seconds left (never negative)."""
        return max(0.0, self.seconds - (self.clock() - self.start))


def fetch_catalogue(
    url: str,
    ca_file: str | None = None,
    *,
    deadline: Deadline | None = None,
    session: requests.Session | None = None,
    attempts: int = ATTEMPTS,
    sleep: Callable[[float], None] | None = None,
) -> Any:
    """GET `url` and return the decoded JSON.

    Connect timeout 5 s, read timeout 10 s (both capped by the run deadline), up to 3 attempts
    with exponential backoff (1 s, 2 s). Connection errors, timeouts and 5xx are retried; 4xx
    and invalid JSON are not. TLS is verified with `ca_file` when given, else the system CAs.

    Raises:
        CricError: unreachable, timed out, HTTP error, invalid JSON, or deadline exceeded.
    """
    deadline = deadline or Deadline()
    sleep = sleep or _sleep
    http = session or requests.Session()
    verify: bool | str = ca_file or True
    last = "no attempt made"
    for attempt in range(1, attempts + 1):
        left = deadline.remaining()
        if left <= 0:
            raise CricError(f"CRIC {url}: gave up after {deadline.seconds:g} s ({last})")
        answered, value = _attempt(http, url, verify, left)
        if answered:
            return value
        last = value
        if attempt < attempts:
            sleep(min(BACKOFF * 2 ** (attempt - 1), deadline.remaining()))
    raise CricError(f"CRIC {url}: {last} (after {attempts} attempts)")


def _attempt(http: requests.Session, url: str, verify: bool | str, left: float) -> tuple[bool, Any]:
    """One GET within `left` seconds: ``(True, JSON)``, or ``(False, why)`` worth a retry.

    Raises:
        CricError: a failure another attempt cannot fix (TLS, 4xx, invalid JSON, bad request).
    """
    try:
        response = http.get(
            url, timeout=(min(CONNECT_TIMEOUT, left), min(READ_TIMEOUT, left)),
            verify=verify, headers={"Accept": "application/json"},
        )
    except requests.exceptions.SSLError as exc:
        raise CricError(f"CRIC {url}: TLS verification failed ({_short(exc)})") from None
    except requests.exceptions.Timeout:
        return False, "timed out"
    except requests.exceptions.ConnectionError as exc:
        return False, f"unreachable ({_short(exc)})"
    except requests.exceptions.RequestException as exc:
        raise CricError(f"CRIC {url}: {_short(exc)}") from None
    if response.status_code >= 500:
        return False, f"HTTP {response.status_code}"
    if response.status_code >= 400:
        raise CricError(f"CRIC {url}: HTTP {response.status_code} {response.reason}")
    try:
        return True, response.json()
    except ValueError:
        raise CricError(f"CRIC {url}: the answer is not valid JSON") from None


def _short(exc: Exception) -> str:
    """The useful part of a requests exception (its nested reprs are unreadable)."""
    text = str(exc)
    errno = re.search(r"\[Errno -?[0-9]+\] [^'\"()]+", text)
    if errno:
        return errno.group(0).strip()
    for hint in ("Name or service not known", "certificate verify failed", "Read timed out"):
        if hint in text:
            return hint
    return (text.splitlines()[0] if text else type(exc).__name__)[:160]
