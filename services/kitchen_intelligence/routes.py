"""HTTP routes of kitchen-intelligence: thin shells over the pure modules.

Canonical: ``POST /recommend/recipes``, ``POST /recommend/ingredients``, ``POST /recommend/cuisines``,
``POST /compatibility/check``, ``GET /recipes``, ``GET /recipes/{id}``, ``GET /ingredients``,
``GET /ingredients/{slug}``, ``GET /cuisines``, ``GET /cuisines/{slug}``, ``GET /sauces``,
``GET /sauces/{slug}``. Legacy aliases: ``POST /api/kitchen/recommendations/{recipes,ingredients,cuisines}``
(and ``/recommendations/…`` behind the gateway, which strips ``/api/kitchen``) and ``GET /api/v1/cuisines``,
``/api/v1/cuisines/{id}``, ``/api/v1/sauces``, ``/api/v1/ingredients``, ``/api/v1/ingredients/{slug}``.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, TypeVar

import orjson
from fastapi import Body, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from starlette.responses import Response

from shared.app import api_router
from shared.astro.ephemeris import minute_floor
from shared.catalog.vocab import cuisine_slug
from shared.errors import AppError, InvalidInput, NotFound
from shared.http import ORJSONResponse

from .cache import with_tail
from .catalog_views import (
    cuisine_detail,
    cuisine_list,
    ingredient_detail,
    ingredient_list,
    recipe_detail,
    recipe_list,
    sauce_detail,
    sauce_list,
)
from .compat import check_compatibility
from .deps import KitchenDep, KitchenState, get_state
from .filters import split_values
from .ingredients import build_query as build_ingredient_query
from .ingredients import normalize_categories, normalize_element_names, rank_ingredients
from .inputs import parse_instant, parse_location
from .recommend import RecipeQuery, parse_elements
from .schemas import CompatibilityBody, IngredientRecommendBody, LegacyEnhancedBody, RecipeRecommendBody
from .sky import SkyContext

BodyT = TypeVar("BodyT", bound=BaseModel)

router = api_router(tags=["kitchen"])
legacy = api_router(tags=["legacy"])

ListQuery = Annotated[list[str] | None, Query(description="repeat the parameter or give a comma list")]
LIMIT_MAX = 100


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000.0, 3)


def _ok(payload: dict[str, Any]) -> ORJSONResponse:
    """Render a dict with orjson directly (a returned Response skips FastAPI's response-model walk)."""
    return ORJSONResponse(payload)


def _json(body: bytes, cache: str) -> Response:
    return Response(body, media_type="application/json", headers={"X-Kitchen-Cache": cache})


# --- recommendations ---------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Prepared:
    """A normalised body, memoised by its exact bytes (bodies without ``current_time`` only)."""

    query: RecipeQuery
    dialect: str
    requested_time: Any
    eff: datetime | None = None
    key: str = ""


class _BodyMemo:
    MAX_BODY = 2048

    def __init__(self, size: int = 2048) -> None:
        self.size = size
        self.data: OrderedDict[bytes, _Prepared] = OrderedDict()

    def get(self, raw: bytes) -> _Prepared | None:
        return self.data.get(raw)

    def put(self, raw: bytes, value: _Prepared) -> None:
        if len(raw) > self.MAX_BODY:
            return
        self.data[raw] = value
        while len(self.data) > self.size:
            self.data.popitem(last=False)


def parse_json_body(raw: bytes, model: type[BodyT]) -> BodyT:
    """Validate a JSON body into ``model`` with the fleet's error format (400 not JSON, 422 per field)."""
    if not raw.strip():
        return model()
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise AppError(
            f"request body is not valid JSON: {exc}",
            code="INVALID_JSON",
            status_code=400,
            details=[{"field": "body", "reason": str(exc)}],
        ) from exc
    if data is None:
        return model()
    if not isinstance(data, dict):
        raise InvalidInput("body", "must be a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
        raise RequestValidationError(errors) from exc


def _prepare(request: Request, state: KitchenState, raw: bytes) -> _Prepared:
    memo: _BodyMemo | None = getattr(request.app.state, "kitchen_body_memo", None)
    if memo is None:
        memo = request.app.state.kitchen_body_memo = _BodyMemo()
    prepared = memo.get(raw)
    if prepared is None:
        body = parse_json_body(raw, RecipeRecommendBody)
        prepared = _Prepared(state.engine.normalize(body), body.dialect, body.current_time)
        if body.current_time is None:
            memo.put(raw, prepared)
    return prepared


@router.post(
    "/recommend/recipes",
    summary="Recipes to cook now: filters + context → ranked recipes with score, breakdown and reasons",
    description=(
        "Accepts the snake_case, camelCase and {ingredients, dietaryRestrictions, cuisinePreferences} "
        "dialects (see the schema: every field is optional, unknown keys are ignored). Cached for 5 minutes "
        "per normalised request and effective instant; send `Cache-Control: no-cache` to recompute."
    ),
    openapi_extra={
        "requestBody": {
            "required": False,
            "content": {"application/json": {"schema": RecipeRecommendBody.model_json_schema()}},
        }
    },
)
async def recommend_recipes(request: Request) -> Response:
    started = time.perf_counter()
    state = get_state(request)
    prepared = _prepare(request, state, await request.body())
    engine = state.engine
    query = prepared.query
    eff, hour = engine.effective(query.at, query.location, state.clock())
    if prepared.eff == eff:
        key = prepared.key
    else:
        key = engine.cache_key(query, eff)
        prepared.eff, prepared.key = eff, key
    bypass = "no-cache" in request.headers.get("cache-control", "").lower()
    cached, where = (None, "bypass") if bypass else await state.cache.get(key)
    status = "hit"
    if cached is None:
        status = "miss"
        cached = await state.cache.put(key, engine.compute(query, eff, hour))
    request.state.recommendation_ids = list(cached.served)
    tail: dict[str, Any] = {
        "cache": status,
        "cache_level": where if status == "hit" else ("bypass" if bypass else "none"),
        "dialect": prepared.dialect,
        "requested_time": prepared.requested_time,
        "execution_time_ms": _ms(started),
    }
    return _json(with_tail(cached.prefix, tail), status)


@router.post(
    "/recommend/cuisines", summary="Cuisines ranked by their best recipes now (same body as recipes)"
)
async def recommend_cuisines(
    state: KitchenDep, body: Annotated[RecipeRecommendBody | None, Body()] = None
) -> ORJSONResponse:
    body = body or RecipeRecommendBody()
    query = state.engine.normalize(body)
    eff, hour = state.engine.effective(query.at, query.location, state.clock())
    return _ok(state.engine.cuisines(query, eff, hour))


def _ingredient_answer(state: KitchenState, body: IngredientRecommendBody) -> dict[str, Any]:
    engine = state.engine
    at = parse_instant(body.current_time, "current_time")
    location = engine.location(body.location)
    desired = parse_elements(body.desired_elements, "desired_elements")
    target = desired if desired is not None else parse_elements(body.current_elements, "current_elements")
    query = build_ingredient_query(
        state.index,
        location,
        target,
        categories=body.categories,
        elements=body.elements,
        diets=body.dietary_restrictions,
        seasons=body.season,
        exclude=body.excluded_ingredients,
        limit=body.limit,
        offset=body.offset,
    )
    eff, hour = engine.effective(at, location, state.clock())
    return rank_ingredients(state.index, query, engine.sky(eff, location, hour))


@router.post(
    "/recommend/ingredients", summary="Catalog ingredients ranked for a moment or for given elements"
)
async def recommend_ingredients(
    state: KitchenDep, body: Annotated[IngredientRecommendBody | None, Body()] = None
) -> ORJSONResponse:
    return _ok(_ingredient_answer(state, body or IngredientRecommendBody()))


@router.post(
    "/compatibility/check", summary="2..20 ingredients: overall score, every pair, weakest pair, suggestions"
)
async def compatibility_check(state: KitchenDep, body: CompatibilityBody) -> ORJSONResponse:
    return _ok(check_compatibility(state.index, body.ingredients, body.suggestions))


# --- catalog -----------------------------------------------------------------------------------------------


@router.get("/recipes", summary="Recipes: text search, filters, pagination (ordered by name, then id)")
async def list_recipes(
    state: KitchenDep,
    q: Annotated[str | None, Query(max_length=200)] = None,
    cuisine: ListQuery = None,
    meal_type: ListQuery = None,
    diet: ListQuery = None,
    season: ListQuery = None,
    max_prep_time: Annotated[int | None, Query(ge=0, le=100_000)] = None,
    max_total_time: Annotated[int | None, Query(ge=0, le=100_000)] = None,
    max_difficulty: Annotated[str | None, Query(max_length=20)] = None,
    exclude: ListQuery = None,
    limit: Annotated[int, Query(ge=1, le=LIMIT_MAX)] = 20,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> ORJSONResponse:
    flt = state.engine.build_filter(
        cuisines=split_values(cuisine),
        diets=split_values(diet),
        meal_types=split_values(meal_type),
        seasons=split_values(season),
        max_prep_time=max_prep_time,
        max_total_time=max_total_time,
        max_difficulty=max_difficulty,
        exclude=split_values(exclude),
        q=q,
        names={"cuisines": "cuisine", "diets": "diet", "meal_types": "meal_type", "seasons": "season"},
    )
    return _ok(recipe_list(state.index, flt, limit, offset, flt.query))


def _sky_for_detail(
    state: KitchenState, at: str | None, lat: float | None, lon: float | None, tz: str | None
) -> SkyContext:
    instant = parse_instant(at, "at") or state.clock()
    location = parse_location(state.settings, lat, lon, tz, prefix="", names=("lat", "lon", "tz"))
    return state.engine.sky(minute_floor(instant), location)


@router.get(
    "/recipes/{recipe_id}", summary="One recipe with elements/thermodynamics recomputed now and its diets"
)
async def get_recipe(
    state: KitchenDep,
    recipe_id: Annotated[str, Path(max_length=200)],
    at: Annotated[
        str | None, Query(max_length=64, description="instant (default now, to the minute)")
    ] = None,
    lat: Annotated[float | None, Query()] = None,
    lon: Annotated[float | None, Query()] = None,
    tz: Annotated[str | None, Query(max_length=64)] = None,
) -> ORJSONResponse:
    entry = state.index.by_id.get(recipe_id)
    if entry is None:
        raise NotFound(f"no recipe {recipe_id!r}")
    return _ok(recipe_detail(entry, _sky_for_detail(state, at, lat, lon, tz)))


@router.get("/ingredients", summary="Ingredients: search, category and dominant-element filters, pagination")
async def list_ingredients(
    state: KitchenDep,
    q: Annotated[str | None, Query(max_length=200)] = None,
    category: ListQuery = None,
    element: ListQuery = None,
    limit: Annotated[int, Query(ge=1, le=LIMIT_MAX)] = 50,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> ORJSONResponse:
    categories = normalize_categories(state.index, split_values(category), "category")
    elements = normalize_element_names(split_values(element), "element")
    return _ok(ingredient_list(state.index, q, categories, elements, limit, offset))


@router.get("/ingredients/{slug}", summary="One ingredient (slug, old key, alias or name)")
async def get_ingredient(state: KitchenDep, slug: Annotated[str, Path(max_length=200)]) -> ORJSONResponse:
    return _ok(ingredient_detail(state.index, slug))


@router.get("/cuisines", summary="Cuisines with their elements and recipe counts")
async def list_cuisines(state: KitchenDep) -> ORJSONResponse:
    return _ok(cuisine_list(state.index))


@router.get("/cuisines/{slug}", summary="One cuisine with its sauces, techniques and recipes")
async def get_cuisine(state: KitchenDep, slug: Annotated[str, Path(max_length=100)]) -> ORJSONResponse:
    return _ok(cuisine_detail(state.index, slug))


@router.get("/sauces", summary="Sauces (optionally of one cuisine)")
async def list_sauces(
    state: KitchenDep, cuisine: Annotated[str | None, Query(max_length=100)] = None
) -> ORJSONResponse:
    if cuisine is not None:
        slug = cuisine_slug(cuisine)
        if slug not in state.index.catalog.cuisines:
            raise InvalidInput("cuisine", f"unknown cuisine {cuisine!r}")
        return _ok(sauce_list(state.index, slug))
    return _ok(sauce_list(state.index))


@router.get("/sauces/{slug}", summary="One sauce")
async def get_sauce(state: KitchenDep, slug: Annotated[str, Path(max_length=100)]) -> ORJSONResponse:
    return _ok(sauce_detail(state.index, slug))


# --- legacy paths ------------------------------------------------------------------------------------------


def _legacy_body(body: LegacyEnhancedBody) -> RecipeRecommendBody:
    prefs = body.preferences or {}
    return RecipeRecommendBody.model_validate(
        {
            "current_time": body.datetime,
            "location": body.location,
            "dietary_restrictions": prefs.get("dietaryRestrictions") or [],
            "cuisine_preferences": prefs.get("cuisineTypes") or [],
            "limit": body.limit,
        }
    )


def _tokens(state: KitchenState, eff: datetime, hour: Any, location: Any) -> dict[str, Any]:
    sky = state.engine.sky(eff, location, hour)
    totals = sky.alchemy.esms.totals
    return {**totals, "kalchm": sky.alchemy.kalchm, "monica": sky.alchemy.monica}


def _enhanced(items: list[tuple[dict[str, Any], float, str]], context: dict[str, Any]) -> dict[str, Any]:
    return {
        "items": [
            {
                "item": item,
                "score": score,
                "breakdown": {
                    "baseScore": score,
                    "runeInfluence": 0.0,
                    "agentResonance": 0.0,
                    "tokenAlignment": 0.0,
                    "thermodynamicHarmony": 0.0,
                },
                "reasoning": reasoning,
            }
            for item, score, reasoning in items
        ],
        "context": context,
    }


async def legacy_recipes(state: KitchenDep, body: LegacyEnhancedBody) -> ORJSONResponse:
    """KitchenBackendClient C3: ``EnhancedRecommendationResult<Recipe>``."""
    query = state.engine.normalize(_legacy_body(body))
    eff, hour = state.engine.effective(query.at, query.location, state.clock())
    payload = state.engine.compute(query, eff, hour)
    items = [(r["recipe"], r["score"], "; ".join(r["reasons"])) for r in payload["recommendations"]]
    return _ok(
        _enhanced(
            items,
            {
                "tokens": _tokens(state, eff, hour, query.location),
                "planetary_hour": payload["metadata"]["planetary_hour"],
            },
        )
    )


async def legacy_ingredients(state: KitchenDep, body: LegacyEnhancedBody) -> ORJSONResponse:
    """KitchenBackendClient C2: ``EnhancedRecommendationResult<Ingredient>``."""
    prefs = body.preferences or {}
    ing_body = IngredientRecommendBody.model_validate(
        {
            "current_time": body.datetime,
            "location": body.location,
            "dietary_restrictions": prefs.get("dietaryRestrictions") or [],
            "limit": body.limit,
        }
    )
    answer = _ingredient_answer(state, ing_body)
    items = [(r["ingredient"], r["score"], "; ".join(r["reasons"])) for r in answer["ingredients"]]
    location = state.engine.location(body.location)
    eff, hour = state.engine.effective(parse_instant(body.datetime, "datetime"), location, state.clock())
    return _ok(_enhanced(items, {"tokens": _tokens(state, eff, hour, location)}))


async def legacy_cuisines(state: KitchenDep, body: LegacyEnhancedBody) -> ORJSONResponse:
    """KitchenBackendClient C1: ``EnhancedRecommendationResult<{name, type}>``."""
    query = state.engine.normalize(_legacy_body(body).model_copy(update={"cuisine_preferences": []}))
    eff, hour = state.engine.effective(query.at, query.location, state.clock())
    answer = state.engine.cuisines(query, eff, hour)
    items = [
        (
            {"name": c["name"], "type": "cuisine", "slug": c["slug"], "topRecipes": c["topRecipes"]},
            c["score"],
            "; ".join(c["reasons"]),
        )
        for c in answer["cuisines"]
    ]
    return _ok(_enhanced(items, {"tokens": _tokens(state, eff, hour, query.location)}))


for _prefix in ("/api/kitchen/recommendations", "/recommendations"):
    legacy.add_api_route(
        f"{_prefix}/recipes",
        legacy_recipes,
        methods=["POST"],
        name=f"legacy_recipes{_prefix.replace('/', '_')}",
    )
    legacy.add_api_route(
        f"{_prefix}/ingredients",
        legacy_ingredients,
        methods=["POST"],
        name=f"legacy_ingredients{_prefix.replace('/', '_')}",
    )
    legacy.add_api_route(
        f"{_prefix}/cuisines",
        legacy_cuisines,
        methods=["POST"],
        name=f"legacy_cuisines{_prefix.replace('/', '_')}",
    )


@legacy.get("/api/v1/cuisines", summary="HEAD AlchmAPIClient: cuisines")
async def v1_cuisines(state: KitchenDep) -> ORJSONResponse:
    return _ok(cuisine_list(state.index))


@legacy.get("/api/v1/cuisines/{cuisine_id}", summary="HEAD AlchmAPIClient: one cuisine")
async def v1_cuisine(state: KitchenDep, cuisine_id: Annotated[str, Path(max_length=100)]) -> ORJSONResponse:
    return _ok(cuisine_detail(state.index, cuisine_id))


@legacy.get("/api/v1/sauces", summary="HEAD AlchmAPIClient: sauces")
async def v1_sauces(state: KitchenDep) -> ORJSONResponse:
    return _ok(sauce_list(state.index))


@legacy.get(
    "/api/v1/ingredients", summary="HEAD AlchmAPIClient: ingredients (same parameters as /ingredients)"
)
async def v1_ingredients(
    state: KitchenDep,
    q: Annotated[str | None, Query(max_length=200)] = None,
    category: ListQuery = None,
    element: ListQuery = None,
    limit: Annotated[int, Query(ge=1, le=LIMIT_MAX)] = 50,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> ORJSONResponse:
    return await list_ingredients(state, q, category, element, limit, offset)


@legacy.get("/api/v1/ingredients/{slug}", summary="HEAD AlchmAPIClient: one ingredient")
async def v1_ingredient(state: KitchenDep, slug: Annotated[str, Path(max_length=200)]) -> ORJSONResponse:
    return _ok(ingredient_detail(state.index, slug))
