"""``POST /calculate/elemental``: the elements of a list of ingredients, resolved through the catalog."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Request

from shared.http import ORJSONResponse

from .dishes import dominant, mean_elements
from .schemas import ElementalRequest

router = APIRouter(tags=["calculate"])


@router.post("/calculate/elemental", summary="Elements (Fire, Water, Earth, Air) of a list of ingredients")
async def calculate_elemental(request: Request, body: Annotated[ElementalRequest, Body()]) -> ORJSONResponse:
    elements, lines, method = mean_elements(request.app.state.resolver, body.ingredients, body.weights)
    return ORJSONResponse(
        {
            **elements,
            "dominant": dominant(elements),
            "method": method,
            "resolved": lines.resolved,
            "unresolved": lines.unresolved,
            "unknownUnits": lines.unknown_units,
        }
    )
