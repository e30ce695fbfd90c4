"""Chart parsing: accepted formats, canonical names, ignored bodies and errors (design/domain.md §3)."""

from __future__ import annotations

from typing import Any

import pytest

from shared.alchemy import ChartError, ChartPoint, parse_chart


def test_conformance_format_and_order_preserved() -> None:
    chart = parse_chart(
        {
            "Moon": {"sign": "Taurus", "degree": 10.0, "distance": 0.0025},
            "Sun": {"sign": "leo", "degree": 15},
            "Ascendant": {"sign": "leo", "degree": 0.0},
        }
    )
    assert list(chart) == ["Moon", "Sun", "Ascendant"]
    assert chart["Moon"] == ChartPoint("taurus", 10.0, distance=0.0025)
    assert chart["Sun"] == ChartPoint("leo", 15.0)
    assert chart["Sun"].lon == 135.0


def test_longitude_formats() -> None:
    chart = parse_chart(
        {"Sun": {"longitude": 135.5}, "Moon": {"exactLongitude": 359.5, "sign": "pisces", "degree": 29}}
    )
    assert chart["Sun"] == ChartPoint("leo", None, longitude=135.5)
    assert chart["Moon"].lon == 359.5  # type: ignore[union-attr]  # longitude wins over sign + degree


def test_minute_adds_to_degree() -> None:
    point = parse_chart({"Mars": {"sign": "aries", "degree": 12, "minute": 30}})["Mars"]
    assert point.lon == 12.5  # type: ignore[union-attr]


def test_bare_sign_strings_and_case_insensitive_bodies() -> None:
    chart = parse_chart({"sun": "Leo", " MOON ": "cancer", "pluto": {"sign": "CAPRICORN"}})
    assert chart == {"Sun": "leo", "Moon": "cancer", "Pluto": ChartPoint("capricorn")}


def test_ignored_and_unknown_bodies() -> None:
    raw = {
        "Sun": "leo",
        "North Node": {"sign": "aries"},
        "MC": "leo",
        "Chiron": "virgo",
        "Midheaven": "leo",
        "parsFortune": "leo",
        "Ceres": "leo",
    }
    assert parse_chart(raw) == {"Sun": "leo"}
    with pytest.raises(ChartError) as info:
        parse_chart(raw, strict=True)
    assert info.value.field == "positions.Ceres"


def test_distances_flag_drops_distances() -> None:
    raw = {"Moon": {"sign": "taurus", "degree": 3, "distanceAu": 0.0026}}
    assert parse_chart(raw)["Moon"].distance == 0.0026  # type: ignore[union-attr]
    assert parse_chart(raw, distances=False)["Moon"].distance is None  # type: ignore[union-attr]


def test_position_record_extra_keys_ignored() -> None:
    record = {
        "longitude": 100.25,
        "sign": "cancer",
        "degree": 10,
        "minute": 15,
        "degreeInSign": 10.25,
        "retrograde": False,
        "speed": 0.98,
        "distanceAu": 1.01,
    }
    point = parse_chart({"Sun": record})["Sun"]
    assert isinstance(point, ChartPoint)
    assert point.lon == 100.25
    assert point.distance == 1.01


def test_none_position_is_skipped() -> None:
    assert parse_chart({"Sun": "leo", "Ascendant": None}) == {"Sun": "leo"}


@pytest.mark.parametrize(
    ("raw", "field", "reason_part"),
    [
        ({"Sun": {"sign": "leonardo"}}, "positions.Sun.sign", "unknown zodiac sign"),
        ({"Sun": "ophiuchus"}, "positions.Sun", "unknown zodiac sign"),
        ({"Sun": {"sign": "leo", "degree": 30}}, "positions.Sun.degree", "outside [0, 30)"),
        ({"Sun": {"sign": "leo", "degree": -0.5}}, "positions.Sun.degree", "outside [0, 30)"),
        ({"Sun": {"sign": "leo", "degree": float("nan")}}, "positions.Sun.degree", "finite"),
        ({"Sun": {"sign": "leo", "degree": "15"}}, "positions.Sun.degree", "must be a number"),
        ({"Sun": {"sign": "leo", "degree": True}}, "positions.Sun.degree", "must be a number"),
        ({"Sun": {"longitude": 360.0}}, "positions.Sun.longitude", "outside [0, 360)"),
        ({"Sun": {"exactLongitude": -1}}, "positions.Sun.exactLongitude", "outside [0, 360)"),
        ({"Sun": {"longitude": float("inf")}}, "positions.Sun.longitude", "finite"),
        ({"Sun": {"sign": "leo", "distance": -1.0}}, "positions.Sun.distance", "negative"),
        ({"Sun": {"sign": "leo", "distanceAu": float("nan")}}, "positions.Sun.distanceAu", "finite"),
        ({"Sun": {"sign": "leo", "degree": 1, "minute": 60}}, "positions.Sun.minute", "outside [0, 60)"),
        ({"Sun": {"sign": "leo", "minute": 5}}, "positions.Sun.minute", "without a degree"),
        ({"Sun": {"degree": 5}}, "positions.Sun", "needs a sign or a longitude"),
        ({"Sun": {"sign": "virgo", "longitude": 130.0}}, "positions.Sun.sign", "contradicts longitude"),
        ({"Sun": 12}, "positions.Sun", "position object or a sign name"),
        ({"Sun": "leo", "sun": "virgo"}, "positions.sun", "more than once"),
    ],
)
def test_errors_carry_field_and_reason(raw: dict[str, Any], field: str, reason_part: str) -> None:
    with pytest.raises(ChartError) as info:
        parse_chart(raw)
    assert info.value.field == field
    assert reason_part in info.value.reason
    assert isinstance(info.value, ValueError)
    assert str(info.value).startswith(field)


def test_not_a_mapping() -> None:
    with pytest.raises(ChartError) as info:
        parse_chart(["Sun"])  # type: ignore[arg-type]
    assert info.value.field == "positions"


def test_point_helpers() -> None:
    assert ChartPoint("leo").lon is None
    assert ChartPoint(None, longitude=45.0).resolved_sign == "taurus"
    assert ChartPoint(None, longitude=45.0).degree_in_sign == 15.0
    assert ChartPoint("leo").degree_in_sign == 0.0


def test_point_validates_its_sign() -> None:
    with pytest.raises(ChartError):
        ChartPoint("Leo")
    with pytest.raises(ChartError):
        ChartPoint(None)
