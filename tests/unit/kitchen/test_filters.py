"""Every returned recipe obeys every filter — checked on every recipe, independently of the filter code, over
the filter space (hypothesis) — and limit/offset page through the matches exactly once each."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import Any

import pytest
from httpx import AsyncClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.kitchen_intelligence.filters import (
    DIETS,
    RecipeFilter,
    difficulty,
    normalize_cuisines,
    normalize_diets,
    normalize_difficulty,
    normalize_meal_types,
    normalize_seasons,
    split_values,
)
from services.kitchen_intelligence.index import KitchenIndex, RecipeEntry
from services.kitchen_intelligence.inputs import Location
from services.kitchen_intelligence.recommend import RecommendEngine
from shared.catalog.diet import DietReport, recipe_diets
from shared.catalog.text import fold, normalize_text, singular_tokens, tokens
from shared.errors import InvalidInput

NYC = Location(40.7128, -74.006, "America/New_York")
AT = datetime(2024, 10, 5, 18, 30, tzinfo=UTC)

CUISINES = ["italian", "thai", "french", "japanese", "mexican", "indian", "middle-eastern", "korean", "greek"]
MEALS = ["breakfast", "lunch", "dinner", "dessert", "snack", "appetizer", "soup", "salad"]
SEASONS = ["spring", "summer", "autumn", "winter"]
EXCLUDE = ["peanuts", "garlic", "chicken", "butter", "cilantro", "soy sauce", "egg", "rice", "tomato", "lime"]


@cache
def _words(text: str) -> tuple[str, ...]:
    return singular_tokens(tokens(normalize_text(fold(text))))


def _contains(words: tuple[str, ...], phrase: tuple[str, ...]) -> bool:
    n = len(phrase)
    return any(words[i : i + n] == phrase for i in range(len(words) - n + 1))


_REPORTS: dict[str, DietReport] = {}


def _diet_report(index: KitchenIndex, recipe_id: str) -> DietReport:
    """The shared diet report of a recipe, computed here (not taken from the index) once per recipe."""
    found = _REPORTS.get(recipe_id)
    if found is None:
        found = _REPORTS[recipe_id] = recipe_diets(index.catalog.recipes[recipe_id], index.resolver)
    return found


def assert_obeys(index: KitchenIndex, entry: RecipeEntry, spec: dict[str, Any]) -> None:
    """Check one recipe against the raw filter spec from first principles (catalog fields, shared diet
    report, the resolver), not through ``RecipeFilter.accepts``."""
    recipe = entry.recipe
    if spec.get("cuisines"):
        assert recipe.cuisine.slug in spec["cuisines"], (recipe.id, spec)
    if spec.get("diets"):
        report = _diet_report(index, recipe.id)
        for diet in spec["diets"]:
            assert report.satisfied(diet) is True, (recipe.id, diet)
    if spec.get("meal_types"):
        assert (set(recipe.meal_types) | set(recipe.courses)) & set(spec["meal_types"]), recipe.id
    if spec.get("seasons"):
        assert set(recipe.seasons) & set(spec["seasons"]), recipe.id
    if spec.get("max_prep_time") is not None:
        assert recipe.prep_minutes is not None and recipe.prep_minutes <= spec["max_prep_time"], recipe.id
    if spec.get("max_difficulty") is not None:
        level = difficulty(
            recipe.total_minutes, len(recipe.ingredients), len(recipe.instructions), recipe.canonical_methods
        )
        assert level <= spec["max_difficulty"], recipe.id
    for name in spec.get("exclude", ()):
        res = index.resolver.resolve(name)
        words = _words(name)
        for line in recipe.ingredients:
            line_res = index.resolver.resolve(line.name)
            if res.ingredient is not None:
                assert line_res.ingredient is None or line_res.ingredient.slug != res.ingredient.slug, (
                    recipe.id,
                    name,
                    line.name,
                )
            assert not _contains(_words(line.name), words), (recipe.id, name, line.name)


filter_specs = st.fixed_dictionaries(
    {},
    optional={
        "cuisines": st.lists(st.sampled_from(CUISINES), max_size=3, unique=True),
        "diets": st.lists(st.sampled_from(DIETS), max_size=2, unique=True),
        "meal_types": st.lists(st.sampled_from(MEALS), max_size=2, unique=True),
        "seasons": st.lists(st.sampled_from(SEASONS), max_size=2, unique=True),
        "max_prep_time": st.none() | st.integers(0, 200),
        "max_difficulty": st.none() | st.integers(1, 5),
        "exclude": st.lists(st.sampled_from(EXCLUDE), max_size=3, unique=True),
    },
)


def _filter(engine: RecommendEngine, spec: dict[str, Any]) -> RecipeFilter:
    return engine.build_filter(
        cuisines=spec.get("cuisines", ()),
        diets=spec.get("diets", ()),
        meal_types=spec.get("meal_types", ()),
        seasons=spec.get("seasons", ()),
        max_prep_time=spec.get("max_prep_time"),
        max_difficulty=spec.get("max_difficulty"),
        exclude=spec.get("exclude", ()),
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(spec=filter_specs)
def test_every_ranked_recipe_obeys_every_filter(engine: RecommendEngine, spec: dict[str, Any]) -> None:
    sky = engine.sky(AT, NYC)
    ranking = engine.score_all(_filter(engine, spec), sky, None)
    accepted = {ranking.scored(p).entry.id for p in range(len(ranking))}
    for position in range(len(ranking)):
        assert_obeys(engine.index, ranking.scored(position).entry, spec)
    # and nothing that obeys was left out (the filter is exact, not just safe)
    flt = _filter(engine, spec)
    expected = {e.id for e in engine.index.recipes if flt.accepts(e)}
    assert accepted == expected


def test_filters_are_not_vacuous(engine: RecommendEngine) -> None:
    sky = engine.sky(AT, NYC)
    everything = len(engine.score_all(_filter(engine, {}), sky, None))
    for spec in (
        {"cuisines": ["thai"]},
        {"diets": ["vegan"]},
        {"meal_types": ["dessert"]},
        {"seasons": ["summer"]},
        {"max_prep_time": 20},
        {"max_difficulty": 1},
        {"exclude": ["garlic"]},
    ):
        n = len(engine.score_all(_filter(engine, spec), sky, None))
        assert 0 < n < everything, spec


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(spec=filter_specs, limit=st.integers(7, 50))
async def test_api_paging_returns_each_match_once(
    client: AsyncClient, spec: dict[str, Any], limit: int
) -> None:
    body: dict[str, Any] = {
        "current_time": "2024-10-05T18:30:00Z",
        "cuisine_preferences": spec.get("cuisines", []),
        "dietary_restrictions": spec.get("diets", []),
        "meal_type": spec.get("meal_types", []),
        "season": spec.get("seasons", []),
        "excluded_ingredients": spec.get("exclude", []),
        "limit": limit,
    }
    if spec.get("max_prep_time") is not None:
        body["max_prep_time"] = spec["max_prep_time"]
    if spec.get("max_difficulty") is not None:
        body["max_difficulty"] = spec["max_difficulty"]
    seen: list[str] = []
    offset = 0
    total = None
    scores: list[float] = []
    while True:
        r = await client.post("/recommend/recipes", json={**body, "offset": offset})
        assert r.status_code == 200, r.text
        data = r.json()
        total = data["total_count"] if total is None else total
        assert data["total_count"] == total
        page = data["recommendations"]
        assert len(page) == min(limit, max(0, total - offset))
        seen.extend(item["recipe"]["id"] for item in page)
        scores.extend(item["score"] for item in page)
        offset += limit
        if offset >= total:
            break
    assert len(seen) == total == len(set(seen))
    assert scores == sorted(scores, reverse=True)


async def test_get_recipes_paging_and_filters(client: AsyncClient, index: KitchenIndex) -> None:
    params: dict[str, Any] = {"diet": "vegetarian", "season": "summer", "limit": 7}
    seen: list[str] = []
    offset = 0
    while True:
        r = await client.get("/recipes", params={**params, "offset": offset})
        assert r.status_code == 200, r.text
        data = r.json()
        seen.extend(item["id"] for item in data["recipes"])
        offset += 7
        if offset >= data["total_count"]:
            break
    assert len(seen) == data["total_count"] == len(set(seen)) > 0
    for rid in seen:
        assert_obeys(index, index.by_id[rid], {"diets": ["vegetarian"], "seasons": ["summer"]})


async def test_get_recipes_repeated_and_comma_params(client: AsyncClient) -> None:
    a = (
        await client.get("/recipes", params=[("cuisine", "Thai"), ("cuisine", "korean"), ("limit", 100)])
    ).json()
    b = (await client.get("/recipes", params={"cuisine": "thai,Korean", "limit": 100})).json()
    assert a["total_count"] == b["total_count"] > 0
    assert [r["id"] for r in a["recipes"]] == [r["id"] for r in b["recipes"]]
    assert {r["cuisine_slug"] for r in a["recipes"]} == {"thai", "korean"}


def test_normalisers() -> None:
    assert normalize_diets(["Vegetarian", "Gluten Free", "dairy_free", "NUT-FREE", "pescetarian"], "d") == (
        "vegetarian",
        "pescatarian",
        "gluten-free",
        "dairy-free",
        "nut-free",
    )
    assert normalize_cuisines(["Italian", "Middle Eastern", "MiddleEastern"], CUISINES, "c") == (
        "italian",
        "middle-eastern",
    )
    assert normalize_meal_types(["Dessert", "side dish", "Soup"], "m") == ("dessert", "side", "soup")
    assert normalize_seasons(["Fall", "summer"], "s") == ("summer", "autumn")
    assert normalize_difficulty("medium", "x") == 3
    assert normalize_difficulty(3, "x") == 3
    assert normalize_difficulty("4", "x") == 4
    assert split_values(["a, b", "c"]) == ["a", "b", "c"]
    for call, field in (
        (lambda: normalize_diets(["keto"], "dietary_restrictions"), "dietary_restrictions"),
        (lambda: normalize_cuisines(["Martian"], CUISINES, "cuisine"), "cuisine"),
        (lambda: normalize_meal_types(["elevenses"], "meal_type"), "meal_type"),
        (lambda: normalize_seasons(["monsoon"], "season"), "season"),
        (lambda: normalize_difficulty(9, "max_difficulty"), "max_difficulty"),
        (lambda: normalize_difficulty("trivial", "max_difficulty"), "max_difficulty"),
    ):
        with pytest.raises(InvalidInput) as err:
            call()
        assert err.value.field == field


def test_text_query_matches_words(engine: RecommendEngine) -> None:
    flt = engine.build_filter(q="chicken curry")
    hits = [e for e in engine.index.recipes if flt.accepts(e)]
    assert hits
    for e in hits:
        assert " chicken" in e.search_text and " curry" in e.search_text
