"""`GET /metrics`: pica's metrics in the Prometheus text format (prometheus_client).

Two kinds of metric, kept apart on purpose:
- Events, counted where they happen, in the process that handled them: API calls by operation
  and HTTP status, their duration, certificates issued and revoked per CA, lint refusals. They
  are fed by `ApiMetrics`, an `ApiCallObserver` (`pica.wire.api_call`), so every wire protocol
  counts the same way. Certificates signed in spite of lint findings (`lint_findings =
  "record"`) are counted by finding code by `LintFindingMetrics`, a `FindingsObserver` the
  certificate service tells once the certificate is stored. With several worker processes the
  serving supervisor sets `PROMETHEUS_MULTIPROC_DIR` before the workers start; prometheus_client
  then keeps each process's values in files there and a scrape of any worker sums them
  (`MultiProcessCollector`).
- Stored state, read from the database at scrape time: each CA certificate's expiry, each
  CRL's nextUpdate and each ACM certificate's expiry. One cheap query each per scrape; the
  values are right on every node, whichever node published a CRL, and need no bookkeeping
  across processes.

The events of an idempotent IssueCertificate replay count as an issuance: the endpoint cannot
tell a replayed answer from a new one, and a replay is rare.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any, Protocol

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from pica.authority.lint_record import SignedWithFindings
from pica.errors import LintRejected
from pica.wire.api_call import ApiCall

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
# The classic text format, which every Prometheus version reads.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
DURATION_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
UNKNOWN_OPERATION = "Unknown"


class StoredStateSource(Protocol):
    """The stored facts the state gauges show (the storage adapter implements it)."""

    def ca_not_after(self) -> Iterable[tuple[str, datetime]]:
        """(CA ARN, notAfter of its certificate) for each live CA that has one."""
        ...

    def crl_next_update(self) -> Iterable[tuple[str, datetime]]:
        """(CA ARN, nextUpdate of its last published CRL) for each live CA that has one."""
        ...

    def acm_not_after(self) -> Iterable[tuple[str, datetime]]:
        """(ACM certificate ARN, notAfter) for each ACM certificate that has a certificate."""
        ...


class ApiMetrics:
    """Counts API calls (an `ApiCallObserver`); registered in `registry`."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._requests = Counter(
            "pica_requests",
            "API calls answered, by operation and HTTP status code",
            ["operation", "code"],
            registry=registry,
        )
        self._errors = Counter(
            "pica_request_errors",
            "API calls answered with an error, by operation and error code",
            ["operation", "error"],
            registry=registry,
        )
        self._duration = Histogram(
            "pica_request_duration_seconds",
            "Time from a request's arrival to its answer, by operation",
            ["operation"],
            buckets=DURATION_BUCKETS,
            registry=registry,
        )
        self._issued = Counter(
            "pica_certificates_issued",
            "Certificates issued (IssueCertificate answered 200), by issuing CA",
            ["ca"],
            registry=registry,
        )
        self._revoked = Counter(
            "pica_certificates_revoked",
            "Certificates revoked (RevokeCertificate answered 200), by issuing CA",
            ["ca"],
            registry=registry,
        )
        self._lint_rejections = Counter(
            "pica_lint_rejections",
            "Issuance requests the lint gate refused to sign",
            registry=registry,
        )

        # The labelled children by label values: prometheus_client's `labels()` checks and
        # locks on every call, a few µs each, three times per request. It keeps every child
        # it made anyway, so this holds nothing more.
        self._children: dict[tuple[object, ...], Any] = {}

    def _child(self, metric: Counter | Histogram, *values: str) -> Any:
        key = (id(metric), *values)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*values)
        return child

    def api_call(self, call: ApiCall) -> None:
        operation = call.operation or UNKNOWN_OPERATION
        self._child(self._requests, operation, str(call.status)).inc()
        self._child(self._duration, operation).observe(call.duration)
        if call.error_code is not None:
            self._child(self._errors, operation, call.error_code).inc()
        if isinstance(call.error, LintRejected):
            self._lint_rejections.inc()
        if call.status == 200 and call.ca_arn is not None:
            if call.operation == "IssueCertificate":
                self._child(self._issued, call.ca_arn).inc()
            elif call.operation == "RevokeCertificate":
                self._child(self._revoked, call.ca_arn).inc()


class LintFindingMetrics:
    """Counts the findings of certificates signed in record mode (a `FindingsObserver`)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._findings = Counter(
            "pica_lint_findings_recorded",
            "Lint findings of certificates signed with lint_findings = record, by finding code",
            ["code"],
            registry=registry,
        )

    def signed_with_findings(self, event: SignedWithFindings) -> None:
        for finding in event.findings:
            self._findings.labels(finding.code).inc()


class StoredStateGauges(Collector):
    """Gauges read from the database at each scrape (see the module docstring)."""

    def __init__(self, source: StoredStateSource) -> None:
        self._source = source

    def collect(self) -> Iterator[Metric]:
        expiry = GaugeMetricFamily(
            "pica_ca_expiry_timestamp_seconds",
            "When each CA's certificate expires (notAfter, Unix time)",
            labels=["ca"],
        )
        for arn, not_after in self._source.ca_not_after():
            expiry.add_metric([arn], not_after.timestamp())
        yield expiry
        next_update = GaugeMetricFamily(
            "pica_crl_next_update_timestamp_seconds",
            "nextUpdate of each CA's last published CRL (Unix time)",
            labels=["ca"],
        )
        for arn, moment in self._source.crl_next_update():
            next_update.add_metric([arn], moment.timestamp())
        yield next_update
        acm_expiry = GaugeMetricFamily(
            "pica_acm_certificate_expiry_timestamp_seconds",
            "When each ACM certificate expires (notAfter, Unix time)",
            labels=["certificate"],
        )
        for arn, not_after in self._source.acm_not_after():
            acm_expiry.add_metric([arn], not_after.timestamp())
        yield acm_expiry


class Metrics:
    """The process's metrics: the event counters and the scrape-time gauges."""

    def __init__(self, source: StoredStateSource) -> None:
        self._multiprocess = bool(os.environ.get(MULTIPROCESS_ENV))
        # `*_created` series double the output and say nothing a restart does not (the
        # multiprocess collector never writes them): off, as most exporters do.
        disable_created_metrics()  # type: ignore[no-untyped-call]
        self._registry = CollectorRegistry()
        self.api = ApiMetrics(self._registry)
        self.lint_findings = LintFindingMetrics(self._registry)
        self._state = StoredStateGauges(source)
        if not self._multiprocess:
            self._registry.register(self._state)

    def exposition(self) -> bytes:
        """The text every scrape gets: this process's counters, or every worker's summed."""
        if not self._multiprocess:
            return generate_latest(self._registry)
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        registry.register(self._state)
        return generate_latest(registry)

    async def get(self, request: Request) -> Response:
        body = await run_in_threadpool(self.exposition)
        return Response(body, media_type=CONTENT_TYPE)
