"""The ledger in Redis, for replicas of `dcaf serve` on many hosts (`--ledger redis://...`).

The claim is one Lua script, so Redis runs it atomically: it checks every key of the
request and, only when none is there, sets them all, each with its own expiry (`PXAT`:
the time after which the proposal or signed session could no longer verify anyway). Two
replicas racing with the same approval cannot both record it, so the tool runs once.

Keys live under one hash tag (`{dcaf}`), so the script's keys share a slot on a Redis
Cluster too. The client keeps a pool of connections (one per worker thread that needs
one) with short timeouts: a Redis that is down or slow makes the claim fail, and the
server answers 503 and runs nothing (it fails closed). Requests that carry no approval
and no signed session never reach Redis.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dcaf_cli.errors import UsageError

PREFIX = "{dcaf}:used:"
SOCKET_TIMEOUT = 2.0  # seconds: a request waits no longer than this for the ledger
POOL_SIZE = 64  # connections per process, at most (anyio runs up to 40 worker threads)

# KEYS: the keys to claim; ARGV: their expiries in Unix milliseconds, in the same order.
# Returns the keys already there (none were set), or an empty list (all were set).
_CLAIM = """
local used = {}
for i, key in ipairs(KEYS) do
  if redis.call('EXISTS', key) == 1 then
    used[#used + 1] = key
  end
end
if #used == 0 then
  for i, key in ipairs(KEYS) do
    redis.call('SET', key, '1', 'PXAT', ARGV[i])
  end
end
return used
"""


class RedisLedger:
    """The ledger of every replica that connects to the same Redis database."""

    def __init__(self, url: str, *, timeout: float = SOCKET_TIMEOUT) -> None:
        try:
            import redis
        except ImportError:
            raise UsageError(
                "a Redis ledger needs the redis client", hint="pip install 'dcaf-cli[redis]'"
            ) from None
        self.url = url
        try:
            self._client = redis.Redis.from_url(
                url,
                socket_timeout=timeout,
                socket_connect_timeout=timeout,
                max_connections=POOL_SIZE,
                health_check_interval=30,
            )
        except ValueError as exc:
            raise UsageError(f"ledger {redacted(url)!r} is not a Redis URL: {exc}") from None
        self._claim: Any = self._client.register_script(_CLAIM)

    def claim(self, entries: Mapping[str, float]) -> list[str]:
        keys = [PREFIX + key for key in entries]
        expiries = [int(until * 1000) for until in entries.values()]
        used = self._claim(keys=keys, args=expiries)
        return [_text(key).removeprefix(PREFIX) for key in used]

    def ping(self) -> None:
        """Raise unless Redis answers (what `/ready` asks)."""
        self._client.ping()

    def describe(self) -> str:
        return f"redis {redacted(self.url)}"

    def __len__(self) -> int:
        return sum(1 for _ in self._client.scan_iter(match=PREFIX + "*", count=1000))

    def close(self) -> None:
        self._client.close()


def _text(key: bytes | str) -> str:
    return key.decode() if isinstance(key, bytes) else key


def redacted(url: str) -> str:
    """`url` with any password replaced by `***`, for messages and `/health`."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}{port}"))
