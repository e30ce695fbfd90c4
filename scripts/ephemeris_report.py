"""Accuracy report of ``shared.astro`` against JPL DE421 (skyfield + skyfield-data, offline).

    .venv/bin/python scripts/ephemeris_report.py            # full report (~1 min)
    .venv/bin/python scripts/ephemeris_report.py --quick    # fewer samples
    .venv/bin/python scripts/ephemeris_report.py --pluto-knots   # recompute the Pluto drift table

Prints: max longitude error per body (arcsec) and sign/retrograde disagreements over random instants in
1950–2050; max sunrise/sunset error over 22 cities × 12 dates; every day of a year at five high-latitude
places (event presence, times, statuses); the sunrise shift caused
by the planetary-hour cache's 0.01° rounding; Moon elongation and next-phase errors; ingress and station
time errors over a year. The reference helpers live in ``tests/unit/astro/skyref.py``.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from shared.astro import BODY_NAMES, SIGNS, compute_positions, find_events, moon_phase, next_lunar_phases  # noqa: E402
from shared.astro._core import apparent_ecliptic, new_body, pluto_drift_arcsec, to_djd  # noqa: E402
from shared.astro.sun import sun_events  # noqa: E402
from tests.unit.astro.skyref import CITIES, City, SkyRef, local_midnight, secant_roots, wrap180  # noqa: E402


def positions(sky: SkyRef, n: int) -> None:
    rng = random.Random(1)
    start = datetime(1950, 1, 1, tzinfo=UTC)
    span = (datetime(2050, 1, 1, tzinfo=UTC) - start).total_seconds()
    instants = sorted(start + timedelta(seconds=rng.random() * span) for _ in range(n))
    ours = [compute_positions(t) for t in instants]
    tt = sky.t(instants).tt
    h = 0.01
    print(f"\nPositions: {n} random instants 1950–2050, apparent ecliptic of date vs DE421")
    print(f"{'body':8s} {'max″':>7s} {'median″':>8s} {'sign≠':>6s} {'retro≠':>7s}")
    for body in BODY_NAMES:
        offs = (0.0, -h, h, -2 - h, -2 + h, 2 - h, 2 + h)
        lon = np.asarray(sky.lon_tt(body, np.concatenate([tt + o for o in offs]))).reshape(len(offs), n)
        speed = wrap180(lon[2] - lon[1]) / (2 * h)
        near_station = (np.sign(wrap180(lon[4] - lon[3])) != np.sign(speed)) | (
            np.sign(wrap180(lon[6] - lon[5])) != np.sign(speed)
        )
        our = np.array([o[body].longitude for o in ours])
        err = np.abs(wrap180(our - lon[0])) * 3600
        in_sign = lon[0] % 30
        away = (in_sign > 0.01) & (in_sign < 29.99)
        ref_sign = np.array([SIGNS[int(x // 30) % 12] for x in lon[0]])
        sign_bad = int(np.sum(away & (ref_sign != np.array([o[body].sign for o in ours]))))
        expected_retro = (speed < 0) & (body not in ("Sun", "Moon"))
        retro_bad = int(
            np.sum(~near_station & (expected_retro != np.array([o[body].retrograde for o in ours])))
        )
        print(f"{body:8s} {err.max():7.2f} {np.median(err):8.2f} {sign_bad:6d} {retro_bad:7d}")


def sunrise(sky: SkyRef, dates: list[date]) -> None:
    print(
        f"\nSunrise/sunset/next sunrise: {len(CITIES)} cities × {len(dates)} dates vs skyfield find_risings"
    )
    worst = 0.0
    errors: list[float] = []
    status_mismatch = 0
    for city in CITIES:
        city_worst = 0.0
        for d in dates:
            ours = sun_events(d, city.lat, city.lon, city.tz)
            ref = sky.sun_day(city.lat, city.lon, city.tz, d)
            for a, b in (
                (ours.sunrise, ref.sunrise),
                (ours.sunset, ref.sunset),
                (ours.next_sunrise, ref.next_sunrise),
            ):
                if (a is None) != (b is None):
                    status_mismatch += 1
                elif a is not None and b is not None:
                    e = abs((a - b).total_seconds())
                    errors.append(e)
                    city_worst = max(city_worst, e)
        worst = max(worst, city_worst)
        print(f"  {city.name:14s} max {city_worst:6.2f} s")
    print(f"max error {worst:.2f} s, median {np.median(errors):.2f} s, presence mismatches {status_mismatch}")


POLAR_PLACES = (
    City("Tromso", 69.6492, 18.9553, "Europe/Oslo"),
    City("Vardo", 70.37, 31.11, "Europe/Oslo"),
    City("Utqiagvik", 71.29, -156.79, "America/Anchorage"),
    City("McMurdo", -77.85, 166.67, "Antarctica/McMurdo"),
    City("Rovaniemi", 66.50, 25.73, "Europe/Helsinki"),
)


def polar_year(sky: SkyRef, year: int) -> None:
    """Every day of a year at high-latitude places: presence and times of every event vs skyfield."""
    print(f"\nPolar sweep {year}: every local date, sunrise/sunset/next sunrise presence and times")
    for place in POLAR_PLACES:
        start = local_midnight(date(year, 1, 1), place.tz)
        end = local_midnight(date(year + 1, 1, 3), place.tz)
        rises = sky.risings(place.lat, place.lon, start, end)
        sets = sky.settings(place.lat, place.lon, start, end)
        statuses: Counter[str] = Counter()
        mismatches = 0
        worst = 0.0
        d = date(year, 1, 1)
        while d.year == year:
            ours = sun_events(d, place.lat, place.lon, place.tz)
            statuses[ours.status] += 1
            m0, m1, m2 = (local_midnight(d + timedelta(days=k), place.tz) for k in range(3))
            rise = next((t for t in rises if m0 <= t < m1), None)
            set_ = next((t for t in sets if rise and rise < t < m2), None)
            nxt = next((t for t in rises if set_ and set_ < t < m2), None)
            for a, b in ((ours.sunrise, rise), (ours.sunset, set_), (ours.next_sunrise, nxt)):
                if (a is None) != (b is None):
                    mismatches += 1
                elif a is not None and b is not None:
                    worst = max(worst, abs((a - b).total_seconds()))
            d += timedelta(days=1)
        print(f"  {place.name:10s} max {worst:5.2f} s, presence mismatches {mismatches}, {dict(statuses)}")


def rounding_effect(dates: list[date]) -> None:
    print("\nSunrise/sunset shift caused by rounding coordinates to 0.01° (worst corner of ±0.005°)")
    for city in CITIES:
        worst = 0.0
        for d in dates:
            base = sun_events(d, city.lat, city.lon, city.tz)
            for dlat, dlon in ((0.005, 0.005), (-0.005, -0.005), (0.005, -0.005), (-0.005, 0.005)):
                lat = max(-90.0, min(90.0, city.lat + dlat))
                moved = sun_events(d, lat, city.lon + dlon, city.tz)
                for a, b in ((base.sunrise, moved.sunrise), (base.sunset, moved.sunset)):
                    if a is not None and b is not None:
                        worst = max(worst, abs((a - b).total_seconds()))
        print(f"  {city.name:14s} (lat {city.lat:6.2f}) max shift {worst:6.2f} s")


def moon(sky: SkyRef) -> None:
    instants = [datetime(1960, 1, 1, tzinfo=UTC) + timedelta(days=97.3 * k) for k in range(330)]
    ref = sky.elongation(instants)
    err = max(abs(wrap180(moon_phase(t).elongation - r)) for t, r in zip(instants, ref, strict=True))
    illum = max(abs(moon_phase(t).illumination - sky.fraction_illuminated(t)) for t in instants[::10])
    print(f"\nMoon: max elongation error {err * 3600:.1f}″, max illumination error {illum:.4f}")
    worst = 0.0
    keys = ("new_moon", "first_quarter", "full_moon", "last_quarter")
    for year in range(1960, 2050, 6):
        start = datetime(year, 3, 3, tzinfo=UTC)
        ours = next_lunar_phases(start)
        quarters = sky.moon_quarters(start, start + timedelta(days=32))
        for q, key in enumerate(keys):
            expected = min(t for qq, t in quarters if qq == q)
            worst = max(worst, abs((getattr(ours, key) - expected).total_seconds()))
    print(f"      max next-phase time error {worst:.1f} s (15 starts 1960–2044)")


def events(sky: SkyRef, year: int) -> None:
    start = datetime(year, 1, 1, tzinfo=UTC)
    t0 = time.perf_counter()
    found = find_events(start, start + timedelta(days=366), ["ingress", "station"])
    elapsed = time.perf_counter() - t0
    print(f"\nEvents {year}: {len(found)} ingresses/stations found in {elapsed:.2f} s")
    for kind in ("ingress", "station"):
        for body in BODY_NAMES:
            mine = [e for e in found if e.type.startswith(kind) and e.bodies == (body,)]
            if not mine:
                continue
            tt = sky.t([e.at for e in mine]).tt
            if kind == "ingress":
                cusps = np.array([e.longitude for e in mine])

                def offset(x: np.ndarray, b: str = body, c: np.ndarray = cusps) -> np.ndarray:
                    return wrap180(np.asarray(sky.lon_tt(b, x)) - c)

                roots = secant_roots(offset, tt - 0.01, tt + 0.01, iterations=5)
            else:

                def speed(x: np.ndarray, b: str = body) -> np.ndarray:
                    lon = np.asarray(sky.lon_tt(b, np.concatenate([x - 0.01, x + 0.01]))).reshape(2, -1)
                    return wrap180(lon[1] - lon[0]) / 0.02

                roots = secant_roots(speed, tt - 0.5, tt + 0.5, iterations=6, verify_s=10.0)
            errs = np.abs(
                np.array([e.at.timestamp() for e in mine])
                - np.array([t.timestamp() for t in sky.ts.tt_jd(roots).utc_datetime()])
            )
            print(f"  {kind:8s} {body:8s} n={len(mine):3d} max error {errs.max() / 60:8.2f} min")


def pluto_knots(sky: SkyRef) -> None:
    """Recompute the PyEphem − DE421 Pluto drift table (raw PyEphem, correction removed)."""
    body = new_body("Pluto")
    values = []
    for year in range(1900, 2051, 5):
        centre = datetime(year, 1, 1, tzinfo=UTC)
        instants = [centre + timedelta(days=float(d)) for d in np.arange(-365.25, 365.26, 5.0)]
        instants = [t for t in instants if t > datetime(1899, 8, 1, tzinfo=UTC)]
        ref = np.asarray(sky.lon("Pluto", instants))
        raw = np.array(
            [apparent_ecliptic(body, to_djd(t))[0] + pluto_drift_arcsec(to_djd(t)) / 3600 for t in instants]
        )
        values.append(float(np.mean(wrap180(raw - ref) * 3600)))
    print("PLUTO_DRIFT_KNOTS_ARCSEC (1900, 1905, …, 2050):")
    print(", ".join(f"{v:.2f}" for v in values))
    print(f"final slope (last decade): {(values[-1] - values[-3]) / 10:.3f} arcsec/yr")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="fewer samples")
    parser.add_argument("--pluto-knots", action="store_true", help="recompute the Pluto drift table and exit")
    args = parser.parse_args()
    sky = SkyRef()
    if args.pluto_knots:
        pluto_knots(sky)
        return
    n = 300 if args.quick else 1000
    months = (
        [date(2024, m, 21) for m in (3, 6, 12)] if args.quick else [date(2024, m, 21) for m in range(1, 13)]
    )
    positions(sky, n)
    sunrise(sky, months)
    if not args.quick:
        polar_year(sky, 2024)
    rounding_effect([date(2024, 6, 21), date(2024, 12, 21), date(2024, 3, 20)])
    moon(sky)
    events(sky, 2024)


if __name__ == "__main__":
    main()
