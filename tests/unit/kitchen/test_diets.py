"""Dietary tags derived from resolved ingredients: a vegan request never gets a recipe with an animal
ingredient (resolved, or named by an unresolved line), and unresolved lines are never claimed safe."""

from __future__ import annotations

import re
from typing import Any

from httpx import AsyncClient

from services.kitchen_intelligence.index import KitchenIndex
from shared.catalog.diet import ANIMAL_FLAGS, diet_rules

# An independent, deliberately blunt word list: words that name an animal product in a recipe line.
ANIMAL_WORDS = re.compile(
    r"\b(beef|pork|lamb|mutton|veal|chicken|turkey|duck|goose|bacon|ham|prosciutto|pancetta|sausages?|"
    r"chorizo|salami|anchov(y|ies)|fish|salmon|tuna|cod|shrimps?|prawns?|crab|lobster|clams?|mussels?|"
    r"oysters?|squid|octopus|eggs?|yolks?|milk|cream|butter|ghee|cheese|yogh?urt|honey|gelatin|lard|"
    r"mayonnaise|parmesan|mozzarella|feta|paneer|buttermilk|whey|bonito|dashi)\b",
    re.IGNORECASE,
)
# Plant products whose names contain one of those words.
PLANT_EXCEPTIONS = re.compile(
    r"\b(coconut (milk|cream|yogh?urt)|almond (milk|butter)|oat milk|soy milk|rice milk|cashew (milk|cream|"
    r"cheese)|peanut butter|nut butter|vegan \w+|plant[- ]based \w+|egg ?plants?|eggless|"
    r"butter ?(nut|beans?)|"
    r"cocoa butter|shea butter|apple butter|fish sauce substitute|mushroom \w+ sauce|vegetable stock|"
    r"cream of tartar|butterhead|milk thistle|dairy[- ]free \w+|sunflower butter|tahini|nutritional yeast|"
    r"egg replacer|flax egg|chia egg)\b",
    re.IGNORECASE,
)


def _animal_named(text: str) -> bool:
    return bool(ANIMAL_WORDS.search(PLANT_EXCEPTIONS.sub(" ", text)))


async def _all_recommended(client: AsyncClient, body: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    offset = 0
    while True:
        r = await client.post("/recommend/recipes", json={**body, "limit": 50, "offset": offset})
        assert r.status_code == 200, r.text
        data = r.json()
        out.extend(data["recommendations"])
        offset += 50
        if offset >= data["total_count"]:
            return out


async def test_vegan_request_never_returns_animal_ingredients(
    client: AsyncClient, index: KitchenIndex
) -> None:
    for body in (
        {"dietary_restrictions": ["vegan"]},
        {"dietaryRestrictions": ["Vegan"], "ingredients": ["tofu", "rice"]},
        {"dietary_restrictions": "vegan, gluten-free"},
    ):
        items = await _all_recommended(client, body)
        assert items, body
        rules = diet_rules()
        for item in items:
            recipe = index.catalog.recipes[item["recipe"]["id"]]
            assert "vegan" in item["recipe"]["diet_tags"]
            for line in recipe.ingredients:
                res = index.resolver.resolve(line.name)
                if res.ingredient is not None:
                    flags = res.ingredient.diet
                    assert not any(getattr(flags, f) for f in (*ANIMAL_FLAGS, "is_animal_derived")), (
                        recipe.id,
                        line.name,
                        res.ingredient.slug,
                    )
                elif not res.non_food:
                    raise AssertionError(f"{recipe.id}: unresolved line {line.name!r} in a vegan answer")
                text_flags = rules.scan(line.name)
                assert not any(getattr(text_flags, f) for f in ANIMAL_FLAGS), (recipe.id, line.name)
                assert not _animal_named(line.name), (recipe.id, line.name)


def test_no_recipe_with_unresolved_lines_is_claimed_for_a_diet_they_might_break(index: KitchenIndex) -> None:
    for entry in index.recipes:
        report = entry.diet
        for diet, verdict in report.verdicts.items():
            if verdict.satisfied is True:
                assert not verdict.unresolved, (entry.id, diet)
                assert diet in entry.diets_ok
            else:
                assert diet not in entry.diets_ok
        if report.unresolved and entry.diets_unknown:
            assert entry.diet_notes, entry.id
            assert "not in the catalog" in entry.diet_notes[0]


def test_vegan_tags_imply_vegetarian_and_dairy_free(index: KitchenIndex) -> None:
    for entry in index.recipes:
        if "vegan" in entry.diets_ok:
            assert {"vegetarian", "pescatarian", "dairy-free"} <= entry.diets_ok, entry.id
        if "vegetarian" in entry.diets_ok:
            assert "pescatarian" in entry.diets_ok, entry.id


def test_obvious_animal_recipes_are_not_vegetarian(index: KitchenIndex) -> None:
    for entry in index.recipes:
        names = " ".join(line.name for line in entry.recipe.ingredients)
        if re.search(r"\b(chicken|beef|pork|lamb|bacon)\b", names, re.IGNORECASE):
            assert "vegetarian" not in entry.diets_ok, entry.id
            assert "vegan" not in entry.diets_ok, entry.id


async def test_diet_notes_surface_in_answers(client: AsyncClient, index: KitchenIndex) -> None:
    noted = [e for e in index.recipes if e.diet_notes]
    if not noted:  # the catalog resolves every line: nothing to say
        return
    entry = noted[0]
    r = await client.get(f"/recipes/{entry.id}")
    body = r.json()
    assert body["diet_notes"] == list(entry.diet_notes)
    assert set(body["diet_unknown"]) == set(entry.diets_unknown)
    for diet in entry.diets_unknown:
        assert diet not in body["diet_tags"]
