"""Aspect effect tables equal aspect_effects_golden.json exactly; detector rules (design/domain.md §3)."""

from __future__ import annotations

import math

import pytest

from shared.alchemy import (
    ASPECT_DEFINITIONS,
    ASPECT_EFFECT_TABLES,
    INERTIAL_MASS_WEIGHT,
    ChartPoint,
    aspect_effect,
    aspect_modifications,
    calculate_esms,
    detect_aspect,
    find_aspects,
)
from shared.alchemy.aspects import _CANDIDATES
from tests.unit.alchemy.conftest import ASPECT_GOLDEN


def test_tables_equal_golden_exactly() -> None:
    ours = {pair: {t: list(v) for t, v in table.items()} for pair, table in ASPECT_EFFECT_TABLES.items()}
    assert ours == ASPECT_GOLDEN["tables"]
    assert ASPECT_GOLDEN["axes"] == ["Spirit", "Essence", "Matter", "Substance"]
    assert ASPECT_GOLDEN["dignityAnchors"]["dignityScoreDivisor"] == 50


def test_definition_order_and_orbs() -> None:
    assert [d[0] for d in ASPECT_DEFINITIONS] == [
        "conjunction",
        "opposition",
        "trine",
        "square",
        "sextile",
        "quincunx",
        "semi-sextile",
        "sesquisquare",
        "semisquare",
        "quintile",
        "biquintile",
        "septile",
    ]
    assert ASPECT_DEFINITIONS[-1][1:] == (51.428, 2.0)


def test_pair_lookup_is_order_free_and_defaults() -> None:
    assert aspect_effect("Sun", "Moon", "conjunction") == (-0.5, -0.5, 0.0, 0.0)
    assert aspect_effect("Moon", "Sun", "conjunction") == (-0.5, -0.5, 0.0, 0.0)
    assert aspect_effect("Mercury", "Jupiter", "trine") == (0.3, 0.0, 0.0, 0.1)
    assert aspect_effect("Sun", "Ascendant", "conjunction") == (0.1, 0.1, 0.0, 0.0)
    assert aspect_effect("Mars", "Pluto", "square") == (0.0, 0.0, 0.1, 0.0)


def test_strength_is_cosine_bell() -> None:
    assert detect_aspect(0.0, 0.0, False) == ("conjunction", 0.0, 1.0)
    hit = detect_aspect(10.0, 14.0, False)  # 4° of an 8° orb
    assert hit is not None
    name, orb, strength = hit
    assert (name, orb) == ("conjunction", 4.0)
    assert strength == (1.0 + math.cos(math.pi * (4.0 / 8.0))) / 2.0
    # Sun/Moon widen orbs ×1.2: 9° is out for two planets, in for a luminary pair.
    assert detect_aspect(0.0, 9.0, False) is None
    assert detect_aspect(0.0, 9.0, True) is not None
    # Exactly at the maximum orb: in orb with strength 0.
    assert detect_aspect(0.0, 8.0, False) == ("conjunction", 8.0, 0.0)


def test_separation_folds_past_180() -> None:
    assert detect_aspect(356.0, 2.0, False) == detect_aspect(0.0, 6.0, False)
    assert detect_aspect(356.0, 2.0, False)[0] == "conjunction"  # type: ignore[index]
    assert detect_aspect(10.0, 250.0, False)[0] == "trine"  # type: ignore[index]


def test_septile_winner_means_no_aspect() -> None:
    # 51.428° apart: septile is exact (strength 1), beats the in-orb sextile/semisquare → pair dropped.
    assert detect_aspect(0.0, 51.428, False) is None
    assert find_aspects([("Mars", 0.0), ("Jupiter", 51.428)]) == []
    # A septile in orb but weaker than a neighbour keeps the neighbour: 45.5° is a semisquare.
    assert detect_aspect(0.0, 45.5, False)[0] == "semisquare"  # type: ignore[index]
    chart = {"Mars": ChartPoint("aries", 0.0), "Jupiter": ChartPoint("taurus", 21.428)}
    assert calculate_esms(chart, True).aspects == ()


def test_bucketed_detector_equals_reference_scan() -> None:
    """The detector's bucket speed-up changes nothing: compare with a plain scan of all 12 candidates
    (strictly-greater comparison, so the first in definition order wins a tie) on a dense grid."""
    for mult, lum in ((1.0, False), (1.2, True)):
        for i in range(0, 3601):
            diff = i / 20.0
            best = None
            for name, angle, adj in _CANDIDATES[mult]:
                orb = abs(diff - angle)
                if orb <= adj:
                    s = (1.0 + math.cos(math.pi * (orb / adj))) / 2.0
                    if best is None or s > best[2]:
                        best = (name, orb, s)
            expected = None if best is None or best[0] == "septile" else best
            assert detect_aspect(0.0, diff, lum) == expected
            got = find_aspects([("Sun" if lum else "Mars", 0.0), ("Venus", diff)])
            assert [(a.type, a.orb, a.strength) for a in got] == ([] if expected is None else [expected])


def test_find_aspects_sorted_stably_and_matches_detect() -> None:
    points = [("Sun", 0.0), ("Moon", 120.0), ("Mars", 240.0), ("Venus", 0.0)]
    aspects = find_aspects(points)
    strengths = [a.strength for a in aspects]
    assert strengths == sorted(strengths, reverse=True)
    # All four exact aspects have strength 1.0; input pair order is kept among them.
    assert [(a.body1, a.body2, a.type) for a in aspects] == [
        ("Sun", "Moon", "trine"),
        ("Sun", "Mars", "trine"),
        ("Sun", "Venus", "conjunction"),
        ("Moon", "Mars", "trine"),
        ("Moon", "Venus", "trine"),
        ("Mars", "Venus", "trine"),
    ]
    for a in aspects:
        lum = a.body1 in ("Sun", "Moon") or a.body2 in ("Sun", "Moon")
        lon = dict(points)
        assert detect_aspect(lon[a.body1], lon[a.body2], lum) == (a.type, a.orb, a.strength)


def test_modifications_accumulate_effect_times_strength() -> None:
    aspects = find_aspects([("Sun", 0.0), ("Moon", 90.0)])
    assert [(a.type, a.strength) for a in aspects] == [("square", 1.0)]
    assert aspect_modifications(aspects) == {"Spirit": -0.1, "Essence": -0.1, "Matter": 0.2, "Substance": 0.0}


def test_square_example_composes_the_three_layers() -> None:
    # Sun 0° Aries, Moon 0° Cancer, diurnal: an exact Sun–Moon square (strength 1.0).
    # Sun: exaltation 4 + day triplicity 3 → D = 1.14; Moon: domicile 5 + participating triplicity 3 → 1.16.
    chart = {
        "Sun": ChartPoint("aries", 0.0, longitude=0.0),
        "Moon": ChartPoint("cancer", 0.0, longitude=90.0),
    }
    result = calculate_esms(chart, True)
    moon_weight = INERTIAL_MASS_WEIGHT["Moon"]
    assert result.totals == {
        "Spirit": 1.0 * 1.0 * (1.0 + 7 / 50) + (-0.1 * 1.0),
        "Essence": 1.0 * moon_weight * (1.0 + 8 / 50) + (-0.1 * 1.0),
        "Matter": 0.0 + 0.2 * 1.0,
        "Substance": 0.0,
    }
    assert [(a.type, a.strength) for a in result.aspects] == [("square", 1.0)]


@pytest.mark.parametrize("lon", [-1.0, 400.0, float("nan"), float("inf")])
def test_odd_longitudes_do_not_crash(lon: float) -> None:
    detect_aspect(lon, 10.0, True)
