"""Prometheus metrics of the realtime service (default registry, exported by the app's ``/metrics``).

Hot-path counts (frames sent, connections, subscriptions) are plain integers kept by the hub and read at
scrape time by a custom collector, so a broadcast to 10,000 sockets costs no metric locking.
"""

from __future__ import annotations

import os
import resource
import weakref
from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import REGISTRY, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from .hub import Hub

DISCONNECTS = Counter(
    "alchm_ws_disconnects_total",
    "WebSocket connections ended, by reason (client_closed, slow_consumer, stalled, rate_limited, "
    "ip_limit, capacity, invalid_token, shutdown, error)",
    ["reason"],
)
BROADCAST_LAG = Histogram(
    "alchm_ws_broadcast_lag_seconds",
    "From event creation (publisher clock) to enqueued on every local socket",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
BROADCAST_FANOUT = Histogram(
    "alchm_ws_broadcast_fanout_seconds",
    "Server time to hand one event to every local subscriber (written to the socket or queued)",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
)
EVENTS_RELAYED = Counter("alchm_ws_events_relayed_total", "Bus events relayed to local sockets", ["channel"])
PRODUCER_PUBLISHED = Counter(
    "alchm_realtime_producer_published_total", "Events published by the producer (leader only)", ["channel"]
)
PRODUCER_LATENESS = Histogram(
    "alchm_realtime_producer_lateness_seconds",
    "Publication time minus the scheduled instant (hour boundary, event time)",
    ["channel"],
    buckets=(0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 30.0),
)
CLIENT_ERRORS = Counter("alchm_ws_client_errors_total", "Error frames sent to clients, by code", ["code"])

_HUBS: weakref.WeakSet[Hub] = weakref.WeakSet()


def register_hub(hub: Hub) -> None:
    _HUBS.add(hub)


def _open_fds() -> float:
    try:
        return float(len(os.listdir("/proc/self/fd")))
    except OSError:
        return float("nan")


class _HubCollector(Collector):
    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        hubs = list(_HUBS)
        conns = GaugeMetricFamily("alchm_ws_connections", "Open WebSocket connections")
        conns.add_metric([], float(sum(len(h.connections) for h in hubs)))
        yield conns
        subs = GaugeMetricFamily(
            "alchm_ws_subscriptions", "Subscribed connections per channel", labels=["channel"]
        )
        totals: dict[str, int] = {}
        for hub in hubs:
            for channel, count in hub.subscription_counts().items():
                totals[channel] = totals.get(channel, 0) + count
        for channel, count in sorted(totals.items()):
            subs.add_metric([channel], float(count))
        yield subs
        sent = CounterMetricFamily(
            "alchm_ws_frames_sent", "Frames written to sockets, by channel", labels=["channel"]
        )
        sent_totals: dict[str, int] = {}
        for hub in hubs:
            for channel, count in hub.frames_sent.items():
                sent_totals[channel] = sent_totals.get(channel, 0) + count
        for channel, count in sorted(sent_totals.items()):
            sent.add_metric([channel], float(count))
        yield sent
        direct = CounterMetricFamily(
            "alchm_ws_frames_direct",
            "Of the frames sent, those written straight to an idle socket by the broadcast fast path",
        )
        direct.add_metric([], float(sum(h.frames_direct for h in hubs)))
        yield direct
        fds = GaugeMetricFamily("alchm_ws_open_fds", "Open file descriptors of the process")
        fds.add_metric([], _open_fds())
        yield fds
        limit = GaugeMetricFamily("alchm_ws_fd_limit", "Soft limit on open file descriptors (RLIMIT_NOFILE)")
        limit.add_metric([], float(resource.getrlimit(resource.RLIMIT_NOFILE)[0]))
        yield limit
        leader = GaugeMetricFamily("alchm_realtime_leader", "1 while this instance runs the producer")
        leader.add_metric([], float(any(h.is_leader() for h in hubs)))
        yield leader


REGISTRY.register(_HubCollector())
