"""Chaldean planetary hours, checked against expectations built independently in the test.

Expected values come from skyfield sunrise/sunset times (DE421) and the small Chaldean formula in
``skyref.expected_ruler``, never from ``shared.astro`` itself. Test coordinates are already rounded to
0.01° so that the engine's cache rounding does not blur the comparison.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.astro import (
    CHALDEAN_ORDER,
    DAY_RULERS,
    LocationError,
    PlanetaryHour,
    day_ruler,
    hour_ruler,
    planetary_hour,
    planetary_hours_for_date,
)
from shared.astro.hours import hour_cache_info
from tests.unit.astro.skyref import CHALDEAN, CITIES, CITY, WEEKDAY_RULER, City, SkyRef, expected_ruler

TOLERANCE_S = 10.0


def _expected_bounds(sky: SkyRef, city: City, d: date) -> list[datetime] | None:
    """25 hour boundaries of the planetary day starting at sunrise on ``d`` (None when polar)."""
    ref = sky.sun_day(city.lat, city.lon, city.tz, d)
    if ref.sunrise is None or ref.sunset is None or ref.next_sunrise is None:
        return None
    day = (ref.sunset - ref.sunrise) / 12
    night = (ref.next_sunrise - ref.sunset) / 12
    return (
        [ref.sunrise + day * k for k in range(12)]
        + [ref.sunset + night * k for k in range(12)]
        + [ref.next_sunrise]
    )


def _expected_hour(sky: SkyRef, city: City, at: datetime) -> tuple[date, int, str, float]:
    """(planetary date, hour index 0..23, ruler, seconds to the nearest boundary) from the reference."""
    local_date = at.astimezone(ZoneInfo(city.tz)).date()
    for d in (local_date, local_date - timedelta(days=1)):
        bounds = _expected_bounds(sky, city, d)
        if bounds is not None and bounds[0] <= at < bounds[-1]:
            k = max(i for i in range(24) if bounds[i] <= at)
            margin = min((at - bounds[k]).total_seconds(), (bounds[k + 1] - at).total_seconds())
            return d, k, expected_ruler(d, k), margin
    raise AssertionError(f"no reference planetary day covers {at}")


def _assert_matches(sky: SkyRef, city: City, at: datetime, hour: PlanetaryHour) -> None:
    assert hour.contains(at)
    d, k, ruler, margin = _expected_hour(sky, city, at)
    if margin < TOLERANCE_S:
        return  # within the sunrise tolerance of a boundary: either neighbouring hour is acceptable
    assert hour.planetary_date == d
    assert hour.hour_number == k + 1
    assert hour.planet == ruler
    assert hour.hour_system == "unequal" and hour.reason is None


def test_weekday_to_day_ruler_map() -> None:
    week = [date(2024, 6, 16) + timedelta(days=i) for i in range(7)]  # Sunday .. Saturday
    names = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
    assert [day_ruler(d) for d in week] == [WEEKDAY_RULER[n] for n in names]
    assert [day_ruler(d) for d in week] == ["Sun", "Moon", "Mars", "Mercury", "Jupiter", "Venus", "Saturn"]
    assert DAY_RULERS[6] == "Sun"  # date.weekday(): Monday = 0


def test_chaldean_sequence() -> None:
    assert list(CHALDEAN_ORDER) == CHALDEAN
    sunday = [hour_ruler("Sun", k) for k in range(7)]
    assert sunday == ["Sun", "Venus", "Mercury", "Moon", "Saturn", "Jupiter", "Mars"]
    # The 25th hour of each day is the next day's ruler: the Chaldean order produces the weekday order.
    for i in range(7):
        d = date(2024, 6, 16) + timedelta(days=i)
        assert hour_ruler(day_ruler(d), 24) == day_ruler(d + timedelta(days=1))


def test_pre_sunrise_belongs_to_previous_day(sky: SkyRef) -> None:
    ny = CITY["New York"]
    at = datetime(2024, 6, 19, 3, 0, tzinfo=ZoneInfo(ny.tz))  # Wednesday 03:00 local, before sunrise
    hour = planetary_hour(at, ny.lat, ny.lon, ny.tz)
    assert hour.planetary_date == date(2024, 6, 18)
    assert hour.day_ruler == "Mars"  # Tuesday's night
    assert not hour.is_daytime
    _assert_matches(sky, ny, at.astimezone(UTC), hour)
    # Tuesday (Mars) night: hour k ruled by CHALDEAN[(index(Mars) + k) % 7]; 03:00 is night hour 9 (k = 20).
    assert hour.hour_number == 21 and hour.period_hour == 9 and hour.planet == "Jupiter"


@pytest.mark.parametrize(
    ("name", "d"),
    [
        ("New York", date(2024, 3, 10)),
        ("New York", date(2024, 11, 3)),
        ("London", date(2024, 3, 31)),
        ("London", date(2024, 10, 27)),
        ("Santiago", date(2024, 9, 8)),
        ("Santiago", date(2024, 4, 6)),
    ],
)
def test_dst_change_days(sky: SkyRef, name: str, d: date) -> None:
    city = CITY[name]
    day = planetary_hours_for_date(d, city.lat, city.lon, city.tz)
    bounds = _expected_bounds(sky, city, d)
    assert bounds is not None
    assert day.hour_system == "unequal"
    weekday = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")[d.weekday()]
    assert day.day_ruler == WEEKDAY_RULER[weekday]
    for k, hour in enumerate(day.hours):
        assert abs((hour.start - bounds[k]).total_seconds()) <= TOLERANCE_S
        assert abs((hour.end - bounds[k + 1]).total_seconds()) <= TOLERANCE_S
        assert hour.planet == expected_ruler(d, k)
    # Instants across the local day, including the skipped / repeated hour (fold=0 and fold=1).
    zone = ZoneInfo(city.tz)
    for hh, mm, fold in ((0, 30, 0), (1, 30, 0), (1, 30, 1), (3, 0, 0), (12, 0, 0), (23, 0, 0)):
        at = datetime(d.year, d.month, d.day, hh, mm, tzinfo=zone, fold=fold).astimezone(UTC)
        _assert_matches(sky, city, at, planetary_hour(at, city.lat, city.lon, city.tz))


@pytest.mark.parametrize("city", CITIES, ids=[c.name for c in CITIES])
def test_all_cities_match_reference(sky: SkyRef, city: City) -> None:
    for d in (date(2024, 3, 20), date(2024, 6, 21), date(2024, 12, 21)):
        bounds = _expected_bounds(sky, city, d)
        day = planetary_hours_for_date(d, city.lat, city.lon, city.tz)
        if bounds is None:
            assert day.hour_system == "equal_fallback"
            continue
        assert day.hour_system == "unequal"
        assert (
            max(abs((h.start - b).total_seconds()) for h, b in zip(day.hours, bounds, strict=False))
            <= TOLERANCE_S
        )
        assert [h.planet for h in day.hours] == [expected_ruler(d, k) for k in range(24)]
        local_noon = datetime(d.year, d.month, d.day, 12, tzinfo=ZoneInfo(city.tz)).astimezone(UTC)
        for at in (local_noon, local_noon + timedelta(hours=11)):
            _assert_matches(sky, city, at, planetary_hour(at, city.lat, city.lon, city.tz))


def test_reykjavik_23h_is_day_hour_12() -> None:
    city = CITY["Reykjavik"]
    hour = planetary_hour(datetime(2024, 6, 21, 23, 0, tzinfo=UTC), city.lat, city.lon, city.tz)
    assert hour.is_daytime and hour.hour_number == 12 and hour.planet == "Jupiter"  # Friday: Venus .. Jupiter


@pytest.mark.parametrize("name", ["New York", "Sydney", "Reykjavik", "Kathmandu", "Kiritimati"])
def test_hours_contiguous_and_cover_sunrise_to_next_sunrise(name: str) -> None:
    city = CITY[name]
    for offset in range(0, 365, 61):
        d = date(2024, 1, 1) + timedelta(days=offset)
        day = planetary_hours_for_date(d, city.lat, city.lon, city.tz)
        nxt = planetary_hours_for_date(d + timedelta(days=1), city.lat, city.lon, city.tz)
        assert len(day.hours) == 24
        assert day.hours[0].start == day.sunrise and day.hours[11].end == day.sunset
        assert day.hours[-1].end == day.next_sunrise == nxt.hours[0].start
        for a, b in zip(day.hours, day.hours[1:], strict=False):
            assert a.end == b.start
        assert all(h.end > h.start for h in day.hours)
        assert [h.hour_number for h in day.hours] == list(range(1, 25))
        assert [h.period_hour for h in day.hours] == list(range(1, 13)) * 2
        assert [h.is_daytime for h in day.hours] == [True] * 12 + [False] * 12
        day_lengths = {round((h.end - h.start).total_seconds(), 3) for h in day.hours[:12]}
        assert max(day_lengths) - min(day_lengths) < 0.01


def test_midnight_sun_falls_back_to_equal_hours() -> None:
    city = CITY["Tromso"]
    day = planetary_hours_for_date(date(2024, 6, 21), city.lat, city.lon, city.tz)
    assert day.hour_system == "equal_fallback"
    assert day.reason is not None and "midnight sun" in day.reason
    assert day.sun_status == "midnight_sun"
    assert day.sunrise is None and day.sunset is None
    assert day.day_ruler == "Venus"  # Friday
    local = ZoneInfo(city.tz)
    assert day.hours[0].start == datetime(2024, 6, 21, 6, tzinfo=local).astimezone(UTC)
    assert day.hours[12].start == datetime(2024, 6, 21, 18, tzinfo=local).astimezone(UTC)
    assert day.hours[-1].end == datetime(2024, 6, 22, 6, tzinfo=local).astimezone(UTC)
    assert all(h.end - h.start == timedelta(hours=1) for h in day.hours)
    assert [h.planet for h in day.hours] == [expected_ruler(date(2024, 6, 21), k) for k in range(24)]
    # 03:00 local on the 21st is still the 20th's (Thursday, Jupiter) fallback night.
    hour = planetary_hour(datetime(2024, 6, 21, 3, tzinfo=local), city.lat, city.lon, city.tz)
    assert hour.hour_system == "equal_fallback" and hour.planetary_date == date(2024, 6, 20)
    assert hour.day_ruler == "Jupiter" and not hour.is_daytime and hour.hour_number == 22
    assert hour.to_dict()["hourSystem"] == "equal_fallback"


def test_polar_night_falls_back_to_equal_hours() -> None:
    city = CITY["Tromso"]
    day = planetary_hours_for_date(date(2024, 12, 21), city.lat, city.lon, city.tz)
    assert day.hour_system == "equal_fallback" and day.sun_status == "polar_night"
    assert day.reason is not None and "polar night" in day.reason
    assert day.day_ruler == "Saturn"  # Saturday
    hour = planetary_hour(datetime(2024, 12, 21, 12, tzinfo=UTC), city.lat, city.lon, city.tz)
    assert hour.hour_system == "equal_fallback" and hour.is_daytime and hour.sunrise is None


def test_polar_transitions_always_answer_a_containing_hour(sky: SkyRef) -> None:
    city = CITY["Tromso"]
    # Same dates as the sun test (the reference sun days are memoised and shared); all four transitions.
    systems = set()
    for start in (date(2024, 5, 14), date(2024, 7, 24), date(2024, 11, 23), date(2025, 1, 14)):
        t = datetime(start.year, start.month, start.day, tzinfo=UTC)
        for _ in range(5 * 24 // 3):
            hour = planetary_hour(t, city.lat, city.lon, city.tz)
            assert hour.contains(t)
            assert hour.hour_system in ("unequal", "equal_fallback")
            assert (hour.reason is None) == (hour.hour_system == "unequal")
            if hour.hour_system == "unequal":
                _assert_matches(sky, city, t, hour)
            systems.add(hour.hour_system)
            t += timedelta(hours=3)
    assert systems == {"unequal", "equal_fallback"}


def test_cache_rounds_coordinates_to_hundredths() -> None:
    a = planetary_hours_for_date(date(2024, 6, 21), 40.712776, -74.005974, "America/New_York")
    before = hour_cache_info().hits
    b = planetary_hours_for_date(date(2024, 6, 21), 40.71, -74.01, "America/New_York")
    assert a is b and hour_cache_info().hits == before + 1
    assert (a.latitude, a.longitude) == (40.71, -74.01)
    assert planetary_hours_for_date(date(2024, 6, 21), 40.7128, -74.006, ZoneInfo("America/New_York")) is a


def test_validation_errors_name_the_field() -> None:
    at = datetime(2024, 1, 1, tzinfo=UTC)
    cases = [
        ((at, -90.5, 0.0, "UTC"), "lat"),
        ((at, float("nan"), 0.0, "UTC"), "lat"),
        ((at, 0.0, 180.01, "UTC"), "lon"),
        ((at, 0.0, -181.0, "UTC"), "lon"),
        ((at, 0.0, 0.0, "Not/AZone"), "tz"),
        ((at, 0.0, 0.0, ""), "tz"),
        ((at, 0.0, 0.0, "../../etc/passwd"), "tz"),
    ]
    for args, field in cases:
        with pytest.raises(LocationError) as err:
            planetary_hour(*args)
        assert err.value.field == field and isinstance(err.value, ValueError)
        assert field in str(err.value)
    with pytest.raises(LocationError) as err:
        planetary_hours_for_date(date(2024, 1, 1), 0.0, 0.0, "Europe/Atlantis")
    assert err.value.field == "tz" and "Europe/Atlantis" in err.value.reason
    with pytest.raises(ValueError, match="timezone-aware"):
        planetary_hour(datetime(2024, 1, 1), 0.0, 0.0, "UTC")
    # Boundaries are valid.
    planetary_hours_for_date(date(2024, 3, 20), 90.0, 180.0, "UTC")
    planetary_hours_for_date(date(2024, 3, 20), -90.0, -180.0, "UTC")


_MID_LATITUDE = [c for c in CITIES if abs(c.lat) < 60]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    city=st.sampled_from(_MID_LATITUDE),
    seconds=st.integers(min_value=0, max_value=10 * 365 * 86400),
)
def test_property_hour_contains_instant_and_follows_chaldean_order(city: City, seconds: int) -> None:
    at = datetime(2020, 1, 1, tzinfo=UTC) + timedelta(seconds=seconds)
    hour = planetary_hour(at, city.lat, city.lon, city.tz)
    assert hour.contains(at)
    assert hour.hour_system == "unequal"
    local_date = at.astimezone(ZoneInfo(city.tz)).date()
    assert hour.planetary_date in (local_date, local_date - timedelta(days=1))
    assert hour.planet == expected_ruler(hour.planetary_date, hour.hour_number - 1)
    assert hour.is_daytime == (hour.hour_number <= 12)
    assert hour.sunrise is not None and hour.sunset is not None
    assert (hour.sunrise <= hour.start < hour.sunset) == hour.is_daytime
