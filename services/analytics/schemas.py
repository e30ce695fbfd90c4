"""Request bodies of the analytics service (validation errors name the field: 422 by shared.errors)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, field_validator

MAX_LOG_MESSAGE = 2000
MAX_LOG_DATA_BYTES = 8192
MAX_EXTRA_BYTES = 4096
#: Accepted clock skew of producers: events stamped further in the future are refused.
MAX_FUTURE = timedelta(hours=1)

_ID = r"^[A-Za-z0-9._:\-]+$"


def _json_size(value: Any) -> int:
    try:
        return len(orjson.dumps(value))
    except (TypeError, orjson.JSONEncodeError) as exc:  # pragma: no cover - parsed JSON always dumps
        raise ValueError("must be plain JSON") from exc


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class EventIn(BaseModel):
    """One usage event, in the canonical (named-field) form."""

    model_config = ConfigDict(extra="forbid")

    event_id: Annotated[str, Field(min_length=8, max_length=64, pattern=_ID)]
    #: ISO 8601 (UTC if no offset) or Unix seconds.
    ts: datetime
    service: Annotated[str, Field(min_length=1, max_length=64)]
    instance: Annotated[str | None, Field(max_length=128)] = None
    route: Annotated[str, Field(min_length=1, max_length=256)]
    method: Annotated[str, Field(min_length=1, max_length=10, pattern=r"^[A-Za-z]+$")]
    status: Annotated[int, Field(ge=100, le=599)]
    latency_ms: Annotated[float, Field(ge=0, le=3_600_000)]
    user_hash: Annotated[str | None, Field(max_length=64, pattern=r"^[A-Za-z0-9]+$")] = None
    recommendation_ids: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=128)]] | None, Field(max_length=100)
    ] = None
    extra: dict[str, Any] | None = None

    @field_validator("recommendation_ids", mode="before")
    @classmethod
    def _ids_as_text(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [str(v) if isinstance(v, int) and not isinstance(v, bool) else v for v in value]
        return value

    @field_validator("ts")
    @classmethod
    def _ts_sane(cls, value: datetime) -> datetime:
        value = _aware(value)
        if value > datetime.now(UTC) + MAX_FUTURE:
            raise ValueError("is in the future")
        if value.year < 2000:
            raise ValueError("is before the year 2000")
        return value

    @field_validator("latency_ms")
    @classmethod
    def _finite(cls, value: float) -> float:
        if not math.isfinite(value):
            raise ValueError("must be a finite number")
        return value

    @field_validator("extra")
    @classmethod
    def _extra_small(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None and _json_size(value) > MAX_EXTRA_BYTES:
            raise ValueError(f"must serialise to at most {MAX_EXTRA_BYTES} bytes of JSON")
        return value


class EventBatch(BaseModel):
    """``POST /events``: a batch of at most 1000 usage events (idempotent by ``event_id``)."""

    model_config = ConfigDict(extra="forbid")

    events: Annotated[list[EventIn], Field(min_length=1, max_length=1000)]


class LogIn(BaseModel):
    """``POST /log``: the frontend logger's record ``{level, message, data, timestamp}``."""

    level: Literal["debug", "info", "warn", "error"]
    message: Annotated[str, Field(max_length=MAX_LOG_MESSAGE)]
    data: Any = None
    #: The client's clock (ISO 8601 or Unix milliseconds); kept as given, the server time is ``ts``.
    timestamp: datetime | None = None

    @field_validator("level", mode="before")
    @classmethod
    def _level_alias(cls, value: Any) -> Any:
        if isinstance(value, str):
            lowered = value.strip().lower()
            return {"warning": "warn", "err": "error", "information": "info"}.get(lowered, lowered)
        return value

    @field_validator("timestamp", mode="before")
    @classmethod
    def _epoch_ms(cls, value: Any) -> Any:
        # JavaScript's Date.now() is milliseconds.
        if isinstance(value, int | float) and not isinstance(value, bool) and value > 1e11:
            return value / 1000.0
        return value

    @field_validator("data")
    @classmethod
    def _data_small(cls, value: Any) -> Any:
        if value is not None and _json_size(value) > MAX_LOG_DATA_BYTES:
            raise ValueError(f"must serialise to at most {MAX_LOG_DATA_BYTES} bytes of JSON")
        return value


class FeedbackIn(BaseModel):
    """``POST /feedback``: a reaction to a recommendation (snake_case or camelCase)."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    recommendation_id: Annotated[
        str | None, Field(default=None, min_length=1, max_length=64, alias="recommendationId")
    ] = None
    recipe_id: Annotated[str | None, Field(default=None, min_length=1, max_length=128, alias="recipeId")] = (
        None
    )
    action: Literal["clicked", "rated", "dismissed"]
    rating: Annotated[int | None, Field(default=None, ge=1, le=5)] = None

    @field_validator("recipe_id", "recommendation_id", mode="before")
    @classmethod
    def _ids_as_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    def problem(self) -> tuple[str, str] | None:
        """The cross-field rule this body breaks, as (field, reason); the route answers 422 with it."""
        if self.action == "rated" and self.rating is None:
            return "rating", "is required when action is 'rated' (1 to 5)"
        if self.action != "rated" and self.rating is not None:
            return "rating", "is only allowed when action is 'rated'"
        if self.recommendation_id is None and self.recipe_id is None:
            return "recipe_id", "recipe_id or recommendation_id is required"
        return None
