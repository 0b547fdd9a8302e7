"""What the OpenTelemetry spans cost a REST call: absent, API without SDK, SDK recording.

Usage: .venv/bin/python benchmarks/tracing.py [--calls 2000]

Times ``Transport.send`` (the decorated REST call) against a local HTTP
server that answers ``{}`` at once, so the figure is the client's own cost,
then the decorator alone around a function that does nothing. Three modes:
``opentelemetry`` not importable (simulated by the tracer lookup answering
``None``, as it does without the package), the API with no SDK configured
(its no-op tracer), and the SDK recording every span (no exporter).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pusher_django import tracing
from pusher_django.transport import Transport
from tests.support.empty_api import empty_api


def median_us(call: Callable[[], object], calls: int) -> float:
    for _ in range(min(100, calls)):
        call()
    samples = []
    for _ in range(calls):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1e6)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    calls = parser.parse_args().calls

    with empty_api() as port:
        run(calls, Transport(f"http://127.0.0.1:{port}", 5))


def run(calls: int, transport: Transport) -> None:
    undecorated = Transport.send.__wrapped__  # type: ignore[attr-defined]

    def rest_plain() -> object:
        return undecorated(transport, "POST", "/apps/1/events", {}, b"{}")

    def rest_traced() -> object:
        return transport.send("POST", "/apps/1/events", {}, b"{}")

    def nothing() -> None:
        return None

    wrapped = tracing.traced("bench")(nothing)
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider

    modes: dict[str, Callable[[], None]] = {
        "opentelemetry absent": lambda: setattr(tracing, "_tracer", lambda: None),
        "API, no SDK (no-op)": lambda: setattr(tracing, "_tracer", real_tracer),
        "SDK recording spans": lambda: trace.set_tracer_provider(TracerProvider()),
    }
    real_tracer = tracing._tracer
    plain_rest = median_us(rest_plain, calls)
    plain_nothing = median_us(nothing, calls * 10)
    print(f"median µs per call, {calls} REST calls to a local server (machine shared, noisy)")
    print(f"{'mode':<24}{'REST call':>12}{'undecorated':>14}{'decorator alone':>18}{'bare':>8}")
    for name, enter in modes.items():
        enter()
        rest = median_us(rest_traced, calls)
        alone = median_us(wrapped, calls * 10)
        print(f"{name:<24}{rest:>12.1f}{plain_rest:>14.1f}{alone:>18.2f}{plain_nothing:>8.2f}")


if __name__ == "__main__":
    main()
