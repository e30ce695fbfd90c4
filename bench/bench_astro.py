"""Micro-benchmark of the pure astronomy engines (``shared.astro``).

    .venv/bin/python bench/bench_astro.py [--repeats N]

Prints the median (and min) of several timed repeats, after a warm-up, in microseconds or milliseconds:

* all ten positions at one instant, uncached (``compute_positions``: 30 PyEphem evaluations incl. speed);
* the per-minute cache hit (``positions_for_minute``);
* one planetary-hour lookup, cold (empty caches: two planetary days = three sun days) and cached;
* sunrise/sunset/next sunrise for one date and place (``sun_events``);
* moon phase and the next four lunar phases;
* a 7-day and a 30-day event search (all types).

Timings use ``time.perf_counter_ns``. The machine is shared: check it is quiet (``ps -eo pcpu,args
--sort=-pcpu | head``) and compare figures from the same run (design/performance.md).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from shared.astro import (  # noqa: E402
    clear_hour_cache,
    clear_position_cache,
    compute_positions,
    find_events,
    moon_phase,
    next_lunar_phases,
    planetary_hour,
    positions_for_minute,
    sun_events,
)

NYC = (40.7128, -74.0060, "America/New_York")
AT = datetime(2024, 6, 19, 16, 30, 12, tzinfo=UTC)


def measure(
    fn: Callable[[], object],
    inner: int,
    repeats: int,
    setup: Callable[[], object] | None = None,
    warmup: int = 2,
) -> tuple[float, float]:
    """Median and minimum time per call in nanoseconds over ``repeats`` batches of ``inner`` calls."""
    for _ in range(warmup):
        if setup:
            setup()
        fn()
    samples = []
    for _ in range(repeats):
        total = 0
        for _ in range(inner):
            if setup:
                setup()
            t0 = time.perf_counter_ns()
            fn()
            total += time.perf_counter_ns() - t0
        samples.append(total / inner)
    return statistics.median(samples), min(samples)


def fmt(ns: float) -> str:
    if ns >= 1e6:
        return f"{ns / 1e6:9.2f} ms"
    return f"{ns / 1e3:9.1f} µs"


def main() -> None:
    parser = argparse.ArgumentParser(description="shared.astro micro-benchmarks")
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    r = args.repeats
    counter = iter(range(10**9))

    def fresh_instant() -> datetime:
        return AT + timedelta(minutes=next(counter))

    def cold_hour() -> None:
        clear_hour_cache()

    rows: list[tuple[str, tuple[float, float]]] = [
        ("compute_positions (10 bodies + speed, uncached)", measure(lambda: compute_positions(AT), 50, r)),
        ("positions_for_minute, cache miss", measure(lambda: positions_for_minute(fresh_instant()), 20, r)),
        ("positions_for_minute, cache hit", measure(lambda: positions_for_minute(AT), 20000, r)),
        (
            "planetary_hour, cold (empty caches)",
            measure(lambda: planetary_hour(AT, *NYC), 20, r, setup=cold_hour),
        ),
        ("planetary_hour, cached", measure(lambda: planetary_hour(AT, *NYC), 20000, r)),
        (
            "sun_events (sunrise, sunset, next sunrise)",
            measure(lambda: sun_events(date(2024, 6, 19), *NYC), 50, r),
        ),
        ("moon_phase", measure(lambda: moon_phase(AT), 500, r)),
        ("next_lunar_phases", measure(lambda: next_lunar_phases(AT), 20, r)),
        ("find_events, 7 days, all types", measure(lambda: find_events(AT, AT + timedelta(days=7)), 1, r)),
        ("find_events, 30 days, all types", measure(lambda: find_events(AT, AT + timedelta(days=30)), 1, r)),
    ]
    clear_position_cache()
    clear_hour_cache()
    print(f"shared.astro micro-benchmarks (median of {r} repeats; min in brackets)")
    for label, (median, best) in rows:
        print(f"  {label:50s} {fmt(median)}  [{fmt(best).strip()}]")


if __name__ == "__main__":
    main()
