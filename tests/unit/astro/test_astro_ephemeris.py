"""Positions of Sun..Pluto against JPL DE421 (skyfield), plus the wrapper's contract."""

from __future__ import annotations

import random
import threading
from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.astro import (
    BODY_NAMES,
    SIGNS,
    PlanetPosition,
    compute_positions,
    minute_floor,
    positions_for_minute,
)
from shared.astro.ephemeris import position_cache_info
from tests.unit.astro.skyref import SkyRef, wrap180

N_INSTANTS = 200
MAX_ERROR_ARCSEC = 30.0


def _instants() -> list[datetime]:
    rng = random.Random(20261122)
    start = datetime(1950, 1, 1, tzinfo=UTC)
    span = (datetime(2050, 1, 1, tzinfo=UTC) - start).total_seconds()
    return sorted(start + timedelta(seconds=rng.random() * span) for _ in range(N_INSTANTS))


@pytest.fixture(scope="module")
def comparison(sky: SkyRef) -> dict[str, dict[str, np.ndarray]]:
    instants = _instants()
    ours = [compute_positions(at) for at in instants]
    tt = sky.t(instants).tt
    h = 0.01
    # One vectorised call per body on one shared Time: t, t±h, and t±2 d ±h (speed sign two days either
    # side: a station within ±2 days shows up as a sign change).
    offsets = (0.0, -h, h, -2.0 - h, -2.0 + h, 2.0 - h, 2.0 + h)
    n = len(instants)
    out: dict[str, dict[str, np.ndarray]] = {}
    t_all = sky.tt_time(np.concatenate([tt + off for off in offsets]))  # one Time: nutation computed once
    for body in BODY_NAMES:
        lon = np.asarray(sky.lon_at(body, t_all)).reshape(len(offsets), n)
        ref_lon = lon[0]
        ref_speed = wrap180(lon[2] - lon[1]) / (2 * h)
        speed_before = wrap180(lon[4] - lon[3]) / (2 * h)
        speed_after = wrap180(lon[6] - lon[5]) / (2 * h)
        our_lon = np.array([o[body].longitude for o in ours])
        out[body] = {
            "ref_lon": ref_lon,
            "ref_speed": ref_speed,
            "near_station": (np.sign(speed_before) != np.sign(ref_speed))
            | (np.sign(speed_after) != np.sign(ref_speed)),
            "our_lon": our_lon,
            "our_speed": np.array([o[body].speed for o in ours]),
            "our_sign": np.array([o[body].sign for o in ours]),
            "our_retro": np.array([o[body].retrograde for o in ours]),
            "err_arcsec": np.abs(wrap180(our_lon - ref_lon)) * 3600.0,
        }
    return out


def test_longitudes_within_30_arcsec_of_de421(comparison: dict[str, dict[str, np.ndarray]]) -> None:
    report = {body: float(data["err_arcsec"].max()) for body, data in comparison.items()}
    print("max |Δλ| vs DE421 (arcsec):", {b: round(v, 2) for b, v in report.items()})
    assert len(_instants()) >= 200
    for body, worst in report.items():
        assert worst < MAX_ERROR_ARCSEC, f"{body}: {worst:.1f}″"


