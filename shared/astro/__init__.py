"""Pure astronomy engines for alchm.kitchen: positions, the Sun, planetary hours, the Moon, events.

No I/O, no framework, no mutable globals except bounded LRU caches (positions per UTC minute, planetary
days per date and rounded place). Conventions are documented in ``docs/astro.md``:

* positions are apparent geocentric tropical ecliptic coordinates **of date** (PyEphem, checked against
  JPL DE421);
* sunrise/sunset is the Sun's centre at −0.8333° (geometric), sect is apparent altitude > 0°;
* the planetary day starts at local sunrise; polar days fall back to labelled equal hours;
* events are exact UTC roots, never mean-motion estimates.

All datetimes in and out are timezone-aware; naive datetimes raise :class:`ValueError`.
"""

from shared.astro.ephemeris import (
    BODY_NAMES,
    SIGNS,
    PlanetPosition,
    clear_position_cache,
    compute_positions,
    minute_floor,
    positions_for_minute,
)
from shared.astro.events import EVENT_TYPES, MAX_WINDOW_DAYS, CelestialEvent, EventType, find_events
from shared.astro.hours import (
    CHALDEAN_ORDER,
    DAY_RULERS,
    HourSystem,
    PlanetaryDay,
    PlanetaryHour,
    clear_hour_cache,
    day_ruler,
    hour_ruler,
    planetary_hour,
    planetary_hours_for_date,
)
from shared.astro.location import (
    LocationError,
    resolve_timezone,
    validate_lat,
    validate_location,
    validate_lon,
)
from shared.astro.moon import PHASE_NAMES, MoonPhase, NextLunarPhases, moon_phase, next_lunar_phases
from shared.astro.sun import SUNRISE_ALTITUDE_DEG, SunDay, SunStatus, is_diurnal, sun_altitude, sun_events

__all__ = [
    "BODY_NAMES",
    "CHALDEAN_ORDER",
    "DAY_RULERS",
    "EVENT_TYPES",
    "MAX_WINDOW_DAYS",
    "PHASE_NAMES",
    "SIGNS",
    "SUNRISE_ALTITUDE_DEG",
    "CelestialEvent",
    "EventType",
    "HourSystem",
    "LocationError",
    "MoonPhase",
    "NextLunarPhases",
    "PlanetPosition",
    "PlanetaryDay",
    "PlanetaryHour",
    "SunDay",
    "SunStatus",
    "clear_hour_cache",
    "clear_position_cache",
    "compute_positions",
    "day_ruler",
    "find_events",
    "hour_ruler",
    "is_diurnal",
    "minute_floor",
    "moon_phase",
    "next_lunar_phases",
    "planetary_hour",
    "planetary_hours_for_date",
    "positions_for_minute",
    "resolve_timezone",
    "sun_altitude",
    "sun_events",
    "validate_lat",
    "validate_location",
    "validate_lon",
]
