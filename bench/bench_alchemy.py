"""Micro-benchmark of the pure alchemy engines (design/performance.md budget: alchemize < 0.3 ms).

    .venv/bin/python bench/bench_alchemy.py

Times ``alchemize`` on a 10-planet live-sky chart (longitudes, no distances, no Ascendant — what the live
sky feeds it), plus the pieces, and prints the median of several timeit runs in microseconds.
"""

from __future__ import annotations

import statistics
import sys
import timeit
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from shared.alchemy import alchemize, calculate_esms, parse_chart, thermodynamics  # noqa: E402

LIVE_SKY = {
    "Sun": {"longitude": 84.213},
    "Moon": {"longitude": 201.77},
    "Mercury": {"longitude": 66.02},
    "Venus": {"longitude": 121.4},
    "Mars": {"longitude": 150.9},
    "Jupiter": {"longitude": 97.3},
    "Saturn": {"longitude": 1.6},
    "Uranus": {"longitude": 59.8},
    "Neptune": {"longitude": 2.2},
    "Pluto": {"longitude": 303.5},
}


def median_us(fn: Callable[[], object], number: int = 2000, runs: int = 7) -> float:
    timer = timeit.Timer(fn)
    return statistics.median(timer.timeit(number) / number for _ in range(runs)) * 1e6


def main() -> None:
    chart = parse_chart(LIVE_SKY, distances=False)
    print(f"alchemize (10 planets)  {median_us(lambda: alchemize(chart, True)):8.1f} µs")
    print(f"calculate_esms          {median_us(lambda: calculate_esms(chart, True)):8.1f} µs")
    print(
        f"thermodynamics          {median_us(lambda: thermodynamics(3, 5, 4, 2, 2.1, 1.4, 1.2, 1.9)):8.1f} µs"
    )
    print(f"parse_chart             {median_us(lambda: parse_chart(LIVE_SKY, distances=False)):8.1f} µs")


if __name__ == "__main__":
    main()
