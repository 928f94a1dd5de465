"""Drive traffic at the example shop (`examples/flask_app.py`); standard library only.

```sh
python examples/traffic.py --base-url http://127.0.0.1:5000 --count 60
```

Waits until the shop answers, then sends `--count` requests cycling through every route
(`/`, `/products`, `/order`, `/checkout`, `/checkout?fail=1`) and prints a one-line summary.
Exit status: 0 when every request got the answer its route is meant to give (a 500 for
`/checkout?fail=1`, 200 otherwise), 1 otherwise, 2 when the shop never became ready.
"""

from __future__ import annotations

import argparse
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Sequence

# (path, expected status); the cycle the requests follow.
ROUTES: tuple[tuple[str, int], ...] = (
    ("/", 200),
    ("/products", 200),
    ("/checkout", 200),
    ("/order", 200),
    ("/checkout?fail=1", 500),
    ("/checkout", 200),
    ("/products", 200),
    ("/checkout", 200),
)


def get_status(url: str, timeout: float = 5.0) -> int:
    """GET `url` and return the HTTP status (error statuses included)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            response.read()
            return int(response.status)
    except urllib.error.HTTPError as exc:
        exc.read()
        exc.close()
        return int(exc.code)


def wait_ready(base_url: str, timeout: float = 30.0) -> bool:
    """Poll `GET /` until it answers 200 or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if get_status(base_url + "/", timeout=1.0) == 200:
                return True
        except OSError:
            pass
        time.sleep(0.1)
    return False


def drive(base_url: str, count: int, *, failures: bool = True) -> tuple[Counter[str], int]:
    """Send `count` requests; return the statuses per route and how many were unexpected."""
    routes = ROUTES if failures else tuple(r for r in ROUTES if r[1] == 200)
    statuses: Counter[str] = Counter()
    unexpected = 0
    for index in range(count):
        path, expected = routes[index % len(routes)]
        try:
            status = get_status(base_url + path)
        except OSError:
            status = 0
        statuses[f"{path} {status}"] += 1
        unexpected += status != expected
    return statuses, unexpected


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the arguments, wait for the shop, drive the traffic, print the summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:5000")
    parser.add_argument("--count", type=int, default=40, help="number of requests")
    parser.add_argument("--ready-timeout", type=float, default=30.0, help="seconds")
    parser.add_argument(
        "--no-failures", action="store_true", help="skip /checkout?fail=1 (a healthy phase)"
    )
    args = parser.parse_args(argv)
    base_url = args.base_url.rstrip("/")
    if not wait_ready(base_url, args.ready_timeout):
        print(f"traffic: {base_url} did not become ready in {args.ready_timeout:g}s")
        return 2
    started = time.monotonic()
    statuses, unexpected = drive(base_url, args.count, failures=not args.no_failures)
    elapsed = time.monotonic() - started
    detail = ", ".join(f"{key}: {n}" for key, n in sorted(statuses.items()))
    print(
        f"traffic: {args.count} requests to {base_url} in {elapsed:.2f}s, "
        f"{unexpected} unexpected ({detail})"
    )
    return 1 if unexpected else 0


if __name__ == "__main__":
    sys.exit(main())
