"""POST /recommend/recipes (and cuisines): determinism, cache hit == miss == fresh computation, the effective
instant, the pantry boost, field-naming 4xx."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from services.kitchen_intelligence.deps import KitchenState
from services.kitchen_intelligence.inputs import Location
from services.kitchen_intelligence.recommend import RecommendEngine
from services.kitchen_intelligence.schemas import RecipeRecommendBody
from services.kitchen_intelligence.sky import BUCKET_S, effective_instant
from shared.astro import planetary_hour

from .conftest import NOW

PER_CALL = ("cache", "cache_level", "execution_time_ms", "dialect", "requested_time")


def _stable(body: dict[str, Any]) -> dict[str, Any]:
    out = orjson.loads(orjson.dumps(body))
    for key in PER_CALL:
        out["metadata"].pop(key, None)
    return out


async def test_second_call_is_a_hit_and_identical(client: AsyncClient) -> None:
    body = {"current_time": "2024-05-04T16:02:00Z", "cuisine_preferences": ["Thai"], "limit": 5}
    first = await client.post("/recommend/recipes", json=body)
    second = await client.post("/recommend/recipes", json=body)
    assert first.status_code == second.status_code == 200
    assert first.json()["metadata"]["cache"] == "miss"
    assert second.json()["metadata"]["cache"] == "hit"
    assert second.headers["x-kitchen-cache"] == "hit"
    assert _stable(first.json()) == _stable(second.json())


async def test_cached_answer_equals_a_fresh_computation(
    client: AsyncClient, app: FastAPI, settings: Any
) -> None:
    """The cache key carries the effective instant, so what the cache serves is what a brand-new engine
    (no caches at all) computes for the same request."""
    state: KitchenState = app.state.kitchen
    for body in (
        {"limit": 7},  # "now" (the fixed clock)
        {"current_time": "2024-05-04T16:03:59Z", "dietary_restrictions": ["vegetarian"], "limit": 3},
        {"currentElements": {"Fire": 0.3, "Water": 0.25, "Earth": 0.25, "Air": 0.2}, "limit": 4},
        {"ingredients": ["tomato", "basil"], "limit": 5, "offset": 2},
    ):
        await client.post("/recommend/recipes", json=body)
        hit = await client.post("/recommend/recipes", json=body)
        assert hit.json()["metadata"]["cache"] == "hit", body
        fresh_engine = RecommendEngine(state.index, settings)
        query = fresh_engine.normalize(RecipeRecommendBody.model_validate(body))
        eff, hour = fresh_engine.effective(query.at, query.location, NOW)
        fresh = fresh_engine.compute(query, eff, hour)
        assert _stable(hit.json()) == _stable(fresh), body


async def test_instants_in_one_bucket_share_the_answer(client: AsyncClient) -> None:
    a = await client.post("/recommend/recipes", json={"current_time": "2024-05-04T16:05:01Z", "limit": 3})
    b = await client.post("/recommend/recipes", json={"current_time": "2024-05-04T16:09:59Z", "limit": 3})
    assert b.json()["metadata"]["cache"] == "hit"
    assert a.json()["request_context"]["timestamp"] == "2024-05-04T16:05:00Z"
    assert _stable(a.json()) == _stable(b.json())
    assert b.json()["metadata"]["requested_time"] == "2024-05-04T16:09:59Z"


def test_effective_instant_never_crosses_an_hour_start() -> None:
    at = datetime(2024, 5, 4, 16, 3, tzinfo=UTC)
    nyc = Location(40.7128, -74.006, "America/New_York")
    hour = planetary_hour(at, nyc.latitude, nyc.longitude, nyc.tz)
    # an instant a few seconds after the hour began: the bucket start lies in the previous hour
    just_after = hour.start + timedelta(seconds=5)
    hour_now = planetary_hour(just_after, nyc.latitude, nyc.longitude, nyc.tz)
    eff = effective_instant(just_after, hour_now)
    assert eff == max(
        hour_now.start, datetime.fromtimestamp(just_after.timestamp() // BUCKET_S * BUCKET_S, UTC)
    )
    assert hour_now.start <= eff <= just_after
    assert planetary_hour(eff, nyc.latitude, nyc.longitude, nyc.tz).planet == hour_now.planet


async def test_deterministic_for_equal_input(client: AsyncClient) -> None:
    body = {"current_time": "2023-12-24T20:00:00Z", "limit": 50, "offset": 10}
    a = await client.post("/recommend/recipes", json=body, headers={"Cache-Control": "no-cache"})
    b = await client.post("/recommend/recipes", json=body, headers={"Cache-Control": "no-cache"})
    assert a.json()["metadata"]["cache"] == b.json()["metadata"]["cache"] == "miss"
    assert a.json()["metadata"]["cache_level"] == "bypass"
    assert _stable(a.json()) == _stable(b.json())
    scores = [i["score"] for i in a.json()["recommendations"]]
    assert scores == sorted(scores, reverse=True)  # shown rounded; ranked on the exact score, then id


async def test_response_shape(client: AsyncClient) -> None:
    r = await client.post("/recommend/recipes", json={"current_time": "2024-08-01T12:00:00Z", "limit": 3})
    body = r.json()
    assert set(body) >= {"recommendations", "total_count", "request_context", "metadata"}
    meta = body["metadata"]
    for key in (
        "service",
        "algorithm_version",
        "calculation_method",
        "execution_time_ms",
        "planetary_hour",
        "cache",
    ):
        assert key in meta, key
    assert meta["planetary_hour"]["planet"] in {
        "Sun",
        "Moon",
        "Mercury",
        "Venus",
        "Mars",
        "Jupiter",
        "Saturn",
    }
    ctx = body["request_context"]
    assert ctx["timestamp"] == "2024-08-01T12:00:00Z"
    assert set(ctx["elemental_state"]) == {"Fire", "Water", "Earth", "Air"}
    item = body["recommendations"][0]
    assert item["rank"] == 1
    b = item["breakdown"]
    for key in ("sky", "elemental", "planetaryFavour", "methodAffinity", "rulingPlanet"):
        assert key in b
    assert b["rulingPlanet"]["planet"] and b["rulingPlanet"]["why"]
    assert item["score"] == pytest.approx(
        0.4 * b["sky"] + 0.3 * b["elemental"] + 0.2 * b["planetaryFavour"] + 0.1 * b["methodAffinity"],
        abs=2e-4,
    )
    assert 1 <= len(item["reasons"]) <= 5 and all(isinstance(x, str) and x for x in item["reasons"])
    recipe = item["recipe"]
    for key in (
        "id",
        "name",
        "cuisine",
        "prep_time",
        "difficulty",
        "elemental_score",
        "planetary_alignment",
        "match_reasons",
        "elements",
        "thermodynamics",
        "diet_tags",
    ):
        assert key in recipe, key
    assert sum(recipe["elements"].values()) == pytest.approx(1, abs=1e-3)


async def test_hour_ruler_reason(client: AsyncClient, app: FastAPI) -> None:
    body = (
        await client.post("/recommend/recipes", json={"current_time": "2024-08-01T12:00:00Z", "limit": 50})
    ).json()
    hour_planet = body["metadata"]["planetary_hour"]["planet"]
    ruled = [i for i in body["recommendations"] if i["breakdown"]["rulingPlanet"]["planet"] == hour_planet]
    for item in ruled:
        assert any(r.startswith(f"{hour_planet} rules this hour") for r in item["reasons"]), item["reasons"]
        assert body["request_context"]["sky"]["planets"][hour_planet]["hourBonus"] == 0.2


async def test_pantry_boost(client: AsyncClient) -> None:
    base = {"current_time": "2024-08-01T12:00:00Z", "limit": 10}
    plain = (await client.post("/recommend/recipes", json=base)).json()
    boosted = (
        await client.post("/recommend/recipes", json={**base, "ingredients": ["coconut milk", "lime"]})
    ).json()
    assert boosted["total_count"] == plain["total_count"]  # a boost, not a filter
    top = boosted["recommendations"][0]
    assert top["breakdown"]["pantry"]["uses"]
    assert top["breakdown"]["pantry"]["share"] > 0
    assert any(r.startswith("Uses ") for r in top["reasons"])
    assert top["score"] == pytest.approx(
        0.8 * top["breakdown"]["baseScore"] + 0.2 * top["breakdown"]["pantry"]["share"], abs=2e-4
    )


async def test_caller_elements_change_the_elemental_term(client: AsyncClient) -> None:
    fire = {"current_time": "2024-08-01T12:00:00Z", "desired_elements": {"Fire": 1}, "limit": 5}
    water = {**fire, "desired_elements": {"water": 1}}
    a = (await client.post("/recommend/recipes", json=fire)).json()
    b = (await client.post("/recommend/recipes", json=water)).json()
    assert a["request_context"]["elemental_source"] == "desired_elements"
    assert a["recommendations"][0]["breakdown"]["elementalMode"] == "caller_elements_compatibility"
    assert [i["recipe"]["id"] for i in a["recommendations"]] != [
        i["recipe"]["id"] for i in b["recommendations"]
    ]
    for item in a["recommendations"]:
        assert 0.7 <= item["breakdown"]["elemental"] <= 0.9


async def test_empty_body_and_null_body(client: AsyncClient) -> None:
    variants: list[dict[str, Any]] = [{}, {"content": b""}, {"content": b"null"}, {"json": {}}]
    for kwargs in variants:
        r = await client.post("/recommend/recipes", **kwargs)
        assert r.status_code == 200, (kwargs, r.text)
        assert len(r.json()["recommendations"]) == 10


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 51}, "limit"),
        ({"offset": -1}, "offset"),
        ({"limit": "many"}, "limit"),
        ({"cuisine_preferences": ["Martian"]}, "cuisine_preferences"),
        ({"cuisinePreferences": ["Martian"]}, "cuisinePreferences"),
        ({"dietary_restrictions": ["keto"]}, "dietary_restrictions"),
        ({"meal_type": "elevenses"}, "meal_type"),
        ({"season": ["monsoon"]}, "season"),
        ({"max_prep_time": -5}, "max_prep_time"),
        ({"max_difficulty": 9}, "max_difficulty"),
        ({"current_time": "yesterday"}, "current_time"),
        ({"current_time": "1700-01-01T00:00:00Z"}, "current_time"),
        ({"location": {"latitude": 100, "longitude": 0}}, "location.latitude"),
        ({"location": {"latitude": 10}}, "location.longitude"),
        ({"location": {"latitude": 10, "longitude": 20, "tz": "Mars/Olympus"}}, "location.tz"),
        ({"location": "NYC"}, "location"),
        ({"current_elements": {"Fire": "hot"}}, "current_elements.Fire"),
        ({"current_elements": {"Fire": 0, "Water": 0}}, "current_elements"),
        ({"desired_elements": {"spice": 1}}, "desired_elements"),
        ({"desired_elements": [1, 2]}, "desired_elements"),
        ({"ingredients": [1, 2]}, "ingredients.0"),
        ({"ingredients": ["x" * 500]}, "ingredients.0"),
    ],
)
async def test_bad_input_names_the_field(client: AsyncClient, body: dict[str, Any], field: str) -> None:
    r = await client.post("/recommend/recipes", json=body)
    assert r.status_code == 422, r.text
    data = r.json()
    assert data["error"] == "VALIDATION_ERROR"
    assert field in [d["field"] for d in data["details"]], data


async def test_malformed_json_is_400(client: AsyncClient) -> None:
    r = await client.post(
        "/recommend/recipes", content=b"{oops", headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 400
    assert r.json()["error"] == "INVALID_JSON"
    r = await client.post("/recommend/recipes", json=["tomato"])
    assert r.status_code == 422
    assert r.json()["details"][0]["field"] == "body"


async def test_recommend_cuisines(client: AsyncClient) -> None:
    r = await client.post("/recommend/cuisines", json={"current_time": "2024-08-01T12:00:00Z", "limit": 20})
    assert r.status_code == 200, r.text
    data = r.json()
    scores = [c["score"] for c in data["cuisines"]]
    assert scores == sorted(scores, reverse=True)
    assert data["total_count"] == len(data["cuisines"]) == 14
    top = data["cuisines"][0]
    assert len(top["topRecipes"]) == 3 and top["reasons"]


async def test_usage_records_the_served_ids(app: FastAPI, client: AsyncClient) -> None:
    seen: list[Any] = []

    class Recorder:
        def record(self, scope: Any, method: str, route: str, status: int, elapsed: float) -> None:
            seen.append(scope["state"].get("recommendation_ids"))

    old = getattr(app.state, "usage_recorder", None)
    app.state.usage_recorder = Recorder()
    try:
        r = await client.post("/recommend/recipes", json={"current_time": "2024-08-01T12:00:00Z", "limit": 2})
    finally:
        app.state.usage_recorder = old
    ids = [i["recipe"]["id"] for i in r.json()["recommendations"]]
    if seen:  # the middleware hands requests to the recorder
        assert [x["id"] for x in seen[-1]] == ids
