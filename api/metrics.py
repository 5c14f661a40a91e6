"""Prometheus metrics of one app: requests and latency per endpoint, predictions, served versions.

Each app owns its CollectorRegistry, so several apps in one process (tests) never share counters.
The request metrics come from a plain ASGI middleware (no per-request task or body copy), labelled
by route template, so fuzzed paths cannot blow up the label set.
"""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

# Latency buckets around the serving goals (2 ms single row, 20 ms for 1,000 rows).
LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.003, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class ServedModelsCollector:
    """`energy_api_served_model_info{model,version,run_id} 1` for each model being served, read at scrape."""

    def __init__(self, champions):
        self.champions = champions

    def collect(self):
        family = GaugeMetricFamily(
            "energy_api_served_model_info",
            "Model versions this process serves (value 1)",
            labels=["model", "version", "run_id"],
        )
        for served in self.champions.served():
            family.add_metric([served.name, served.version, served.run_id], 1.0)
        yield family
        ready = GaugeMetricFamily("energy_api_ready", "1 when every champion is loaded")
        ready.add_metric([], 1.0 if self.champions.ready else 0.0)
        yield ready


class ApiMetrics:
    def __init__(self):
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "energy_api_requests",
            "HTTP requests by endpoint, method and status",
            ["endpoint", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "energy_api_request_duration_seconds",
            "Request latency by endpoint",
            ["endpoint"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.predictions = Counter(
            "energy_api_predictions",
            "Predicted intervals by model and version",
            ["model", "version"],
            registry=self.registry,
        )
        self.swaps = Counter(
            "energy_api_model_swaps", "Times a new model version was swapped in", ["model"], registry=self.registry
        )
        self.load_failures = Counter(
            "energy_api_model_load_failures",
            "Failed registry look-ups or model loads",
            ["model"],
            registry=self.registry,
        )

    def watch(self, champions) -> None:
        self.registry.register(ServedModelsCollector(champions))

    def render(self) -> bytes:
        return generate_latest(self.registry)


class MetricsMiddleware:
    def __init__(self, app, metrics: ApiMetrics):
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_and_note(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            route = scope.get("route")
            endpoint = getattr(route, "path", None) or "unmatched"
            self.metrics.requests.labels(endpoint, scope["method"], str(status)).inc()
            self.metrics.latency.labels(endpoint).observe(time.perf_counter() - start)
