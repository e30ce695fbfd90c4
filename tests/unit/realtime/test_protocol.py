"""Client-frame parsing and validation, with the exact frames of the three legacy dialects
(design/reference/frontend-contract-analysis.md §2.2)."""

from __future__ import annotations

import json

import pytest

from services.realtime.protocol import (
    Location,
    ProtocolError,
    parse_client_frame,
    parse_location,
    render,
    solar_zone,
)

NYC = Location.of(40.7128, -74.0060, "America/New_York")


def test_d1_subscribe_frame() -> None:
    # D1 AlchemicalApiClient.createRealtimeConnection sends, on open:
    req = parse_client_frame('{"action":"subscribe","channel":"planetary_hours"}', NYC)
    assert req.action == "subscribe"
    assert req.channels == (("planetary_hours", "planetary_hours"),)
    assert req.location is None


def test_d3_subscribe_frame_with_location_and_hyphen() -> None:
    # D3 usePlanetaryWebSocket sends its location (latitude, longitude; no zone) with the hyphenated name:
    frame = '{"type":"subscribe","channel":"planetary-hours","data":{"location":{"latitude":51.5074,"longitude":-0.1278}}}'  # noqa: E501
    req = parse_client_frame(frame, NYC)
    assert req.action == "subscribe"
    assert req.channels == (("planetary_hours", "planetary-hours"),)
    assert req.location == Location(51.51, -0.13, "Etc/GMT")


def test_d3_subscribe_frame_with_empty_data() -> None:
    req = parse_client_frame('{"type":"subscribe","channel":"planetary-hours","data":{}}', NYC)
    assert req.channels == (("planetary_hours", "planetary-hours"),) and req.location is None


def test_stress_test_unsubscribe_frame() -> None:
    # cbff:tests/performance/stress-test.yml sends {"action":"unsubscribe","channel":"planetary_hours"}
    req = parse_client_frame('{"action":"unsubscribe","channel":"planetary_hours"}', NYC)
    assert req.action == "unsubscribe" and req.channels[0][0] == "planetary_hours"


def test_channels_list_and_timezone() -> None:
    req = parse_client_frame(
        json.dumps(
            {
                "action": "subscribe",
                "channels": ["energy_updates", "celestial_events"],
                "data": {"location": {"latitude": 35.68, "longitude": 139.69, "tz": "Asia/Tokyo"}},
            }
        ),
        NYC,
    )
    assert [c for c, _ in req.channels] == ["energy_updates", "celestial_events"]
    assert req.location == Location(35.68, 139.69, "Asia/Tokyo")


@pytest.mark.parametrize(
    ("frame", "field", "code"),
    [
        ("not json", "frame", "MALFORMED_JSON"),
        ("[1,2]", "frame", "INVALID_FRAME"),
        ('{"action":"dance","channel":"planetary_hours"}', "action", "UNKNOWN_ACTION"),
        ('{"type":"subscribe"}', "channel", "UNKNOWN_CHANNEL"),
        ('{"type":"subscribe","channel":"weather"}', "channel", "UNKNOWN_CHANNEL"),
        ('{"type":"subscribe","channels":[]}', "channels", "UNKNOWN_CHANNEL"),
        ('{"type":"subscribe","channel":"planetary_hours","data":[1]}', "data", "INVALID_FRAME"),
        (
            '{"type":"subscribe","channel":"planetary-hours","data":{"location":{"latitude":95,"longitude":0}}}',
            "data.location.latitude",
            "INVALID_LOCATION",
        ),
        (
            '{"type":"subscribe","channel":"planetary_hours","data":{"location":{"latitude":1,"longitude":-181}}}',
            "data.location.longitude",
            "INVALID_LOCATION",
        ),
        (
            '{"type":"subscribe","channel":"planetary_hours","data":{"location":{"lat":1,"lon":"abc"}}}',
            "data.location.lon",
            "INVALID_LOCATION",
        ),
        (
            '{"type":"subscribe","channel":"planetary_hours","data":{"location":{"latitude":1,"longitude":2,"tz":"Mars/Base"}}}',
            "data.location.tz",
            "INVALID_LOCATION",
        ),
        (
            '{"type":"subscribe","channel":"planetary_hours","data":{"location":{"longitude":2}}}',
            "data.location.latitude",
            "INVALID_LOCATION",
        ),
        (
            '{"type":"subscribe","channel":"planetary_hours","data":{"location":{"latitude":true,"longitude":2}}}',
            "data.location.latitude",
            "INVALID_LOCATION",
        ),
    ],
)
def test_invalid_frames_name_the_field(frame: str, field: str, code: str) -> None:
    with pytest.raises(ProtocolError) as info:
        parse_client_frame(frame, NYC)
    assert info.value.field == field
    assert info.value.code == code


def test_location_error_is_reported_on_the_requested_channel_name() -> None:
    with pytest.raises(ProtocolError) as info:
        parse_client_frame(
            '{"type":"subscribe","channel":"planetary-hours","data":{"location":{"latitude":-91,"longitude":0}}}',
            NYC,
        )
    assert info.value.channel == "planetary-hours"


def test_default_place_keeps_default_zone_and_other_places_get_solar_zone() -> None:
    assert parse_location({"latitude": 40.7128, "longitude": -74.006}, NYC).timezone == "America/New_York"
    assert parse_location({"latitude": 40.0, "longitude": -74.0}, NYC).timezone == "Etc/GMT+5"
    assert solar_zone(139.7) == "Etc/GMT-9"
    assert solar_zone(0.1) == "Etc/GMT"
    assert solar_zone(180) == "Etc/GMT-12" and solar_zone(-180) == "Etc/GMT+12"


def test_location_key_roundtrip_and_rounding() -> None:
    loc = Location.of(40.71284, -74.00601, "America/New_York")
    assert loc.key == "40.71,-74.01,America/New_York"
    assert Location.from_key(loc.key) == loc


def test_render_canonical_frame() -> None:
    text = render("energy_updates", "update", "1-0", "2025-01-01T00:00:00.000Z", {"Fire": 0.3})
    assert json.loads(text) == {
        "channel": "energy_updates",
        "type": "update",
        "id": "1-0",
        "ts": "2025-01-01T00:00:00.000Z",
        "data": {"Fire": 0.3},
    }
