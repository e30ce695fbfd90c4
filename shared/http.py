"""HTTP helpers shared by every service: the orjson response class."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import JSONResponse

_OPTS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_DATACLASS | orjson.OPT_UTC_Z


def _default(obj: Any) -> Any:
    to_dict = getattr(obj, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    model_dump = getattr(obj, "model_dump", None)
    if callable(model_dump):
        return model_dump(mode="json", by_alias=True)
    if isinstance(obj, set | frozenset):
        return sorted(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def dumps(content: Any) -> bytes:
    """orjson with dataclass, pydantic and ``to_dict()`` support. NaN/inf become ``null``."""
    return orjson.dumps(content, default=_default, option=_OPTS)


class ORJSONResponse(JSONResponse):
    """JSON response rendered by orjson (floats keep their shortest round-trip form, as in JavaScript)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return dumps(content)
