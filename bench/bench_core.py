"""alchemical-core behind NGINX: throughput and p99 of the hot endpoints against /health in the same run.

    .venv/bin/python bench/bench_core.py [--runs 3] [--seconds 8]

Targets (issue 3, one uvicorn worker): elemental and thermodynamics ≥ 60 % of /health throughput,
current-hour ≥ 70 %, p99 of each ≤ 25 ms (p99 measured at a paced load of 50 % of /health's saturated
rate, so the figure is latency, not queueing).
"""

from __future__ import annotations

import argparse
import statistics

from harness import compare, header, machine_load, report, service_behind_nginx

CASES = [
    (
        "POST /calculate/elemental",
        "POST",
        "/calculate/elemental",
        {"ingredients": ["tomato", "basil", "mozzarella"]},
    ),
    (
        "POST /calculate/thermodynamics",
        "POST",
        "/calculate/thermodynamics",
        {"Fire": 0.3, "Water": 0.2, "Earth": 0.3, "Air": 0.2},
    ),
    ("GET /planetary/current-hour", "GET", "/planetary/current-hour", None),
    ("POST /alchemize", "POST", "/alchemize", {}),
]
TARGETS = {
    "POST /calculate/elemental": 0.60,
    "POST /calculate/thermodynamics": 0.60,
    "GET /planetary/current-hour": 0.70,
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=8)
    args = parser.parse_args()
    header("alchemical-core behind NGINX, 1 uvicorn worker, wrk -t2 -c64")
    # Rate limits off: the anonymous tier (50 per 15 min) would turn the load into 429s; the cost of the
    # limiter itself is measured by bench/bench_auth.py. Usage recording stays on (production default).
    env = {"ALCHM_RATELIMIT_ENABLED": "false"}
    with service_behind_nginx("services.alchemical_core.main:app", env) as (gateway, _direct):
        compare(gateway, CASES, runs=1, seconds=2)  # warm-up
        saturated = compare(gateway, CASES, runs=args.runs, seconds=args.seconds)
        print("\n-- throughput (saturated, medians of", args.runs, "runs)")
        for line in report(saturated, TARGETS):
            print(line)
        rate = 0.5 * statistics.median(r.rps for r in saturated["health"])
        paced = compare(gateway, CASES, runs=args.runs, seconds=args.seconds, rate=rate)
        print(
            f"\n-- latency at a paced {rate:.0f} req/s (50 % of /health's saturated rate); target p99 ≤ 25 ms"
        )
        for line in report(paced):
            print(line)
    print(f"\n   busiest processes after: {machine_load()}")


if __name__ == "__main__":
    main()
