"""``POST /calculate/elemental``: the elements of a list of ingredients, resolved through the catalog."""

from __future__ import annotations

from fastapi import Request

from shared.app import api_router
from shared.http import ORJSONResponse
from shared.validation import json_body, openapi_body

from .dishes import dominant, mean_elements
from .schemas import ElementalRequest

router = api_router(tags=["calculate"])


@router.post(
    "/calculate/elemental",
    summary="Elements (Fire, Water, Earth, Air) of a list of ingredients",
    openapi_extra=openapi_body(
        ElementalRequest,
        {
            "names": {"ingredients": ["tomato", "basil", "mozzarella"]},
            "with amounts": {"ingredients": [{"name": "tomatoes", "amount": 2, "unit": "cups"}, "basil"]},
            "legacy weights": {"ingredients": ["tomato", "basil"], "weights": [3, 1]},
        },
    ),
)
async def calculate_elemental(request: Request) -> ORJSONResponse:
    body = await json_body(request, ElementalRequest)
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
