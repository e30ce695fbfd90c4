"""Celestial events: exact times against roots found independently with skyfield/DE421."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from shared.astro import EVENT_TYPES, CelestialEvent, find_events, next_lunar_phases
from shared.astro.events import ASPECTS
from tests.unit.astro.skyref import SkyRef, secant_roots, wrap180

FAST = ("Sun", "Moon", "Mercury", "Venus", "Mars")
YEAR_START = datetime(2024, 1, 1, tzinfo=UTC)
YEAR_END = datetime(2025, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def year_events() -> list[CelestialEvent]:
    """Ingresses and stations of 2024 (plus Pluto's 2023 ingresses)."""
    return find_events(
        datetime(2023, 3, 1, tzinfo=UTC), datetime(2023, 7, 1, tzinfo=UTC), ["ingress"]
    ) + find_events(YEAR_START, YEAR_END, ["ingress", "station"])


def _ingress_roots(sky: SkyRef, body: str, events: list[CelestialEvent]) -> np.ndarray:
    """DE421 ingress times (UTC seconds) for the cusps of ``events``, by secant iteration from ±δ."""
    cusps = np.array([e.longitude for e in events])
    tt = sky.t([e.at for e in events]).tt
    delta = 600.0 / 86400.0 if body in FAST else 0.25

    def f(x: np.ndarray) -> np.ndarray:
        return wrap180(np.asarray(sky.lon_tt(body, x)) - cusps)

    roots = secant_roots(f, tt - delta, tt + delta, iterations=4)
    return np.array([t.timestamp() for t in sky.ts.tt_jd(roots).utc_datetime()])


def _station_roots(sky: SkyRef, body: str, events: list[CelestialEvent]) -> np.ndarray:
    """DE421 station times (UTC seconds): roots of the central-difference speed."""
    tt = sky.t([e.at for e in events]).tt
    h = 0.01
    delta = 0.2 if body in FAST else 1.0

    def f(x: np.ndarray) -> np.ndarray:
        lon = np.asarray(sky.lon_tt(body, np.concatenate([x - h, x + h]))).reshape(2, -1)
        return wrap180(lon[1] - lon[0]) / (2 * h)

    roots = secant_roots(f, tt - delta, tt + delta, iterations=5, verify_s=10.0)
    return np.array([t.timestamp() for t in sky.ts.tt_jd(roots).utc_datetime()])


SIGN_NAMES = ("aries", "taurus", "gemini", "cancer", "leo", "virgo", "libra", "scorpio", "sagittarius",
              "capricorn", "aquarius", "pisces")  # fmt: skip


def test_ingress_times_match_reference(sky: SkyRef, year_events: list[CelestialEvent]) -> None:
    ingresses = [e for e in year_events if e.type == "ingress"]
    worst: dict[str, float] = {}
    for body in {e.bodies[0] for e in ingresses}:
        mine = [e for e in ingresses if e.bodies[0] == body]
        roots = _ingress_roots(sky, body, mine)
        errors = np.abs(np.array([e.at.timestamp() for e in mine]) - roots)
        worst[body] = float(errors.max())
        limit = 300.0 if body in FAST else 3 * 3600.0
        for event, err in zip(mine, errors, strict=True):
            assert err <= limit, f"{event.id}: {err:.0f} s from DE421"
            assert event.longitude % 30.0 == pytest.approx(0.0, abs=1e-9)
            # The sign entered lies on the side the body is moving to.
            cusp_index = round(event.longitude / 30.0) % 12
            expected = cusp_index if event.subtype == "direct" else (cusp_index - 1) % 12
            assert event.sign == SIGN_NAMES[expected]
    print("worst ingress error vs DE421 (s):", {b: round(v, 1) for b, v in sorted(worst.items())})
    assert {"Sun", "Moon", "Mercury", "Venus", "Mars", "Jupiter", "Pluto"} <= set(worst)
    # Pluto went back and forth across 0° Aquarius in 2023-2024: both directions are found.
    pluto = [e for e in ingresses if e.bodies == ("Pluto",)]
    assert {e.subtype for e in pluto} == {"direct", "retrograde"} and len(pluto) >= 4


def test_slow_planet_ingresses_2025(sky: SkyRef) -> None:
    events = find_events(datetime(2025, 3, 1, tzinfo=UTC), datetime(2025, 8, 1, tzinfo=UTC), ["ingress"])
    slow = [e for e in events if e.bodies[0] in ("Saturn", "Uranus", "Neptune")]
    assert {e.bodies[0] for e in slow} == {"Saturn", "Uranus", "Neptune"}
    for event in slow:
        root = _ingress_roots(sky, event.bodies[0], [event])[0]
        assert abs(event.at.timestamp() - root) <= 3 * 3600, event.id


def test_stations_within_one_hour(sky: SkyRef, year_events: list[CelestialEvent]) -> None:
    stations = [e for e in year_events if e.type.startswith("station")]
    bodies = {e.bodies[0] for e in stations}
    assert bodies == {
        "Mercury",
        "Mars",
        "Jupiter",
        "Saturn",
        "Uranus",
        "Neptune",
        "Pluto",
    }  # no Venus station in 2024
    worst = 0.0
    for body in bodies:
        mine = [e for e in stations if e.bodies[0] == body]
        roots = _station_roots(sky, body, mine)
        for event, root in zip(mine, roots, strict=True):
            err = abs(event.at.timestamp() - root)
            worst = max(worst, err)
            assert err <= 3600.0, f"{event.id}: {err / 60:.1f} min from DE421"
            before = float(sky.speed(body, event.at - timedelta(days=5)))
            assert (before > 0) == (event.type == "station_retrograde")
    print(f"worst station error vs DE421: {worst / 60:.1f} min")
    mercury = [e.at for e in stations if e.bodies == ("Mercury",)]
    assert any(abs((t - datetime(2024, 4, 1, 22, 14, tzinfo=UTC)).total_seconds()) < 600 for t in mercury)


def test_aspects_are_exact_at_claimed_time(sky: SkyRef) -> None:
    events = find_events(datetime(2024, 3, 1, tzinfo=UTC), datetime(2024, 4, 1, tzinfo=UTC), ["aspect"])
    angles = {name: angle for name, angle, _ in ASPECTS}
    assert len(events) > 30
    seen = set()
    worst = 0.0
    times = [e.at for e in events]
    lon = {body: np.asarray(sky.lon(body, times)) for body in {b for e in events for b in e.bodies}}
    for i, event in enumerate(events):
        a, b = event.bodies
        seen.add(event.subtype)
        separation = float(lon[a][i] - lon[b][i])
        target = angles[event.subtype]
        orb = min(abs(wrap180(separation - target)), abs(wrap180(separation + target)))
        worst = max(worst, orb)
        assert orb * 60.0 < 1.0, f"{event.id}: orb {orb * 60:.2f}′"
        assert event.sign is None and 0.0 <= event.intensity <= 1.0
    assert seen == set(angles)
    print(f"worst aspect orb at claimed time: {worst * 3600:.1f}″")


def test_sun_moon_quarters_are_lunar_phases_not_aspects() -> None:
    events = find_events(
        datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 2, 1, tzinfo=UTC), ["aspect", "lunar_phase"]
    )
    sun_moon = [e for e in events if e.type == "aspect" and e.bodies == ("Sun", "Moon")]
    assert {e.subtype for e in sun_moon} <= {"sextile", "trine"} and sun_moon
    phases = [e.subtype for e in events if e.type == "lunar_phase"]
    # January 2024: last quarter 4th, new 11th, first quarter 18th, full 25th.
    assert phases == ["last_quarter", "new_moon", "first_quarter", "full_moon"]


