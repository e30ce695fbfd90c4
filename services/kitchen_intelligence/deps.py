"""The service's runtime state (built once in the lifespan) and its FastAPI dependency."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Annotated

from fastapi import Depends, Request

from shared.catalog.loader import get_catalog
from shared.settings import Settings

from .cache import ResponseCache
from .index import KitchenIndex, build_index
from .recommend import RecommendEngine

__all__ = ["KitchenDep", "KitchenState", "build_state", "get_index", "get_state"]


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class KitchenState:
    index: KitchenIndex
    engine: RecommendEngine
    cache: ResponseCache
    settings: Settings
    clock: Callable[[], datetime] = field(default=_utc_now)


@lru_cache(maxsize=1)
def get_index() -> KitchenIndex:
    """The shipped catalog, indexed once per process."""
    return build_index(get_catalog())


def build_state(settings: Settings, cache: ResponseCache | None = None) -> KitchenState:
    index = get_index()
    return KitchenState(
        index=index,
        engine=RecommendEngine(index, settings),
        cache=cache if cache is not None else ResponseCache(),
        settings=settings,
    )


def get_state(request: Request) -> KitchenState:
    state: KitchenState | None = getattr(request.app.state, "kitchen", None)
    if state is None:  # no lifespan ran (bare TestClient without context): build on first use
        state = build_state(request.app.state.settings)
        request.app.state.kitchen = state
    return state


KitchenDep = Annotated[KitchenState, Depends(get_state)]
