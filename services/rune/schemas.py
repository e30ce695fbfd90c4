"""Request models of the rune service (responses are plain JSON built by :mod:`services.rune.views`)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, StrictInt, field_validator

__all__ = [
    "MAX_QUESTION_CHARS",
    "MAX_SITUATION_CHARS",
    "CastRequest",
    "GuidanceLocation",
    "GuidancePreferences",
    "GuidanceRequest",
    "SituationRequest",
]

MAX_QUESTION_CHARS = 500
MAX_SITUATION_CHARS = 2000
MAX_SEED_CHARS = 256
MAX_INT_SEED = 2**63
MAX_USER_ID_CHARS = 128

GuidanceContext = Literal["cuisine", "recipe", "ingredient", "cooking_method"]
Intensity = Literal["mild", "moderate", "intense"]


class CastRequest(BaseModel):
    """``POST /rune/cast``."""

    model_config = ConfigDict(extra="ignore")

    count: StrictInt = Field(
        default=1, description="1 (single rune), 3 (past/present/future) or 9 (the nine worlds)"
    )
    seed: str | int | None = Field(
        default=None,
        description="Makes the cast reproducible (random.Random seeded from SHA-256 of the seed's text); "
        "absent: a cryptographically random draw (secrets.SystemRandom).",
    )
    question: str | None = Field(default=None, max_length=MAX_QUESTION_CHARS)
    allow_reversed: bool = Field(
        default=True,
        validation_alias=AliasChoices("allow_reversed", "allowReversed"),
        description="Reversible runes come up reversed with probability 1/2 (never the nine symmetric ones).",
    )

    @field_validator("count")
    @classmethod
    def _count(cls, value: int) -> int:
        if value not in (1, 3, 9):
            raise ValueError("must be 1, 3 or 9")
        return value

    @field_validator("seed", mode="before")
    @classmethod
    def _seed(cls, value: object) -> object:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise ValueError("must be a string or an integer")
        if isinstance(value, int) and not -MAX_INT_SEED <= value <= MAX_INT_SEED:
            raise ValueError("an integer seed must be within ±2^63 (use a string for longer seeds)")
        if isinstance(value, str) and not 1 <= len(value) <= MAX_SEED_CHARS:
            raise ValueError(f"must be 1–{MAX_SEED_CHARS} characters")
        return value


class SituationRequest(BaseModel):
    """``POST /interpret/situation``."""

    model_config = ConfigDict(extra="ignore")

    text: str = Field(min_length=1, max_length=MAX_SITUATION_CHARS)
    date: dt.date | None = Field(default=None, description="Local date for the fallback (daily) rune")
    tz: str | None = Field(default=None, validation_alias=AliasChoices("tz", "timezone"))
    user_id: str | None = Field(
        default=None, max_length=MAX_USER_ID_CHARS, validation_alias=AliasChoices("user_id", "userId")
    )


class GuidanceLocation(BaseModel):
    model_config = ConfigDict(extra="ignore")

    latitude: float = Field(ge=-90, le=90, validation_alias=AliasChoices("latitude", "lat"))
    longitude: float = Field(ge=-180, le=180, validation_alias=AliasChoices("longitude", "lon", "lng"))


class GuidancePreferences(BaseModel):
    model_config = ConfigDict(extra="ignore")

    dietaryRestrictions: list[str] = Field(default_factory=list, max_length=20)
    cuisineTypes: list[str] = Field(default_factory=list, max_length=20)
    intensity: Intensity | None = None

    @field_validator("dietaryRestrictions", "cuisineTypes")
    @classmethod
    def _short(cls, values: list[str]) -> list[str]:
        if any(len(v) > 64 for v in values):
            raise ValueError("each entry must be at most 64 characters")
        return values


class GuidanceRequest(BaseModel):
    """The frontend's ``RuneAgentRequest`` (``POST /api/runes/guidance``), plus an optional ``timezone``."""

    model_config = ConfigDict(extra="ignore")

    datetime: dt.datetime | None = None
    location: GuidanceLocation | None = None
    context: GuidanceContext | None = None
    preferences: GuidancePreferences | None = None
    timezone: str | None = Field(default=None, validation_alias=AliasChoices("timezone", "tz"))