def test_lunar_phases_match_next_lunar_phases_and_reference(sky: SkyRef) -> None:
    start = datetime(2024, 5, 1, tzinfo=UTC)
    events = find_events(start, start + timedelta(days=31), ["lunar_phase"])
    assert len(events) >= 4
    nxt = next_lunar_phases(start)
    ref = sky.moon_quarters(start, start + timedelta(days=31))
    keys = ["new_moon", "first_quarter", "full_moon", "last_quarter"]
    for event in events:
        expected = next(
            t for q, t in ref if keys[q] == event.subtype and abs((t - event.at).total_seconds()) < 86400
        )
        assert abs((event.at - expected).total_seconds()) < 120
        if abs(getattr(nxt, event.subtype) - event.at) < timedelta(hours=1):
            assert abs((getattr(nxt, event.subtype) - event.at).total_seconds()) <= 1.5
        assert event.bodies == ("Sun", "Moon") and event.sign is not None
        assert event.description.lower().startswith(event.subtype.replace("_", " ").split()[0])


def test_sorted_typed_and_serialisable() -> None:
    start = datetime(2024, 6, 1, tzinfo=UTC)
    events = find_events(start, start + timedelta(days=7))
    assert events == sorted(events, key=lambda e: e.at)
    assert {e.type for e in events} <= set(EVENT_TYPES)
    assert len({e.id for e in events}) == len(events)
    for e in events:
        assert start <= e.at < start + timedelta(days=7)
        assert e.at.tzinfo is UTC and e.at.microsecond == 0
        d = e.to_dict()
        assert d["at"].endswith("Z") and d["timestamp"] == int(e.at.timestamp() * 1000)
        assert d["id"] == f"{e.type}:{'-'.join(e.bodies)}:{e.subtype}:{e.at:%Y-%m-%dT%H:%M}Z"
        assert 0.0 <= e.intensity <= 1.0 and e.description


