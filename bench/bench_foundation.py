"""The foundation's three figures (issue 2), with a baseline measured in the same run.

    .venv/bin/python bench/bench_foundation.py

Prints the cost of: all ten positions at one instant (uncached) and from the per-minute cache, one
planetary-hour lookup (cold day and cached day), and one full alchemize (positions → chart → sect →
ESMS → thermodynamics) uncached and with the positions cached. Targets: full alchemize < 2 ms on one core,
positions cached per minute < 50 µs. The baseline (a 10,000-step Python loop) shows how fast this machine
is right now, so figures from different runs can be compared as ratios.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from shared.alchemy import ChartPoint, alchemize  # noqa: E402
from shared.astro import (  # noqa: E402
    clear_hour_cache,
    compute_positions,
    is_diurnal,
    planetary_hour,
    positions_for_minute,
)

NY = (40.7128, -74.006, "America/New_York")
BASE = datetime(2026, 11, 22, 19, 0, tzinfo=UTC)


def per_call_us(fn: Callable[[int], object], n: int, repeats: int = 5) -> float:
    """Median over ``repeats`` of the mean cost of ``n`` calls (each call gets its index)."""
    runs = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for i in range(n):
            fn(i)
        runs.append((time.perf_counter() - t0) / n * 1e6)
    return statistics.median(runs)


def full_alchemize(at: datetime, cached: bool) -> object:
    positions = positions_for_minute(at) if cached else compute_positions(at)
    chart = {
        n: ChartPoint(sign=p.sign, degree=p.degree_in_sign, longitude=p.longitude)
        for n, p in positions.items()
    }
    return alchemize(chart, is_diurnal(at, NY[0], NY[1]))


def _verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def main() -> None:
    baseline = per_call_us(lambda _i: sum(range(10_000)), 200)
    print(f"baseline: sum(range(10_000)) {baseline:8.1f} µs  (machine speed reference)")

    uncached = per_call_us(lambda i: compute_positions(BASE + timedelta(seconds=7 * i + 0.5)), 200)
    positions_for_minute(BASE)
    cached = per_call_us(lambda _i: positions_for_minute(BASE), 20_000)
    print(f"ten positions, uncached        {uncached:10.1f} µs")
    print(f"ten positions, per-minute cache {cached:9.2f} µs   (target < 50 µs: {_verdict(cached < 50)})")

    def cold_hour(i: int) -> object:
        clear_hour_cache()
        return planetary_hour(BASE + timedelta(days=i), *NY)

    cold = per_call_us(cold_hour, 50)
    planetary_hour(BASE, *NY)
    warm = per_call_us(lambda _i: planetary_hour(BASE, *NY), 20_000)
    print(f"planetary hour, cold day       {cold:10.1f} µs")
    print(f"planetary hour, cached day     {warm:10.1f} µs")

    full = per_call_us(lambda i: full_alchemize(BASE + timedelta(minutes=i), cached=False), 200)
    full_cached = per_call_us(lambda _i: full_alchemize(BASE, cached=True), 2000)
    print(f"full alchemize, uncached       {full:10.1f} µs   (target < 2000 µs: {_verdict(full < 2000)})")
    print(f"full alchemize, cached minute  {full_cached:10.1f} µs")
    print(
        f"ratios to baseline: uncached alchemize {full / baseline:.1f}×, "
        f"cached positions {cached / baseline:.3f}×"
    )


if __name__ == "__main__":
    main()
