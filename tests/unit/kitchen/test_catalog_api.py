"""The catalog endpoints: recipes, ingredients, cuisines, sauces (and their legacy /api/v1 aliases)."""

from __future__ import annotations

from typing import Any

import pytest
from httpx import AsyncClient

from services.kitchen_intelligence.index import KitchenIndex
from shared.alchemy import ELEMENTS, normalize, recipe_elements, thermodynamics
from shared.catalog.text import fold


async def test_recipe_list_default_order_and_paging(client: AsyncClient, index: KitchenIndex) -> None:
    r = await client.get("/recipes", params={"limit": 100})
    data = r.json()
    assert data["total_count"] == len(index.recipes)
    names = [(fold(x["name"]), x["id"]) for x in data["recipes"]]
    assert names == sorted(names)
    seen: list[str] = []
    for offset in range(0, data["total_count"], 100):
        page = (await client.get("/recipes", params={"limit": 100, "offset": offset})).json()
        seen.extend(x["id"] for x in page["recipes"])
    assert len(seen) == len(set(seen)) == len(index.recipes)
    empty = (await client.get("/recipes", params={"offset": 10_000})).json()
    assert empty["recipes"] == [] and empty["total_count"] == len(index.recipes)


async def test_recipe_search(client: AsyncClient) -> None:
    data = (await client.get("/recipes", params={"q": "chicken", "limit": 100})).json()
    assert data["total_count"] > 0
    in_name = [("chicken" in fold(x["name"])) for x in data["recipes"]]
    # recipes naming the query come first
    assert in_name == sorted(in_name, reverse=True)
    none = (await client.get("/recipes", params={"q": "zzqxj"})).json()
    assert none["total_count"] == 0


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"offset": -1}, "offset"),
        ({"diet": "keto"}, "diet"),
        ({"cuisine": "martian"}, "cuisine"),
        ({"meal_type": "elevenses"}, "meal_type"),
        ({"season": "monsoon"}, "season"),
        ({"max_prep_time": "soon"}, "max_prep_time"),
        ({"max_difficulty": "impossible"}, "max_difficulty"),
    ],
)
async def test_recipe_list_bad_params(client: AsyncClient, params: dict[str, Any], field: str) -> None:
    r = await client.get("/recipes", params=params)
    assert r.status_code == 422, r.text
    assert field in [d["field"] for d in r.json()["details"]]


