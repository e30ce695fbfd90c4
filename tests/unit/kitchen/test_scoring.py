"""The pure scoring pieces: tables, the sky component, the ruling planet, method affinity, and that the fast
paths are bit-identical to the shared engines."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest

from services.kitchen_intelligence.index import KitchenIndex
from services.kitchen_intelligence.inputs import Location
from services.kitchen_intelligence.recommend import RecommendEngine
from services.kitchen_intelligence.scoring import (
    WEIGHTS,
    cosine4,
    critical_bonus,
    decan_score,
    dignity_label,
    hour_bonus,
    method_affinity,
    method_keys,
    planet_sky,
    planetary_favour,
    ruling_planet,
    sign_dignity,
    weighted_sky_elements,
)
from services.kitchen_intelligence.sky import build_sky
from shared.alchemy import ELEMENTS, cosine, inertial_mass_weight, recipe_elements

NYC = Location(40.7128, -74.006, "America/New_York")


@pytest.mark.parametrize(
    ("planet", "sign", "score", "label"),
    [
        ("Sun", "leo", 1.0, "domicile"),
        ("Sun", "aries", 0.9, "exaltation"),
        ("Sun", "aquarius", 0.3, "detriment"),
        ("Sun", "libra", 0.2, "fall"),
        ("Sun", "gemini", 0.6, "peregrine"),
        ("Mercury", "virgo", 1.0, "domicile"),  # domicile wins over its exaltation
        ("Mercury", "pisces", 0.3, "detriment"),  # both detriments (the TS table knew only Sagittarius)
        ("Mercury", "sagittarius", 0.3, "detriment"),
        ("Venus", "aries", 0.3, "detriment"),
        ("Venus", "virgo", 0.2, "fall"),
        ("Mars", "libra", 0.3, "detriment"),
        ("Mars", "cancer", 0.2, "fall"),
        ("Jupiter", "virgo", 0.3, "detriment"),
        ("Jupiter", "capricorn", 0.2, "fall"),
        ("Saturn", "leo", 0.3, "detriment"),
        ("Saturn", "aries", 0.2, "fall"),
        ("Moon", "taurus", 0.9, "exaltation"),
        ("Moon", "scorpio", 0.2, "fall"),
    ],
)
def test_sign_dignity_scale(planet: str, sign: str, score: float, label: str) -> None:
    assert sign_dignity(planet, sign) == score
    assert dignity_label(planet, sign) == label


def test_outer_planets_are_neutral() -> None:
    assert sign_dignity("Pluto", "scorpio") == 0.6


def test_friendship_components() -> None:
    assert decan_score("Mars", "Mars") == 1.0
    assert decan_score("Sun", "Mars") == 0.7  # Mars is among the Sun's friends
    assert decan_score("Saturn", "Mars") == 0.4
    assert hour_bonus("Venus", "Venus") == 0.2
    assert hour_bonus("Moon", "Venus") == 0.1
    assert hour_bonus("Mars", "Venus") == 0.0
    assert critical_bonus(13.5) == 0.1
    assert critical_bonus(0.2) == 0.1
    assert critical_bonus(26.99) == 0.1
    assert critical_bonus(27.0) == 0.0
    assert critical_bonus(5.0) == 0.0


def test_planet_sky_formula() -> None:
    ps = planet_sky("Venus", "taurus", 13.2, 43.2, False, "Moon", "Venus")
    # FRIENDSHIPS["Moon"] holds Venus: the decan is friendly (0.7)
    base = 1.0 * 0.4 + 0.7 * 0.25 + 0.5 * 0.25 + 0.2 + 0.1
    expected = min(base * (0.5 + 0.5 * inertial_mass_weight("Venus")), 1.0)
    assert ps.score == expected
    assert ps.decan == 0.7 and ps.hour_bonus == 0.2 and ps.critical == 0.1


def test_planet_sky_retrograde_and_cap() -> None:
    direct = planet_sky("Mercury", "gemini", 13.0, 73.0, False, "Mercury", "Mercury")
    retro = planet_sky("Mercury", "gemini", 13.0, 73.0, True, "Mercury", "Mercury")
    base = 1.0 * 0.4 + 1.0 * 0.25 + 0.5 * 0.25 + 0.2 + 0.1
    mass = 0.5 + 0.5 * inertial_mass_weight("Mercury")
    assert direct.score == min(base * mass * 1.0, 1.0)
    assert retro.score == min(base * mass * 0.7, 1.0)
    assert retro.retrograde_factor == 0.7
    sun = planet_sky("Sun", "leo", 0.5, 120.5, False, "Sun", "Sun")
    assert sun.score == 1.0  # capped


def test_weighted_sky_elements() -> None:
    signs = {"Sun": "aries", "Moon": "cancer", "Mercury": "aries", "Uranus": "taurus"}
    w = weighted_sky_elements(signs)
    total = 1.5 + 1.5 + 1.0 + 0.5
    assert w == (2.5 / total, 1.5 / total, 0.5 / total, 0.0)
    assert weighted_sky_elements({}) == (0.25, 0.25, 0.25, 0.25)


def test_planetary_favour_and_method_affinity() -> None:
    dignity = {"Venus": 1.0, "Moon": 0.2}
    assert planetary_favour(("Venus", "Moon"), dignity) == 0.6
    assert planetary_favour((), dignity) == 0.5
    keys = method_keys(["Stir Frying", "baking"], ["stir-frying"])
    assert keys == ("stir-frying", "stirfrying", "baking")
    value, used = method_affinity(keys, "Mercury")
    # stir-frying → Mercury (1.0), stirfrying → Mercury (1.0), baking → Saturn, a friend of… Saturn's friends
    # are Venus and Mercury: FRIENDSHIPS["Saturn"] holds Mercury → 0.7
    assert used == keys
    assert value == pytest.approx((1.0 + 1.0 + 0.7) / 3)
    assert method_affinity(("assembling",), "Mars") == (0.5, ())


def test_ruling_planet_rules() -> None:
    r = ruling_planet(("Pluto", "Venus", "Sun"), frozenset(), frozenset(), {})
    assert (r.planet, r.rule) == ("Venus", "favourable")
    r = ruling_planet((), frozenset({"chocolate", "tart"}), frozenset(), {})
    assert (r.planet, r.rule) == ("Venus", "keyword")
    r = ruling_planet((), frozenset({"beef", "curry"}), frozenset({"dessert"}), {})
    assert r.planet == "Mars"  # the Mars rule comes first
    r = ruling_planet(
        ("Neptune",), frozenset({"stew"}), frozenset(), {"Fire": 0.1, "Water": 0.5, "Earth": 0.4}
    )
    assert (r.planet, r.rule) == ("Moon", "element")
    r = ruling_planet((), frozenset(), frozenset(), {"Fire": 0.3, "Water": 0.3, "Earth": 0.2, "Air": 0.2})
    assert r.planet == "Mars"  # ties go to the first element (Fire)
    assert ruling_planet((), frozenset(), frozenset(), {}).planet == "Moon"


def test_cosine4_is_the_shared_cosine(index: KitchenIndex) -> None:
    sky = (0.4, 0.1, 0.2, 0.3)
    norm = math.sqrt(0 + sky[0] * sky[0] + sky[1] * sky[1] + sky[2] * sky[2] + sky[3] * sky[3])
    for entry in index.recipes[:200]:
        final = entry.final_elements((0.03, 0.09, 0.12, 0.06))
        expected = cosine(dict(zip(ELEMENTS, final, strict=True)), dict(zip(ELEMENTS, sky, strict=True)))
        assert cosine4(final, sky, norm) == expected


def test_final_elements_bit_identical_to_the_pipeline(index: KitchenIndex) -> None:
    sky = build_sky(datetime(2024, 7, 1, 12, tzinfo=UTC), NYC)
    for entry in index.recipes:
        expected = recipe_elements(entry.pipeline, sky.mass_elements, entry.methods)
        assert entry.final_elements(sky.s3) == tuple(expected[el] for el in ELEMENTS), entry.id


def test_scores_are_the_weighted_sum(engine: RecommendEngine) -> None:
    at = datetime(2024, 7, 1, 12, tzinfo=UTC)
    sky = engine.sky(at, NYC)
    ranking = engine.score_all(engine.build_filter(), sky, None)
    assert len(ranking) == len(engine.index.recipes)
    previous = None
    for position in range(len(ranking)):
        s = ranking.scored(position)
        expected = (
            WEIGHTS["sky"] * s.sky
            + WEIGHTS["elemental"] * s.elemental
            + WEIGHTS["planetaryFavour"] * s.favour
            + WEIGHTS["methodAffinity"] * s.entry.method_affinity
        )
        assert s.score == expected
        assert 0.0 <= s.score <= 1.0
        for part in (s.sky, s.elemental, s.favour, s.entry.method_affinity):
            assert 0.0 <= part <= 1.0
        key = (-s.score, s.entry.id)
        if previous is not None:
            assert previous < key  # sorted by score, ties by id
        previous = key


def test_elemental_table_is_memoised_and_exact(engine: RecommendEngine) -> None:
    sky = engine.sky(datetime(2024, 7, 1, 12, tzinfo=UTC), NYC)
    finals, elementals = engine.elemental_table(sky, None)
    again = engine.elemental_table(sky, None)
    assert again[0] is finals
    for entry, final, el in zip(engine.index.recipes, finals, elementals, strict=True):
        assert final == entry.final_elements(sky.s3)
        assert el == cosine4(final, sky.weighted, sky.weighted_norm)
