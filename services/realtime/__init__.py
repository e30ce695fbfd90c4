"""realtime (:8001): the WebSocket hub and the event producer (docs/realtime.md)."""
