"""HTTP load on a running server (not a benchmark module): `wrk` when it is installed
(`apt-get install wrk`), else a Python client, slower, whose figures the client bounds.

`drive` POSTs one JSON body over `connections` keep-alive connections for `seconds` and
returns a `Load`: requests per second, latency percentiles, and how many requests failed
(an answer other than 2xx/3xx, or a socket error), which a benchmark must not hide.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

SCRIPT = Path(__file__).with_name("post.lua")
UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
PYTHON_NOTE = "wrk is not installed (apt-get install wrk): a Python client measured, slower"


@dataclass(frozen=True, slots=True)
class Load:
    requests_per_s: float
    p50: float  # seconds
    p99: float
    requests: int
    failed: int  # answers other than 2xx/3xx, and socket errors
    client: str  # "wrk" or "python"

    @property
    def error(self) -> str:
        """`""` when every request succeeded, else what to report."""
        if not self.failed:
            return ""
        return f"{self.failed} of {self.requests} requests failed"


def client_name() -> str:
    return "wrk" if shutil.which("wrk") else "python"


def drive(url: str, body: bytes, *, connections: int, seconds: float) -> Load:
    """`POST url` with `body` (application/json) as fast as the connections go."""
    if shutil.which("wrk"):
        return wrk_load(url, body, connections=connections, seconds=seconds)
    return python_load(url, body, connections=connections, seconds=seconds)


def wrk_load(url: str, body: bytes, *, connections: int, seconds: float) -> Load:
    # One wrk thread: it drives thousands of requests a second, and leaves the other core
    # to the server.
    with tempfile.NamedTemporaryFile(suffix=".json") as file:
        file.write(body)
        file.flush()
        command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--latency"]
        command += ["-s", str(SCRIPT), url, "--", file.name]
        done = subprocess.run(
            command, check=False, capture_output=True, text=True, timeout=seconds + 60
        )
    return parse_wrk(done.stdout, done.stderr)


def parse_wrk(out: str, err: str = "") -> Load:
    """The figures of wrk's report (`--latency`); RuntimeError when it has none."""
    rate = re.search(r"^Requests/sec:\s+([\d.]+)", out, re.MULTILINE)
    total = re.search(r"^\s*(\d+) requests in ", out, re.MULTILINE)
    percentiles = {
        m[1]: float(m[2]) * UNITS[m[3]]
        for m in re.finditer(r"^\s+(50|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s|m|h)\s*$", out, re.M)
    }
    if rate is None or total is None or set(percentiles) != {"50", "99"}:
        said = (err.strip() or out.strip() or "nothing").splitlines()[0]
        raise RuntimeError(f"wrk reported no figures: {said}")
    failed = re.search(r"^\s*Non-2xx or 3xx responses: (\d+)", out, re.MULTILINE)
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    errors = int(failed[1]) if failed else 0
    if sockets is not None:
        errors += sum(int(n) for n in sockets.groups())
    return Load(
        requests_per_s=float(rate[1]),
        p50=percentiles["50"],
        p99=percentiles["99"],
        requests=int(total[1]),
        failed=errors,
        client="wrk",
    )


def python_load(url: str, body: bytes, *, connections: int, seconds: float) -> Load:
    """What `wrk_load` measures, from one thread per connection (httpx, keep-alive)."""
    times: list[float] = []
    statuses: list[int] = []
    deadline = time.perf_counter() + seconds
    lock = threading.Lock()

    def connection() -> None:
        headers = {"content-type": "application/json"}
        with httpx.Client(trust_env=False, timeout=30) as client:
            while True:  # at least one request per connection, however late it starts
                start = time.perf_counter()
                try:
                    status = client.post(url, content=body, headers=headers).status_code
                except httpx.TransportError:
                    status = 0
                with lock:
                    times.append(time.perf_counter() - start)
                    statuses.append(status)
                if time.perf_counter() >= deadline:
                    break

    threads = [threading.Thread(target=connection) for _ in range(connections)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    ordered = sorted(times) or [0.0]
    return Load(
        requests_per_s=len(times) / elapsed,
        p50=ordered[len(ordered) // 2],
        p99=ordered[min(len(ordered) - 1, len(ordered) * 99 // 100)],
        requests=len(times),
        failed=sum(1 for s in statuses if not 200 <= s < 400),
        client="python",
    )
