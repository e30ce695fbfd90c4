"""Request bodies. The recommendation body accepts the frontend's three dialects in one model
(frontend-contract-analysis §1.8):

* snake_case (``AlchemicalApiClient`` A4, the notebook, k6): ``{current_time?, location?: {latitude,
  longitude}, current_elements?, desired_elements?, cuisine_preferences?, dietary_restrictions?,
  ingredient_preferences?, ingredient_dislikes?, available_ingredients?, max_prep_time?, max_difficulty?,
  limit?, include_recipes?, include_alternatives?}``;
* camelCase (``BackendStatus``): ``{currentElements, cuisinePreferences, limit}`` and the other fields in
  camelCase (``currentTime``, ``dietaryRestrictions``, ``maxPrepTime``, ``mealType`` …);
* ``{ingredients, dietaryRestrictions?, cuisinePreferences?}`` (``AlchmAPIClient`` B3): the ingredients are
  "what I have" and boost the recipes that use them.

Every field is optional; unknown keys are ignored (``include_recipes``, ``include_alternatives``,
``normalize``…). Lists may be given as a JSON list or a comma-separated string.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr, model_validator
from pydantic_core.core_schema import ValidatorFunctionWrapHandler

__all__ = [
    "MAX_LIST",
    "CompatibilityBody",
    "IngredientRecommendBody",
    "LegacyEnhancedBody",
    "RecipeRecommendBody",
    "StrList",
]

MAX_LIST = 50


def _to_list(value: Any) -> Any:
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


StrList = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=120)]],
    BeforeValidator(_to_list),
    Field(max_length=MAX_LIST),
]
Elements = dict[str, Any] | None


def _a(*names: str) -> AliasChoices:
    return AliasChoices(*names)


class RecipeRecommendBody(BaseModel):
    """``POST /recommend/recipes`` — every dialect (see the module docstring)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    current_time: str | float | None = Field(
        None,
        validation_alias=_a("current_time", "currentTime", "datetime", "at", "time", "timestamp"),
        description="ISO 8601 instant (or epoch ms); default now. Floored to the 5-minute cache bucket.",
    )
    location: dict[str, Any] | None = Field(
        None, description="{latitude, longitude, tz?}; default New York City"
    )
    current_elements: Elements = Field(
        None,
        validation_alias=_a("current_elements", "currentElements", "elemental_state", "elementalState"),
        description="{Fire, Water, Earth, Air}: score by compatibility with these instead of the sky",
    )
    desired_elements: Elements = Field(
        None,
        validation_alias=_a("desired_elements", "desiredElements", "target_elements", "targetElements"),
        description="{Fire, Water, Earth, Air}: wins over current_elements",
    )
    cuisine_preferences: StrList = Field(
        default_factory=list,
        validation_alias=_a(
            "cuisine_preferences", "cuisinePreferences", "cuisines", "cuisine", "cuisineTypes"
        ),
        description="filter: cuisine names or slugs (Italian, middle-eastern…)",
    )
    dietary_restrictions: StrList = Field(
        default_factory=list,
        validation_alias=_a(
            "dietary_restrictions", "dietaryRestrictions", "diets", "diet", "dietaryPreferences"
        ),
        description="filter: vegetarian, vegan, pescatarian, gluten-free, dairy-free, nut-free",
    )
    meal_type: StrList = Field(
        default_factory=list,
        validation_alias=_a("meal_type", "mealType", "meal_types", "mealTypes", "course"),
        description="filter: breakfast, lunch, dinner, dessert, snack… or a course (soup, salad…)",
    )
    season: StrList = Field(
        default_factory=list, validation_alias=_a("season", "seasons"), description="filter: spring…winter"
    )
    max_prep_time: int | None = Field(
        None, ge=0, le=100_000, validation_alias=_a("max_prep_time", "maxPrepTime"), description="minutes"
    )
    max_total_time: int | None = Field(
        None, ge=0, le=100_000, validation_alias=_a("max_total_time", "maxTotalTime"), description="minutes"
    )
    max_difficulty: int | str | None = Field(
        None, validation_alias=_a("max_difficulty", "maxDifficulty"), description="1–5 or easy/medium/hard"
    )
    excluded_ingredients: StrList = Field(
        default_factory=list,
        validation_alias=_a(
            "excluded_ingredients",
            "excludedIngredients",
            "exclude_ingredients",
            "excludeIngredients",
            "exclude",
        ),
        description="filter: recipes using any of these are left out",
    )
    ingredient_dislikes: StrList = Field(
        default_factory=list,
        validation_alias=_a("ingredient_dislikes", "ingredientDislikes"),
        description="same as excluded_ingredients",
    )
    ingredients: StrList = Field(
        default_factory=list,
        validation_alias=_a("ingredients", "available_ingredients", "availableIngredients", "pantry"),
        description="what I have: recipes using them are boosted",
    )
    ingredient_preferences: StrList = Field(
        default_factory=list,
        validation_alias=_a("ingredient_preferences", "ingredientPreferences"),
        description="same as ingredients",
    )
    limit: int = Field(10, ge=1, le=50, validation_alias=_a("limit", "maxResults", "max_results"))
    offset: int = Field(0, ge=0, le=10_000)

    _dialect: str = PrivateAttr(default="snake_case")
    _used: dict[str, str] = PrivateAttr(default_factory=dict)

    @model_validator(mode="wrap")
    @classmethod
    def _remember_dialect(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        model = handler(data)
        if isinstance(data, dict):
            model._dialect = detect_dialect(data.keys())
            model._used = _used_names(cls, data)
        return model

    def field_name(self, name: str) -> str:
        """The key the caller used for field ``name`` (``cuisinePreferences`` …), for error messages."""
        return self._used.get(name, name)

    @property
    def dialect(self) -> str:
        """Which of the three dialects the body was written in (reported in ``metadata.dialect``)."""
        return self._dialect


def _used_names(model: type[BaseModel], data: dict[str, Any]) -> dict[str, str]:
    used: dict[str, str] = {}
    for name, info in model.model_fields.items():
        alias = info.validation_alias
        if isinstance(alias, AliasChoices):
            for choice in alias.choices:
                if isinstance(choice, str) and choice in data:
                    used[name] = choice
                    break
    return used


_SNAKE_KEYS = frozenset(
    {
        "current_time",
        "current_elements",
        "cuisine_preferences",
        "dietary_restrictions",
        "max_prep_time",
        "desired_elements",
        "max_difficulty",
        "ingredient_preferences",
        "ingredient_dislikes",
        "available_ingredients",
    }
)
_CAMEL_KEYS = frozenset(
    {
        "currentElements",
        "currentTime",
        "desiredElements",
        "maxPrepTime",
        "mealType",
        "maxDifficulty",
        "excludedIngredients",
        "availableIngredients",
    }
)


def detect_dialect(keys: Any) -> str:
    """``snake_case`` | ``camelCase`` | ``ingredients`` (B3: ``{ingredients, dietaryRestrictions?,
    cuisinePreferences?}``) — a label for the answer's metadata, never a change in meaning."""
    names = {str(k) for k in keys}
    if names & _SNAKE_KEYS:
        return "snake_case"
    if names & _CAMEL_KEYS:
        return "camelCase"
    if "ingredients" in names:
        return "ingredients"
    if names & {"cuisinePreferences", "dietaryRestrictions"}:
        return "camelCase"
    return "snake_case"


class IngredientRecommendBody(BaseModel):
    """``POST /recommend/ingredients``."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    current_time: str | float | None = Field(
        None, validation_alias=_a("current_time", "currentTime", "datetime", "at", "time", "timestamp")
    )
    location: dict[str, Any] | None = None
    current_elements: Elements = Field(None, validation_alias=_a("current_elements", "currentElements"))
    desired_elements: Elements = Field(
        None, validation_alias=_a("desired_elements", "desiredElements", "target_elements", "targetElements")
    )
    categories: StrList = Field(
        default_factory=list, validation_alias=_a("categories", "category"), description="filter: categories"
    )
    elements: StrList = Field(
        default_factory=list,
        validation_alias=_a("element", "elements", "dominant_element", "dominantElement"),
        description="filter: dominant element(s)",
    )
    dietary_restrictions: StrList = Field(
        default_factory=list,
        validation_alias=_a(
            "dietary_restrictions", "dietaryRestrictions", "diets", "diet", "dietaryPreferences"
        ),
    )
    season: StrList = Field(default_factory=list, validation_alias=_a("season", "seasons"))
    excluded_ingredients: StrList = Field(
        default_factory=list,
        validation_alias=_a(
            "excluded_ingredients",
            "excludedIngredients",
            "exclude_ingredients",
            "excludeIngredients",
            "exclude",
        ),
    )
    limit: int = Field(24, ge=1, le=100)
    offset: int = Field(0, ge=0, le=10_000)


class CompatibilityBody(BaseModel):
    """``POST /compatibility/check``: 2..20 ingredient names."""

    model_config = ConfigDict(extra="ignore")

    ingredients: list[Annotated[str, Field(min_length=1, max_length=120)]] = Field(
        ..., min_length=2, max_length=20, description="2..20 ingredient names (free text, resolved)"
    )
    suggestions: int = Field(5, ge=0, le=20, description="how many suggestions to return")


class LegacyEnhancedBody(BaseModel):
    """``POST /api/kitchen/recommendations/{recipes,ingredients,cuisines}`` (KitchenBackendClient C1–C3)."""

    model_config = ConfigDict(extra="ignore")

    datetime: str | float | None = None
    location: dict[str, Any] | None = None
    preferences: dict[str, Any] | None = None
    limit: int = Field(10, ge=1, le=50)
