"""The rune service as deployed: uvicorn subprocesses behind a real NGINX that strips ``/api/runes``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.integration

GATEWAY_CONF = """
worker_processes 1;
pid {{PREFIX}}/nginx.pid;
error_log {{PREFIX}}/logs/error.log warn;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path {{PREFIX}}/tmp;
  proxy_temp_path {{PREFIX}}/tmp;
  fastcgi_temp_path {{PREFIX}}/tmp;
  uwsgi_temp_path {{PREFIX}}/tmp;
  scgi_temp_path {{PREFIX}}/tmp;
  upstream alchm_rune { server 127.0.0.1:RUNE_A; server 127.0.0.1:RUNE_B; }
  server {
    listen 127.0.0.1:{{PORT}};
    location /api/runes/ { proxy_pass http://alchm_rune/; }
  }
}
"""

FRONTEND_BODY = {
    "datetime": "2025-09-22T12:00:00.000Z",
    "location": {"latitude": 40.7128, "longitude": -74.006},
    "context": "ingredient",
    "preferences": {"dietaryRestrictions": [], "cuisineTypes": [], "intensity": "moderate"},
}


def test_two_instances_behind_the_gateway_agree(
    service_factory: Callable[..., Any], nginx_factory: Callable[[str], Any]
) -> None:
    a = service_factory("services.rune.main:app")
    b = service_factory("services.rune.main:app")
    conf = GATEWAY_CONF.replace("RUNE_A", str(a.port)).replace("RUNE_B", str(b.port))
    gateway = nginx_factory(conf)
    base = gateway.base_url + "/api/runes"
    with httpx.Client(timeout=10) as client:
        # round-robin over both instances: every answer is the same daily rune
        daily = [
            client.get(base + "/rune/daily", params={"date": "2025-09-22", "tz": "UTC"}) for _ in range(6)
        ]
        assert {r.status_code for r in daily} == {200}
        assert len({r.json()["rune"]["name"] for r in daily}) == 1
        direct = httpx.get(a.base_url + "/rune/daily", params={"date": "2025-09-22", "tz": "UTC"}).json()
        assert direct["rune"] == daily[0].json()["rune"]

        # the frontend's RuneAgentClient path works through the prefix-stripping gateway
        guidance = client.post(base + "/guidance", json=FRONTEND_BODY)
        assert guidance.status_code == 200
        body = guidance.json()
        assert {"symbol", "name", "meaning", "influence"} <= set(body)
        assert set(body["influence"]) == {"elemental", "energy", "guidance"}
        same_day = client.get(base + "/rune/daily", params={"date": "2025-09-22"}).json()
        assert body["name"] == same_day["rune"]["name"]

        seeded = [
            client.post(base + "/rune/cast", json={"count": 9, "seed": "same"}).json() for _ in range(4)
        ]
        assert all(s["runes"] == seeded[0]["runes"] for s in seeded)

        bad = client.post(base + "/rune/cast", json={"count": 5})
        assert bad.status_code == 422 and bad.json()["details"][0]["field"] == "count"
        assert client.get(base + "/runes/odin").status_code == 404
        assert client.get(base + "/runes/inguz").json()["name"] == "Ingwaz"
