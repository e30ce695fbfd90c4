"""Sunrise/sunset against skyfield ``find_risings``/``find_settings`` (DE421, Sun's centre at −0.8333°)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from shared.astro import LocationError, is_diurnal, sun_altitude, sun_events
from tests.unit.astro.skyref import CITIES, CITY, City, RefSunDay, SkyRef

TOLERANCE_S = 10.0
DATES = (date(2024, 3, 20), date(2024, 6, 21), date(2024, 12, 21))


def _check(ours: datetime | None, ref: datetime | None, what: str) -> float:
    assert (ours is None) == (ref is None), f"{what}: ours={ours} reference={ref}"
    if ours is None or ref is None:
        return 0.0
    err = abs((ours - ref).total_seconds())
    assert err <= TOLERANCE_S, f"{what}: ours={ours} reference={ref} ({err:.1f} s)"
    return err


@pytest.mark.parametrize("city", CITIES, ids=[c.name for c in CITIES])
def test_sunrise_sunset_match_de421(sky: SkyRef, city: City) -> None:
    worst = 0.0
    for d in DATES:
        ours = sun_events(d, city.lat, city.lon, city.tz)
        ref: RefSunDay = sky.sun_day(city.lat, city.lon, city.tz, d)
        worst = max(
            worst,
            _check(ours.sunrise, ref.sunrise, f"{city.name} {d} sunrise"),
            _check(ours.sunset, ref.sunset, f"{city.name} {d} sunset"),
            _check(ours.next_sunrise, ref.next_sunrise, f"{city.name} {d} next sunrise"),
        )
        if ours.sunrise is not None:
            assert ours.sunrise.tzinfo is UTC
    print(f"{city.name}: max sunrise/sunset error {worst:.2f} s")


def test_at_least_twenty_cities_incl_odd_offsets_and_south() -> None:
    assert len(CITIES) >= 20
    tzs = {c.tz for c in CITIES}
    assert {"Asia/Kolkata", "Asia/Kathmandu", "Pacific/Kiritimati"} <= tzs
    assert sum(c.lat < 0 for c in CITIES) >= 5


def test_reykjavik_sunset_after_local_midnight(sky: SkyRef) -> None:
    city = CITY["Reykjavik"]
    ours = sun_events(date(2024, 6, 21), city.lat, city.lon, city.tz)
    assert ours.status == "normal"
    assert ours.sunset is not None and ours.sunset.date() == date(2024, 6, 22)  # 00:04 the next day (UTC+0)
    ref = sky.sun_day(city.lat, city.lon, city.tz, date(2024, 6, 21))
    _check(ours.sunset, ref.sunset, "Reykjavik sunset")
    # The sunset of the *previous* evening (00:03 on the 21st) is not this day's sunset.
    assert ours.sunrise is not None and ours.sunset > ours.sunrise


def test_local_date_not_utc_date() -> None:
    # Sydney (UTC+11 in December): the local sunrise of the 21st happens on the 20th in UTC.
    city = CITY["Sydney"]
    ours = sun_events(date(2025, 12, 21), city.lat, city.lon, city.tz)
    assert ours.sunrise is not None and ours.sunset is not None
    assert ours.sunrise.date() == date(2025, 12, 20)
    assert ours.sunset > ours.sunrise and ours.sunset - ours.sunrise < timedelta(hours=15)


@pytest.mark.parametrize(
    ("d", "status"),
    [(date(2024, 6, 21), "midnight_sun"), (date(2024, 12, 21), "polar_night")],
)
def test_tromso_polar(d: date, status: str) -> None:
    city = CITY["Tromso"]
    ours = sun_events(d, city.lat, city.lon, city.tz)
    assert ours.status == status
    assert ours.sunrise is None and ours.sunset is None and ours.next_sunrise is None
    assert not ours.complete


def test_polar_transition_days_match_reference(sky: SkyRef) -> None:
    """Around the start/end of the midnight sun and polar night every field agrees with skyfield."""
    city = CITY["Tromso"]
    statuses = set()
    for start in (date(2024, 5, 14), date(2024, 7, 24), date(2024, 11, 23), date(2025, 1, 14)):
        for k in range(5):
            d = start + timedelta(days=k)
            ours = sun_events(d, city.lat, city.lon, city.tz)
            ref = sky.sun_day(city.lat, city.lon, city.tz, d)
            _check(ours.sunrise, ref.sunrise, f"{d} sunrise")
            _check(ours.sunset, ref.sunset, f"{d} sunset")
            _check(ours.next_sunrise, ref.next_sunrise, f"{d} next sunrise")
            statuses.add(ours.status)
    assert {"midnight_sun_begins", "polar_night_begins", "normal"} <= statuses


def test_dst_days(sky: SkyRef) -> None:
    for name, d in (
        ("New York", date(2024, 3, 10)),
        ("New York", date(2024, 11, 3)),
        ("London", date(2024, 3, 31)),
        ("London", date(2024, 10, 27)),
        ("Santiago", date(2024, 9, 8)),  # DST starts at midnight: local 00:00 does not exist
        ("Santiago", date(2024, 4, 6)),  # DST ends at midnight: 23:00-24:00 happens twice
        ("Santiago", date(2024, 4, 7)),
    ):
        city = CITY[name]
        ours = sun_events(d, city.lat, city.lon, city.tz)
        ref = sky.sun_day(city.lat, city.lon, city.tz, d)
        _check(ours.sunrise, ref.sunrise, f"{name} {d} sunrise")
        _check(ours.sunset, ref.sunset, f"{name} {d} sunset")


def test_sun_altitude_and_sect(sky: SkyRef) -> None:
    ny = CITY["New York"]
    noon = datetime(2024, 6, 21, 17, 0, tzinfo=UTC)
    midnight = datetime(2024, 6, 21, 5, 0, tzinfo=UTC)
    # Apparent altitude vs skyfield's refracted altitude (10 °C, 1010 mbar) well above the horizon.
    from skyfield.api import wgs84

    observer = sky.earth + wgs84.latlon(ny.lat, ny.lon)
    alt, _, _ = (
        observer.at(sky.t(noon))
        .observe(sky.eph["sun"])
        .apparent()
        .altaz(temperature_C=10, pressure_mbar=1010)
    )
    assert abs(sun_altitude(noon, ny.lat, ny.lon) - alt.degrees) < 0.01
    assert is_diurnal(noon, ny.lat, ny.lon)
    assert not is_diurnal(midnight, ny.lat, ny.lon)
    # Sect changes when the *refracted centre* crosses 0° (geometric ≈ −0.57°): a couple of minutes after
    # the −0.8333° sunrise (upper limb appears first) and before the −0.8333° sunset.
    day = sun_events(date(2024, 6, 21), ny.lat, ny.lon, ny.tz)
    assert day.sunset is not None and day.sunrise is not None
    assert not is_diurnal(day.sunrise, ny.lat, ny.lon)
    assert is_diurnal(day.sunrise + timedelta(minutes=5), ny.lat, ny.lon)
    assert is_diurnal(day.sunset - timedelta(minutes=5), ny.lat, ny.lon)
    assert not is_diurnal(day.sunset, ny.lat, ny.lon)
    assert -0.35 < sun_altitude(day.sunset, ny.lat, ny.lon) < -0.2


def test_validation_names_field() -> None:
    with pytest.raises(LocationError) as err:
        sun_events(date(2024, 1, 1), 91.0, 0.0, "UTC")
    assert err.value.field == "lat"
    with pytest.raises(LocationError) as err:
        sun_altitude(datetime(2024, 1, 1, tzinfo=UTC), 0.0, 181.0)
    assert err.value.field == "lon"
    with pytest.raises(LocationError) as err:
        sun_events(date(2024, 1, 1), 0.0, 0.0, "Mars/Olympus_Mons")
    assert err.value.field == "tz"
    with pytest.raises(ValueError, match="timezone-aware"):
        is_diurnal(datetime(2024, 1, 1), 0.0, 0.0)
    with pytest.raises(TypeError):
        sun_events(datetime(2024, 1, 1, tzinfo=UTC), 0.0, 0.0, "UTC")  # a datetime is a date subclass
