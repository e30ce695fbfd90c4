"""POST /compatibility/check and POST /recommend/ingredients."""

from __future__ import annotations

from typing import Any

import pytest
from httpx import AsyncClient

from services.kitchen_intelligence.index import KitchenIndex
from shared.alchemy import ingredient_pair_score, set_compatibility
from shared.catalog.diet import DIETS


async def test_compatibility_pairs_weakest_and_suggestions(client: AsyncClient, index: KitchenIndex) -> None:
    names = ["tomato", "basil", "chocolate", "salmon"]
    r = await client.post("/compatibility/check", json={"ingredients": names})
    assert r.status_code == 200, r.text
    body = r.json()
    assert len(body["pairs"]) == 6
    slugs = [i["slug"] for i in body["ingredients"]]
    from services.kitchen_intelligence.compat import profile_of

    profiles = [profile_of(index.catalog.ingredient(s)) for s in slugs]  # type: ignore[arg-type]
    expected = set_compatibility(profiles)
    assert body["overall"] == round(expected.score, 4)
    weakest = min(body["pairs"], key=lambda p: p["score"])
    assert body["weakest"]["score"] == weakest["score"]
    for pair in body["pairs"]:
        assert set(pair["breakdown"]) == {"elemental", "flavor", "seasonal", "energy"}
        assert pair["breakdown"]["energy"] == 0.5
        assert 0.7 <= pair["breakdown"]["elemental"] <= 0.9
    assert body["suggestions"], body
    for s in body["suggestions"]:
        assert s["slug"] not in slugs
        assert s["newOverall"] > body["overall"] - 1e-4
        # check the claim: adding the suggestion raises the set's mean
        ing = index.catalog.ingredient(s["slug"])
        assert ing is not None
        with_it = set_compatibility([*profiles, profile_of(ing)])
        assert with_it.score > expected.score
        a = index.ingredient_by_slug[body["weakest"]["a"]].ingredient
        b = index.ingredient_by_slug[body["weakest"]["b"]].ingredient
        bridge = (
            ingredient_pair_score(profile_of(a), profile_of(ing)).total
            + ingredient_pair_score(profile_of(b), profile_of(ing)).total
        ) / 2
        assert s["bridgeScore"] == round(bridge, 4)


async def test_compatibility_is_deterministic_and_dedupes(client: AsyncClient) -> None:
    body = {"ingredients": ["garlic", "onion", "Onion"]}
    a = (await client.post("/compatibility/check", json=body)).json()
    b = (await client.post("/compatibility/check", json=body)).json()
    assert a == b
    assert len(a["ingredients"]) == 2 and a["duplicates"][0]["input"] == "Onion"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"ingredients": ["tomato"]}, "ingredients"),
        ({"ingredients": ["tomato"] * 21}, "ingredients"),
        ({"ingredients": "tomato, basil"}, "ingredients"),
        ({}, "ingredients"),
        ({"ingredients": ["tomato", "unobtainium"]}, "ingredients.1"),
        ({"ingredients": ["tomato", "TOMATO"]}, "ingredients"),
        ({"ingredients": ["tomato", ""]}, "ingredients.1"),
        ({"ingredients": ["tomato", "basil"], "suggestions": 99}, "suggestions"),
    ],
)
async def test_compatibility_bad_input(client: AsyncClient, body: dict[str, Any], field: str) -> None:
    r = await client.post("/compatibility/check", json=body)
    assert r.status_code == 422, r.text
    assert field in [d["field"] for d in r.json()["details"]]


async def test_recommend_ingredients(client: AsyncClient, index: KitchenIndex) -> None:
    body = {"current_time": "2024-07-10T15:00:00Z", "limit": 100}
    data = (await client.post("/recommend/ingredients", json=body)).json()
    assert data["total_count"] == len(index.ingredients)
    scores = [i["score"] for i in data["ingredients"]]
    assert scores == sorted(scores, reverse=True)
    again = (await client.post("/recommend/ingredients", json=body)).json()
    assert again == data
    top = data["ingredients"][0]
    b = top["breakdown"]
    assert top["score"] == pytest.approx(
        0.45 * b["elemental"] + 0.35 * b["planetary"] + 0.2 * b["seasonal"], abs=2e-4
    )
    assert data["request_context"]["season"] == "summer"


async def test_recommend_ingredients_filters(client: AsyncClient, index: KitchenIndex) -> None:
    body = {
        "current_time": "2024-07-10T15:00:00Z",
        "category": ["spice", "culinary_herb"],
        "element": "Fire",
        "dietary_restrictions": ["vegan"],
        "excluded_ingredients": ["cumin"],
        "limit": 100,
    }
    data = (await client.post("/recommend/ingredients", json=body)).json()
    assert data["total_count"] > 0
    for item in data["ingredients"]:
        ing = index.catalog.ingredients[item["ingredient"]["slug"]]
        assert ing.category in {"spice", "culinary_herb"}
        assert ing.elements.dominant == "Fire"
        assert not any(getattr(ing.diet, f) for f in DIETS["vegan"])
        assert ing.slug != "cumin"
    south = (
        await client.post(
            "/recommend/ingredients",
            json={
                "current_time": "2024-07-10T15:00:00Z",
                "location": {"latitude": -33.87, "longitude": 151.21},
            },
        )
    ).json()
    assert south["request_context"]["season"] == "winter"
    for bad, field in (
        ({"category": "rocks"}, "category"),
        ({"element": "aether"}, "element"),
        ({"limit": 0}, "limit"),
        ({"dietary_restrictions": ["keto"]}, "dietary_restrictions"),
    ):
        r = await client.post("/recommend/ingredients", json=bad)
        assert r.status_code == 422 and field in [d["field"] for d in r.json()["details"]], (bad, r.text)


async def test_caller_elements_for_ingredients(client: AsyncClient) -> None:
    data = (
        await client.post("/recommend/ingredients", json={"desired_elements": {"Water": 1}, "limit": 5})
    ).json()
    assert data["ingredients"][0]["breakdown"]["elementalMode"] == "caller_elements_compatibility"
    assert data["request_context"]["elemental_state"] == {"Fire": 0.0, "Water": 1.0, "Earth": 0.0, "Air": 0.0}