def test_signs_identical_away_from_cusps(comparison: dict[str, dict[str, np.ndarray]]) -> None:
    checked = 0
    for body, data in comparison.items():
        ref_lon = data["ref_lon"]
        in_sign = ref_lon % 30.0
        away = (in_sign > 0.01) & (in_sign < 29.99)
        ref_signs = np.array([SIGNS[int(x // 30) % 12] for x in ref_lon])
        mismatches = np.nonzero(away & (ref_signs != data["our_sign"]))[0]
        assert mismatches.size == 0, f"{body}: sign mismatch at {mismatches}"
        checked += int(away.sum())
    assert checked > 0.99 * N_INSTANTS * len(BODY_NAMES)


def test_retrograde_flags_identical_away_from_stations(comparison: dict[str, dict[str, np.ndarray]]) -> None:
    retro_seen = 0
    for body, data in comparison.items():
        expected = (data["ref_speed"] < 0) if body not in ("Sun", "Moon") else np.zeros(N_INSTANTS, bool)
        mask = ~data["near_station"]
        assert np.array_equal(expected[mask], data["our_retro"][mask]), body
        retro_seen += int(expected[mask].sum())
    assert retro_seen > 100  # the sample really exercises retrograde motion


def test_speed_matches_reference(comparison: dict[str, dict[str, np.ndarray]]) -> None:
    for body, data in comparison.items():
        tolerance = 0.01 if body == "Moon" else 0.002  # degrees per day
        assert np.max(np.abs(data["our_speed"] - data["ref_speed"])) < tolerance, body


def test_sun_and_moon_never_retrograde() -> None:
    at = datetime(2024, 4, 10, tzinfo=UTC)
    pos = compute_positions(at)
    assert not pos["Sun"].retrograde and not pos["Moon"].retrograde
    assert not PlanetPosition.from_longitude("Moon", 10.0, -1.0, 0.0026, 0.0).retrograde
    assert PlanetPosition.from_longitude("Mars", 10.0, -0.1, 1.0, 0.0).retrograde


def test_known_retrograde_period() -> None:
    # Mercury was retrograde 2024-04-01 22:14 UTC .. 2024-04-25 12:54 UTC.
    assert compute_positions(datetime(2024, 4, 12, tzinfo=UTC))["Mercury"].retrograde
    assert not compute_positions(datetime(2024, 5, 12, tzinfo=UTC))["Mercury"].retrograde


def test_order_keys_and_wire_format() -> None:
    pos = compute_positions(datetime(2024, 6, 1, 12, tzinfo=UTC))
    assert list(pos) == list(BODY_NAMES)
    d = pos["Venus"].to_dict()
    assert set(d) == {
        "longitude",
        "sign",
        "degree",
        "minute",
        "degreeInSign",
        "retrograde",
        "speed",
        "distanceAu",
    }
    assert d["sign"] == d["sign"].lower()
    for p in pos.values():
        assert 0.0 <= p.longitude < 360.0
        assert 0 <= p.degree <= 29 and 0 <= p.minute <= 59
        assert p.degree == int(p.degree_in_sign)
        assert p.distance_au > 0


def test_naive_datetime_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        compute_positions(datetime(2024, 1, 1))
    with pytest.raises(ValueError, match="timezone-aware"):
        positions_for_minute(datetime(2024, 1, 1))


def test_offset_aware_input_is_the_same_instant() -> None:
    utc = compute_positions(datetime(2024, 1, 1, 12, tzinfo=UTC))
    kolkata = compute_positions(datetime(2024, 1, 1, 17, 30, tzinfo=timezone(timedelta(hours=5, minutes=30))))
    assert utc == kolkata


@pytest.mark.parametrize("year", [1800, 1850, 2100, 2150, 2200])
def test_supports_1800_to_2200(year: int) -> None:
    # The Sun reaches 0° Aries around March 20 every year; outside DE421's range we check sanity only.
    pos = compute_positions(datetime(year, 3, 21, tzinfo=UTC))
    assert abs(wrap180(pos["Sun"].longitude)) < 1.5
    later = compute_positions(datetime(year, 3, 22, tzinfo=UTC))
    for body in BODY_NAMES:
        assert abs(wrap180(later[body].longitude - pos[body].longitude)) < 16.0
        assert 0.0 <= pos[body].longitude < 360.0


def test_minute_cache_floors_and_copies() -> None:
    at = datetime(2024, 6, 1, 12, 34, 56, 789000, tzinfo=UTC)
    a = positions_for_minute(at)
    b = positions_for_minute(at.replace(second=1))
    assert a == b and a is not b
    assert a == compute_positions(datetime(2024, 6, 1, 12, 34, tzinfo=UTC))
    assert minute_floor(at) == datetime(2024, 6, 1, 12, 34, tzinfo=UTC)
    a.pop("Sun")
    assert "Sun" in positions_for_minute(at)
    info = position_cache_info()
    assert info.hits >= 2 and info.maxsize is not None
    # Negative timestamps floor downwards too.
    old = datetime(1969, 12, 31, 23, 59, 30, tzinfo=UTC)
    assert positions_for_minute(old) == compute_positions(datetime(1969, 12, 31, 23, 59, tzinfo=UTC))


def test_thread_safe() -> None:
    instants = [datetime(2000, 1, 1, tzinfo=UTC) + timedelta(hours=37 * i) for i in range(40)]
    serial = [compute_positions(t) for t in instants]
    results: list[list[dict[str, PlanetPosition]]] = [[] for _ in range(4)]

    def work(slot: int) -> None:
        results[slot] = [compute_positions(t) for t in instants]

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert all(r == serial for r in results)


@settings(max_examples=200, deadline=None)
@given(st.floats(min_value=-720.0, max_value=720.0, allow_nan=False))
def test_from_longitude_invariants(longitude: float) -> None:
    p = PlanetPosition.from_longitude("Mars", longitude, 0.5, 1.0, 0.0)
    assert 0.0 <= p.longitude < 360.0
    assert SIGNS.index(p.sign) * 30 + p.degree + p.minute / 60.0 <= p.longitude + 1e-9
    assert p.longitude < SIGNS.index(p.sign) * 30 + p.degree + (p.minute + 1) / 60.0 + 1e-9
    assert 0 <= p.degree <= 29 and 0 <= p.minute <= 59
