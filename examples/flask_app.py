"""A small shop service, meant to run under `opentelemetry-instrument` with zero code change.

```sh
OTEL_SERVICE_NAME=flext-shop flext-observability run -- python examples/flask_app.py
# or, pinning our distro by hand when another one is installed:
OTEL_PYTHON_DISTRO=flext_observability OTEL_PYTHON_CONFIGURATOR=flext_observability \
    opentelemetry-instrument python examples/flask_app.py
```

The app never calls `setup()`: auto-instrumentation does it before this module is imported, and
the Flask and `requests` instrumentations trace every request. Routes:

- `GET /` and `GET /products` succeed;
- `GET /checkout` charges through `charge()`, a function monitored by `flext_monitor_function`;
  `GET /checkout?fail=1` makes the payment fail, so the request answers 500 with an error span;
- `GET /order` calls `GET /products` on this same server with `requests`, so one trace spans
  the server span, the client span and the downstream server span.

The server listens on 127.0.0.1, port `PORT` (default 5000). SIGTERM and SIGINT stop it cleanly
so the exit hooks flush the telemetry.
"""

from __future__ import annotations

import logging
import os
import signal
import types

import requests
from flask import Flask, jsonify, request
from flask.typing import ResponseReturnValue

from flext_observability import flext_monitor_function

PORT = int(os.environ.get("PORT", "5000"))
PRODUCTS: list[dict[str, str | float]] = [
    {"sku": "tea-01", "name": "Green tea", "price": 4.5},
    {"sku": "mug-02", "name": "Blue mug", "price": 12.0},
    {"sku": "pot-03", "name": "Tea pot", "price": 31.0},
]

log = logging.getLogger("app.shop")
app = Flask("flext-shop")


class PaymentDeclinedError(RuntimeError):
    """The payment provider refused the charge."""


@flext_monitor_function("checkout")
def charge(amount: float, *, fail: bool) -> str:
    """Charge `amount`; the business step whose calls, errors and durations are monitored."""
    if fail:
        msg = f"card declined for {amount:.2f}"
        raise PaymentDeclinedError(msg)
    return f"receipt-{int(amount * 100)}"


@app.get("/")
def index() -> ResponseReturnValue:
    """Say hello."""
    return "flext-shop is open\n"


@app.get("/products")
def products() -> ResponseReturnValue:
    """List the catalogue."""
    log.info("listing %d products", len(PRODUCTS))
    return jsonify(PRODUCTS)


@app.get("/checkout")
def checkout() -> ResponseReturnValue:
    """Charge the basket; `?fail=1` makes the payment fail (500 and an error span)."""
    fail = request.args.get("fail") == "1"
    amount = sum(float(item["price"]) for item in PRODUCTS[:2])
    try:
        receipt = charge(amount, fail=fail)
    except PaymentDeclinedError:
        log.exception("checkout failed")
        raise
    log.info("checkout ok: %s", receipt)
    return jsonify({"receipt": receipt, "amount": amount})


@app.get("/order")
def order() -> ResponseReturnValue:
    """Place an order: fetch the catalogue from this same service (a traced downstream call)."""
    response = requests.get(f"http://127.0.0.1:{PORT}/products", timeout=5)
    if response.status_code != 200:
        log.warning("catalogue answered %d", response.status_code)
        return jsonify({"error": "catalogue unavailable"}), 502
    items = response.json()
    log.info("order placed with %d items", len(items))
    return jsonify({"ordered": [item["sku"] for item in items]})


def _stop(signum: int, _frame: types.FrameType | None) -> None:
    """Turn SIGTERM into the KeyboardInterrupt the dev server exits cleanly on."""
    log.info("stopping on signal %d", signum)
    raise KeyboardInterrupt


def main() -> None:
    """Serve until SIGINT or SIGTERM; the exit hooks then flush and close the telemetry."""
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    print(f"flext-shop listening on http://127.0.0.1:{PORT}", flush=True)
    app.run(host="127.0.0.1", port=PORT, threaded=True, debug=False, use_reloader=False)
    log.info("flext-shop stopped")


if __name__ == "__main__":
    main()
