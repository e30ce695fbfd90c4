"""Moon phase names, elongation, illumination and next-quarter times against skyfield/DE421."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.astro import PHASE_NAMES, moon_phase, next_lunar_phases
from shared.astro.moon import phase_name
from tests.unit.astro.skyref import SkyRef, wrap180

# Published (USNO) UTC times of a few phases.
KNOWN = [
    (datetime(2024, 1, 11, 11, 57, tzinfo=UTC), "new moon"),
    (datetime(2024, 1, 25, 17, 54, tzinfo=UTC), "full moon"),
    (datetime(2024, 4, 8, 18, 21, tzinfo=UTC), "new moon"),
    (datetime(2000, 1, 6, 18, 14, tzinfo=UTC), "new moon"),
    (datetime(1999, 12, 22, 17, 31, tzinfo=UTC), "full moon"),
    (datetime(2024, 1, 18, 3, 53, tzinfo=UTC), "first quarter"),
    (datetime(2024, 2, 2, 23, 18, tzinfo=UTC), "last quarter"),
]


@pytest.mark.parametrize(("at", "name"), KNOWN)
def test_phase_names_at_known_dates(sky: SkyRef, at: datetime, name: str) -> None:
    phase = moon_phase(at)
    assert phase.name == name
    ref = float(sky.elongation(at))
    assert abs(wrap180(phase.elongation - ref)) < 0.01
    assert abs(phase.illumination - sky.fraction_illuminated(at)) < 0.005


def test_sectors_between_quarters(sky: SkyRef) -> None:
    new = datetime(2024, 1, 11, 11, 57, tzinfo=UTC)
    names = [moon_phase(new + timedelta(days=29.530589 * k / 8)).name for k in range(8)]
    assert names == list(PHASE_NAMES)
    waxing = moon_phase(new + timedelta(days=3))
    # The age is elongation / mean synodic rate: approximate (±0.6 d).
    assert waxing.waxing and 2.4 < waxing.age_days < 3.6 and waxing.name == "waxing crescent"
    assert waxing.to_dict()["name"] == "waxing crescent"


def test_elongation_against_reference_over_decades(sky: SkyRef) -> None:
    instants = [datetime(1960, 1, 1, tzinfo=UTC) + timedelta(days=173.3 * k) for k in range(140)]
    ref = sky.elongation(instants)
    worst = max(abs(wrap180(moon_phase(t).elongation - r)) for t, r in zip(instants, ref, strict=True))
    print(f"max elongation error vs DE421: {worst * 3600:.1f}″")
    assert worst < 0.01


@pytest.mark.parametrize(
    "start",
    [
        datetime(1975, 5, 5, tzinfo=UTC),
        datetime(2000, 1, 1, tzinfo=UTC),
        datetime(2024, 1, 25, 17, 0, tzinfo=UTC),
        datetime(2031, 7, 7, 7, 7, tzinfo=UTC),
        datetime(2049, 2, 1, tzinfo=UTC),
    ],
)
def test_next_phases_within_two_minutes(sky: SkyRef, start: datetime) -> None:
    ours = next_lunar_phases(start)
    ref = sky.moon_quarters(start, start + timedelta(days=32))
    keys = ("new_moon", "first_quarter", "full_moon", "last_quarter")
    worst = 0.0
    for quarter, key in enumerate(keys):
        expected = min(t for q, t in ref if q == quarter)
        got = getattr(ours, key)
        assert got >= start
        err = abs((got - expected).total_seconds())
        worst = max(worst, err)
        assert err < 120, f"{key}: {got} vs {expected}"
    ordered = ours.ordered()
    assert [t for _, t in ordered] == sorted(t for _, t in ordered)
    assert ordered[-1][1] - start < timedelta(days=30)
    print(f"{start:%Y-%m-%d}: worst next-phase error {worst:.1f} s")


def test_next_phase_is_strictly_next() -> None:
    full = next_lunar_phases(datetime(2024, 1, 20, tzinfo=UTC)).full_moon
    assert abs((full - datetime(2024, 1, 25, 17, 54, tzinfo=UTC)).total_seconds()) < 120
    after = next_lunar_phases(full + timedelta(seconds=5)).full_moon
    assert timedelta(days=29) < after - full < timedelta(days=30)
    assert set(next_lunar_phases(full).to_dict()) == {"newMoon", "firstQuarter", "fullMoon", "lastQuarter"}


def test_naive_rejected() -> None:
    with pytest.raises(ValueError):
        moon_phase(datetime(2024, 1, 1))
    with pytest.raises(ValueError):
        next_lunar_phases(datetime(2024, 1, 1))


@given(st.floats(min_value=-1000.0, max_value=1000.0, allow_nan=False))
def test_phase_sectors_are_centred(elongation: float) -> None:
    e = elongation % 360.0
    name = phase_name(elongation)
    centre = 45.0 * PHASE_NAMES.index(name)
    assert abs(wrap180(e - centre)) <= 22.5 + 1e-9


def test_sector_edges() -> None:
    assert phase_name(337.5) == "new moon"
    assert phase_name(337.4999) == "waning crescent"
    assert phase_name(22.4999) == "new moon"
    assert phase_name(22.5) == "waxing crescent"
    assert phase_name(180.0) == "full moon"
    assert phase_name(0.0) == "new moon"
