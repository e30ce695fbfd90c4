"""alchemical-core routes: exact results through HTTP+JSON, determinism, and 4xx naming the field."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from httpx import AsyncClient

from shared.alchemy import alchemize, parse_chart
from shared.astro import compute_positions, is_diurnal

GOLDEN = Path(__file__).resolve().parents[3] / "shared" / "data" / "golden" / "esms_conformance.json"
CHARTS = json.loads(GOLDEN.read_text())["charts"]


@pytest.mark.parametrize("chart", CHARTS, ids=[c["id"] for c in CHARTS])
async def test_conformance_charts_bit_exact_over_http(core: AsyncClient, chart: dict) -> None:
    r = await core.post(
        "/calculate/esms", json={"positions": chart["planetary_positions"], "isDiurnal": chart["is_diurnal"]}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    for axis in ("spirit", "essence", "matter", "substance"):
        assert body[axis] == chart["expected"][axis]  # bit-exact through orjson and back


async def test_sect_from_ascendant_or_required(core: AsyncClient) -> None:
    chart = CHARTS[0]["planetary_positions"]  # Sun leo 15°, Ascendant leo 0°: Sun just above the horizon? no:
    r = await core.post("/calculate/esms", json={"positions": chart})
    assert r.status_code == 200
    assert r.json()["sectSource"] == "ascendant"
    # Sun 15° past the Ascendant along the zodiac is below the eastern horizon (house 1): nocturnal
    assert r.json()["isDiurnal"] is False
    no_asc = {k: v for k, v in chart.items() if k != "Ascendant"}
    r = await core.post("/calculate/esms", json={"positions": no_asc})
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "isDiurnal"
    r = await core.post("/calculate/esms", json={"positions": no_asc, "at": "2024-06-21T16:00:00Z"})
    assert r.status_code == 200 and r.json()["isDiurnal"] is True and r.json()["sectSource"] == "sun_altitude"


async def test_chart_errors_name_the_field(core: AsyncClient) -> None:
    r = await core.post(
        "/calculate/esms", json={"positions": {"Sun": {"sign": "leonine", "degree": 3}}, "isDiurnal": True}
    )
    assert r.status_code == 422
    assert r.json()["details"][0]["field"] == "positions.Sun.sign"
    r = await core.post(
        "/calculate/esms", json={"positions": {"Moon": {"sign": "leo", "degree": 31}}, "isDiurnal": True}
    )
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "positions.Moon.degree"
    r = await core.post("/calculate/esms", json={"positions": {"Chiron": {"sign": "leo"}}, "isDiurnal": True})
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "positions"


async def test_alchemize_at_instant_matches_engines(core: AsyncClient) -> None:
    at = "2024-03-20T03:06:00Z"
    r1 = await core.get("/alchemize", params={"at": at})
    r2 = await core.post("/alchemize", json={"at": at})
    assert r1.status_code == 200 and r2.status_code == 200
    assert r1.json() == r2.json()
    when = datetime(2024, 3, 20, 3, 6, tzinfo=UTC)
    positions = compute_positions(when)
    chart = parse_chart({n: {"longitude": p.longitude} for n, p in positions.items()}, distances=False)
    expected = alchemize(chart, is_diurnal(when, 40.7128, -74.006))
    body = r1.json()
    assert body["esms"] == expected.esms.totals
    assert body["kalchm"] == expected.kalchm and body["monica"] == expected.monica
    assert body["isDiurnal"] is False  # 23:06 in New York
    assert body["sunSign"] == "pisces" or body["sunSign"] == "aries"


async def test_current_hour_before_sunrise_is_previous_days_night(core: AsyncClient) -> None:
    # Wednesday 2024-05-15 03:00 in New York (07:00Z): still Tuesday's night (day ruler Mars)
    r = await core.get("/planetary/current-hour", params={"at": "2024-05-15T07:00:00Z"})
    assert r.status_code == 200
    body = r.json()
    assert body["dayRuler"] == "Mars" and body["isDaytime"] is False
    assert body["planetaryDate"] == "2024-05-14"
    assert body["start"] <= "2024-05-15T07:00:00Z" < body["end"]


async def test_hours_of_a_polar_day_fall_back_with_a_label(core: AsyncClient) -> None:
    r = await core.get(
        "/planetary/hours", params={"date": "2024-06-21", "lat": 69.6496, "lon": 18.956, "tz": "Europe/Oslo"}
    )
    assert r.status_code == 200
    body = r.json()
    assert body["hourSystem"] == "equal_fallback" and body["reason"]
    assert len(body["hours"]) == 24


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/planetary/current-hour", {"lat": 95, "lon": 0, "tz": "UTC"}, "lat"),
        ("/planetary/current-hour", {"lat": 10}, "lon"),
        ("/planetary/current-hour", {"lat": 10, "lon": 10, "tz": "Mars/Olympus_Mons"}, "tz"),
        ("/planetary/current-hour", {"at": "yesterday"}, "at"),
        ("/planetary/current-hour", {"at": "1500-01-01T00:00:00Z"}, "at"),
        ("/planetary/hours", {"date": "2024-13-01"}, "date"),
        ("/planetary/positions", {"at": "not-a-date"}, "at"),
        ("/celestial/events", {"start": "2024-01-10T00:00:00Z", "end": "2024-01-01T00:00:00Z"}, "end"),
        ("/celestial/events", {"start": "2024-01-01T00:00:00Z", "end": "2024-03-01T00:00:00Z"}, "end"),
        ("/celestial/events", {"types": "ingress,eclipse"}, "types"),
    ],
)
async def test_bad_query_inputs_name_the_field(
    core: AsyncClient, path: str, params: dict, field: str
) -> None:
    r = await core.get(path, params=params)
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["error"] == "VALIDATION_ERROR"
    assert body["details"][0]["field"] == field


@pytest.mark.parametrize(
    ("path", "payload", "field"),
    [
        ("/calculate/thermodynamics", {"Fire": 1, "Water": 1}, "Fire"),
        ("/calculate/thermodynamics", {}, "elements"),
        (
            "/calculate/thermodynamics",
            {"elements": {"Fire": 1, "Water": 1, "Earth": 1, "Air": 1}, "ingredients": ["egg"]},
            "elements",
        ),
        (
            "/calculate/thermodynamics",
            {"elements": {"Fire": -1, "Water": 1, "Earth": 1, "Air": 1}},
            "elements.Fire",
        ),
        (
            "/calculate/thermodynamics",
            {"Fire": 1, "Water": 1, "Earth": 1, "Air": 1, "location": {"latitude": 10, "longitude": 500}},
            "location.longitude",
        ),
        ("/calculate/elemental", {"ingredients": ["egg", "milk"], "weights": [1]}, "weights"),
        ("/calculate/elemental", {"ingredients": ["egg"] * 101}, "ingredients"),
        ("/calculate/elemental", {"ingredients": [""]}, "ingredients.0.name"),
        ("/calculate/esms", {"spirit": 1, "essence": 2}, "spirit"),
        ("/planetary/positions", {"zodiacSystem": "sidereal"}, "zodiacSystem"),
        ("/planetary/positions", {"year": 2024, "month": 2, "day": 30}, "day"),
    ],
)
async def test_bad_bodies_name_the_field(core: AsyncClient, path: str, payload: dict, field: str) -> None:
    r = await core.post(path, json=payload)
    assert r.status_code == 422, r.text
    assert r.json()["details"][0]["field"] == field


async def test_elemental_reports_unresolved_and_weights_by_quantity(core: AsyncClient) -> None:
    r = await core.post(
        "/calculate/elemental",
        json={
            "ingredients": [
                {"name": "tomatoes", "amount": 2, "unit": "cups"},
                {"name": "basil", "amount": 5, "unit": "g"},
                "unobtainium",
            ]
        },
    )
    assert r.status_code == 200
    body = r.json()
    assert body["method"] == "quantity_weighted"
    assert body["unresolved"] == ["unobtainium"]
    grams = {x["input"]: x["grams"] for x in body["resolved"]}
    assert grams["tomatoes"] == 480.0 and grams["basil"] == 5.0
    assert body["dominant"] in ("Fire", "Water", "Earth", "Air")


async def test_oversized_body_is_413(core: AsyncClient) -> None:
    r = await core.post("/calculate/elemental", json={"ingredients": ["x" * 100] * 1000})
    assert r.status_code == 413 and r.json()["error"] == "PAYLOAD_TOO_LARGE"


async def test_events_window_filters(core: AsyncClient) -> None:
    r = await core.get(
        "/celestial/events",
        params={"start": "2024-01-01T00:00:00Z", "end": "2024-01-31T00:00:00Z", "types": "lunar_phase"},
    )
    assert r.status_code == 200
    events = r.json()["events"]
    assert events and all(e["type"] == "lunar_phase" for e in events)
    # January 2024: full moon 2024-01-25 17:54 UTC
    full = [e for e in events if e["subtype"] == "full_moon"]
    assert full and full[0]["at"].startswith("2024-01-25T17:5")