def test_ids_and_times_do_not_depend_on_the_window() -> None:
    a = find_events(datetime(2024, 2, 1, tzinfo=UTC), datetime(2024, 2, 15, tzinfo=UTC))
    b = find_events(datetime(2024, 2, 5, 7, 13, tzinfo=UTC), datetime(2024, 2, 25, tzinfo=UTC))
    overlap_start, overlap_end = datetime(2024, 2, 5, 7, 13, tzinfo=UTC), datetime(2024, 2, 15, tzinfo=UTC)
    in_a = [e for e in a if overlap_start <= e.at < overlap_end]
    in_b = [e for e in b if e.at < overlap_end]
    assert in_a == in_b and len(in_a) > 10


def test_types_filter_and_station_alias() -> None:
    start, end = datetime(2024, 3, 25, tzinfo=UTC), datetime(2024, 4, 30, tzinfo=UTC)
    only = find_events(start, end, ["station"])
    assert {e.type for e in only} == {"station_retrograde", "station_direct"}
    assert {e.type for e in find_events(start, end, "station_direct")} == {"station_direct"}
    assert find_events(start, end, []) == []
    assert find_events(start, start) == []


def test_window_validation() -> None:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="366"):
        find_events(start, start + timedelta(days=366, seconds=1))
    find_events(start, start + timedelta(days=1), ["lunar_phase"])
    with pytest.raises(ValueError, match="before"):
        find_events(start, start - timedelta(days=1))
    with pytest.raises(ValueError, match="timezone-aware"):
        find_events(datetime(2024, 1, 1), start)
    with pytest.raises(ValueError, match="unknown event type"):
        find_events(start, start + timedelta(days=1), ["eclipse"])


def test_moon_ingress_count_per_month() -> None:
    events = find_events(datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 31, tzinfo=UTC), ["ingress"])
    moon = [e for e in events if e.bodies == ("Moon",)]
    assert 12 <= len(moon) <= 14
    gaps = np.diff([e.at.timestamp() for e in moon]) / 86400.0
    assert gaps.min() > 1.8 and gaps.max() < 3.0
