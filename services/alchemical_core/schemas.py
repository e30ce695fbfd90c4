"""Request bodies of the core service. Each accepts the canonical form and the frontend's legacy dialects
(design/reference/frontend-contract-analysis.md §1.8); unknown keys are ignored, numbers must be finite."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

Finite = Annotated[float, Field(allow_inf_nan=False)]
NonNegative = Annotated[float, Field(ge=0, le=1e9, allow_inf_nan=False)]
#: ESMS values may be negative in the legacy callers (backendAdapter passes Greg's Energy as "essence");
#: the engine clamps negatives to 0 for kalchm (domain.md §4).
Signed = Annotated[float, Field(ge=-1e9, le=1e9, allow_inf_nan=False)]

MAX_INGREDIENTS = 100


def _alias(name: str) -> Any:
    return Field(default=None, validation_alias=AliasChoices(name, name.lower()))


class ElementsIn(BaseModel):
    """``{Fire, Water, Earth, Air}`` (lowercase keys accepted); values ≥ 0, raw or normalised."""

    model_config = ConfigDict(extra="ignore")
    Fire: NonNegative = Field(validation_alias=AliasChoices("Fire", "fire"))
    Water: NonNegative = Field(validation_alias=AliasChoices("Water", "water"))
    Earth: NonNegative = Field(validation_alias=AliasChoices("Earth", "earth"))
    Air: NonNegative = Field(validation_alias=AliasChoices("Air", "air"))

    def as_dict(self) -> dict[str, float]:
        return {"Fire": self.Fire, "Water": self.Water, "Earth": self.Earth, "Air": self.Air}


class EsmsIn(BaseModel):
    """``{Spirit, Essence, Matter, Substance}`` (lowercase keys accepted)."""

    model_config = ConfigDict(extra="ignore")
    Spirit: Signed = Field(validation_alias=AliasChoices("Spirit", "spirit"))
    Essence: Signed = Field(validation_alias=AliasChoices("Essence", "essence"))
    Matter: Signed = Field(validation_alias=AliasChoices("Matter", "matter"))
    Substance: Signed = Field(validation_alias=AliasChoices("Substance", "substance"))


class LocationIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    latitude: Finite = Field(validation_alias=AliasChoices("latitude", "lat"))
    longitude: Finite = Field(validation_alias=AliasChoices("longitude", "lon", "lng"))
    tz: str | None = Field(default=None, max_length=64, validation_alias=AliasChoices("tz", "timezone"))


class IngredientIn(BaseModel):
    """One ingredient line: a name with an optional amount and unit (``2 cups``, ``150 g``…)."""

    model_config = ConfigDict(extra="ignore")
    name: str = Field(min_length=1, max_length=200)
    amount: NonNegative | None = None
    unit: str | None = Field(default=None, max_length=32)
    #: True when the caller sent a bare name (legacy form) rather than an object.
    bare: bool = Field(default=False, exclude=True)

    @model_validator(mode="before")
    @classmethod
    def _from_name(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {"name": value, "bare": True}
        return value


IngredientItem = IngredientIn


class ElementalRequest(BaseModel):
    """``{ingredients: [name | {name, amount?, unit?}], weights?}``.

    The legacy ``normalize`` and ``method`` keys are accepted and ignored."""

    model_config = ConfigDict(extra="ignore")
    ingredients: list[IngredientItem] = Field(min_length=1, max_length=MAX_INGREDIENTS)
    weights: list[NonNegative] | None = Field(default=None, max_length=MAX_INGREDIENTS)

    @field_validator("weights")
    @classmethod
    def _weights_match(cls, weights: list[float] | None, info: ValidationInfo) -> list[float] | None:
        ingredients = info.data.get("ingredients")
        if weights is not None and ingredients is not None:
            if len(weights) != len(ingredients):
                raise ValueError(f"{len(weights)} weights for {len(ingredients)} ingredients")
            if not any(w > 0 for w in weights):
                raise ValueError("weights must not all be zero")
        return weights


class ThermodynamicsRequest(BaseModel):
    """Canonical ``{esms?, elements}``; legacy bare ``{Fire, Water, Earth, Air}``;
    or ``{ingredients, at?, location?}``.

    Without ``esms`` the sky's ESMS at ``at`` (default: now) is used."""

    model_config = ConfigDict(extra="ignore")
    Fire: NonNegative | None = _alias("Fire")
    Water: NonNegative | None = _alias("Water")
    Earth: NonNegative | None = _alias("Earth")
    Air: NonNegative | None = _alias("Air")
    elements: ElementsIn | None = None
    esms: EsmsIn | None = None
    ingredients: list[IngredientItem] | None = Field(default=None, min_length=1, max_length=MAX_INGREDIENTS)
    at: str | None = Field(default=None, max_length=64)
    location: LocationIn | None = None

    def bare_elements(self) -> dict[str, float] | None:
        values = (self.Fire, self.Water, self.Earth, self.Air)
        if all(v is None for v in values):
            return None
        if any(v is None for v in values):
            return {}  # incomplete: reported by the route
        return {
            "Fire": self.Fire or 0.0,
            "Water": self.Water or 0.0,
            "Earth": self.Earth or 0.0,
            "Air": self.Air or 0.0,
        }


class ChartRequest(BaseModel):
    """``{positions, isDiurnal?}`` (a chart) or ``{at?, location?}`` (the sky) or legacy lowercase ESMS."""

    model_config = ConfigDict(extra="ignore")
    positions: dict[str, Any] | None = Field(
        default=None, validation_alias=AliasChoices("positions", "planetaryPositions", "planetary_positions")
    )
    isDiurnal: bool | None = Field(
        default=None, validation_alias=AliasChoices("isDiurnal", "is_diurnal", "diurnal")
    )
    at: str | None = Field(default=None, max_length=64)
    location: LocationIn | None = None
    spirit: Signed | None = _alias("Spirit")
    essence: Signed | None = _alias("Essence")
    matter: Signed | None = _alias("Matter")
    substance: Signed | None = _alias("Substance")

    def legacy_esms(self) -> tuple[float, float, float, float] | None:
        values = (self.spirit, self.essence, self.matter, self.substance)
        if all(v is None for v in values):
            return None
        if any(v is None for v in values):
            return ()  # type: ignore[return-value]
        return (self.spirit or 0.0, self.essence or 0.0, self.matter or 0.0, self.substance or 0.0)


class PositionsRequest(BaseModel):
    """``POST /planetary/positions``: ``{at?}`` or the frontend's
    ``{year, month, day, hour?, minute?, latitude?, longitude?}`` (local to ``tz``, default UTC)."""

    model_config = ConfigDict(extra="ignore")
    at: str | None = Field(default=None, max_length=64)
    year: int | None = Field(default=None, ge=1800, le=2200)
    month: int | None = Field(default=None, ge=1, le=12)
    day: int | None = Field(default=None, ge=1, le=31)
    hour: int | None = Field(default=None, ge=0, le=23)
    minute: int | None = Field(default=None, ge=0, le=59)
    latitude: Finite | None = None
    longitude: Finite | None = None
    tz: str | None = Field(default=None, max_length=64, validation_alias=AliasChoices("tz", "timezone"))
    zodiacSystem: str | None = Field(default=None, max_length=16)