async def test_recipe_detail_recomputes(client: AsyncClient, index: KitchenIndex) -> None:
    entry = index.recipes[3]
    r = await client.get(f"/recipes/{entry.id}", params={"at": "2024-03-01T12:00:00Z"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["id"] == entry.id
    assert body["curated_elements"] == entry.recipe.elements.as_dict()
    assert body["elements"]["regime"] == "recipe_pipeline"
    sky_share = body["elements"]["skyShare"]
    final = recipe_elements(entry.pipeline, sky_share, entry.methods)
    assert body["elements"]["final"] == final
    assert body["elements"]["normalized"] == normalize(final)
    esms = body["thermodynamics"]["esms"]
    thermo = thermodynamics(
        esms["Spirit"], esms["Essence"], esms["Matter"], esms["Substance"], *(final[e] for e in ELEMENTS)
    )
    assert body["thermodynamics"]["heat"] == thermo.heat
    assert body["thermodynamics"]["monica"] == thermo.monica
    assert body["thermodynamics"]["at"] == "2024-03-01T12:00:00Z"
    assert "alchemicalProperties" not in body and "thermodynamicProperties" not in body
    assert "raw_audit" not in body
    assert set(body["diet"]["verdicts"]) == {
        "vegetarian",
        "vegan",
        "pescatarian",
        "gluten-free",
        "dairy-free",
        "nut-free",
    }
    assert len(body["ingredient_lines"]) == len(entry.recipe.ingredients)


async def test_recipe_detail_errors(client: AsyncClient, index: KitchenIndex) -> None:
    assert (await client.get("/recipes/no-such-recipe")).status_code == 404
    rid = index.recipes[0].id
    r = await client.get(f"/recipes/{rid}", params={"lat": 95, "lon": 0})
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "lat"
    r = await client.get(f"/recipes/{rid}", params={"lat": 10})
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "lon"
    r = await client.get(f"/recipes/{rid}", params={"at": "noon"})
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "at"
    r = await client.get(f"/recipes/{rid}", params={"tz": "Nowhere/Town"})
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "tz"


async def test_ingredients_list_and_filters(client: AsyncClient, index: KitchenIndex) -> None:
    data = (await client.get("/ingredients", params={"limit": 100})).json()
    assert data["total_count"] == len(index.ingredients)
    spices = (
        await client.get("/ingredients", params={"category": "spice", "element": "fire", "limit": 100})
    ).json()
    assert spices["total_count"] > 0
    for item in spices["ingredients"]:
        assert item["category"] == "spice" and item["dominantElement"] == "Fire"
    basil = (await client.get("/ingredients", params={"q": "basil"})).json()
    assert basil["ingredients"][0]["slug"] == "basil"
    for params, field in (
        ({"category": "rocks"}, "category"),
        ({"element": "aether"}, "element"),
        ({"limit": 500}, "limit"),
    ):
        r = await client.get("/ingredients", params=params)
        assert r.status_code == 422 and field in [d["field"] for d in r.json()["details"]]


async def test_ingredient_detail_by_slug_alias_and_name(client: AsyncClient, index: KitchenIndex) -> None:
    slug = index.ingredients[0].slug
    r = await client.get(f"/ingredients/{slug}")
    assert r.status_code == 200 and r.json()["slug"] == slug
    alias, target = next(iter(index.catalog.aliases.items()))
    r = await client.get(f"/ingredients/{alias}")
    assert r.status_code == 200 and r.json()["slug"] == target
    r = await client.get("/ingredients/BASIL")
    assert r.status_code == 200 and r.json()["slug"] == "basil" and r.json()["aliasUsed"] is True
    assert (await client.get("/ingredients/unobtainium")).status_code == 404


async def test_cuisines_and_sauces(client: AsyncClient, index: KitchenIndex) -> None:
    data = (await client.get("/cuisines")).json()
    assert {c["slug"] for c in data["cuisines"]} == set(index.catalog.cuisines)
    counts = {c["slug"]: c["recipeCount"] for c in data["cuisines"]}
    assert sum(counts.values()) == len(index.recipes)
    me = (await client.get("/cuisines/Middle Eastern")).json()
    assert me["slug"] == "middle-eastern" and len(me["recipes"]) == counts["middle-eastern"]
    assert (await client.get("/cuisines/atlantis")).status_code == 404
    sauces = (await client.get("/sauces")).json()
    assert sauces["total_count"] == len(index.catalog.sauces)
    italian = (await client.get("/sauces", params={"cuisine": "Italian"})).json()
    assert italian["total_count"] > 0 and all(s["cuisine_slug"] == "italian" for s in italian["sauces"])
    assert (await client.get("/sauces", params={"cuisine": "atlantis"})).status_code == 422
    slug = sauces["sauces"][0]["slug"]
    assert (await client.get(f"/sauces/{slug}")).json()["slug"] == slug
    assert (await client.get("/sauces/ketchup-of-doom")).status_code == 404


async def test_legacy_v1_catalog(client: AsyncClient) -> None:
    assert (await client.get("/api/v1/cuisines")).json() == (await client.get("/cuisines")).json()
    assert (await client.get("/api/v1/cuisines/thai")).json()["slug"] == "thai"
    assert (await client.get("/api/v1/sauces")).json() == (await client.get("/sauces")).json()
    v1 = (await client.get("/api/v1/ingredients", params={"q": "tomato"})).json()
    assert v1 == (await client.get("/ingredients", params={"q": "tomato"})).json()
    assert (await client.get("/api/v1/ingredients/tomato")).json()["slug"] == "tomato"
