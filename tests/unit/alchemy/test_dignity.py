"""Degree-level 5-fold dignity (design/domain.md §3; domain-analysis §3.4)."""

from __future__ import annotations

import pytest

from shared.alchemy import PLANETS, dignity_breakdown, dignity_multiplier, dignity_score, face_ruler
from shared.alchemy.constants import SIGNS
from shared.alchemy.dignity import score_at_longitude, sign_mean_score


def test_sun_leo_diurnal_sign_mean() -> None:
    # domicile 5 + day triplicity 3; no Sun term or face in Leo.
    assert dignity_score("Sun", "leo", None, True) == 8.0
    assert dignity_multiplier("Sun", "leo", None, True) == pytest.approx(1.16, abs=1e-15)


def test_saturn_aries_diurnal_sign_mean() -> None:
    # fall −4, participating triplicity +3, Saturn's term 25–30° (5 of 30 degrees × 2 points).
    assert dignity_score("Saturn", "aries", None, True) == pytest.approx(-4 + 3 + 10 / 30)
    assert dignity_multiplier("Saturn", "aries", None, True) == pytest.approx(0.98667, abs=1e-5)


def test_mercury_early_virgo_is_the_full_stack() -> None:
    for degree in range(7):
        lon = 150.0 + degree + 0.5
        assert score_at_longitude("Mercury", lon, True) == 11
        assert dignity_multiplier("Mercury", "virgo", lon, True) == pytest.approx(1.22, abs=1e-15)
    b = dignity_breakdown("Mercury", "virgo", 153.0, True)
    assert b.applied == ("domicile", "exaltation", "term")  # Virgo I is the Sun's face
    assert b.triplicity == 0.0  # Earth triplicity: Venus / Moon / Mars
    assert b.score == 11


def test_mercury_pisces_is_the_floor() -> None:
    assert dignity_score("Mercury", "pisces", 335.0, True) == -9.0
    assert dignity_multiplier("Mercury", "pisces", 335.0, False) == pytest.approx(0.82, abs=1e-15)


def test_extrema_over_all_cells() -> None:
    scores = [score_at_longitude(p, d, s) for p in PLANETS for d in range(360) for s in (True, False)]
    assert max(scores) == 11
    assert min(scores) == -9


def test_outer_planets_get_only_the_overlay() -> None:
    assert dignity_score("Pluto", "scorpio", 215.0, True) == 5.0
    assert dignity_score("Pluto", "taurus", 35.0, True) == -5.0
    assert dignity_score("Neptune", "leo", 125.0, False) == 4.0
    assert dignity_score("Neptune", "aquarius", 305.0, False) == -4.0
    assert dignity_score("Uranus", "gemini", 65.0, True) == 0.0
    assert dignity_multiplier("Uranus", "gemini", 65.0, True) == 1.0


def test_triplicity_depends_on_sect() -> None:
    # Jupiter in Sagittarius: domicile 5 + term 0–12 (2) + night triplicity (3) only by night.
    assert dignity_score("Jupiter", "sagittarius", 241.0, True) == 7.0
    assert dignity_score("Jupiter", "sagittarius", 241.0, False) == 10.0


def test_ascendant_and_unknown_have_no_dignity() -> None:
    assert dignity_multiplier("Ascendant", "leo", 125.0, True) == 1.0
    assert dignity_multiplier("Ascendant", "leo", None, True) == 1.0
    assert dignity_breakdown("Ascendant", "leo", None, True).resolution == "none"


def test_faces_are_chaldean() -> None:
    assert face_ruler(0.0) == "Mars"
    assert face_ruler(10.0) == "Sun"
    assert face_ruler(20.0) == "Venus"
    assert face_ruler(355.0) == "Mars"


def test_degree_score_is_piecewise_on_whole_degrees() -> None:
    assert score_at_longitude("Venus", 37.999999, True) == score_at_longitude("Venus", 37.0, True)
    assert score_at_longitude("Venus", 360.0 + 37.5, True) == score_at_longitude("Venus", 37.5, True)
    assert score_at_longitude("Venus", -1.0, True) == score_at_longitude("Venus", 359.0, True)


def test_sign_mean_is_mean_of_whole_degrees() -> None:
    for planet in PLANETS:
        for i, sign in enumerate(SIGNS):
            mean = sum(score_at_longitude(planet, i * 30 + d, False) for d in range(30)) / 30
            assert sign_mean_score(planet, sign, False) == pytest.approx(mean, abs=1e-12)


def test_breakdown_sign_mean_matches_score() -> None:
    b = dignity_breakdown("Saturn", "aries", None, True)
    assert b.resolution == "sign-mean"
    assert b.fall == -4 and b.triplicity == 3
    assert b.term == pytest.approx(2 * 5 / 30)
    assert b.as_dict()["applied"] == ["triplicity", "term", "fall"]
