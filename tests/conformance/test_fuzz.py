"""Bad input never gets a 500: property-based requests of every kind against the live server.

Hypothesis draws requests from `tests.fuzz.strategies` — every operation's input shape from
botocore's model (and mangled variants), changed SigV4 headers, OCSP/CRL/arbitrary GET paths and
OCSP POST bodies — and each must be answered, with a status below 500 (501 names an operation
pica does not build yet). The requests act for their own account, so whatever they change
(disabling or deleting a CA) touches no other test. A bounded number of examples keeps the
suite fast; `make fuzz` runs the same strategies for 100k+ requests.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz.strategies import (
    HttpRequest,
    ModelStrategies,
    api_requests,
    get_requests,
    ocsp_post_requests,
    sigv4_requests,
)
from tests.fuzz.world import Sender, build_targets, is_server_error, server_errors_in
from tests.support.server import LiveServer

FAST = settings(
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.fixture(scope="module")
def kinds(server: LiveServer) -> dict[str, st.SearchStrategy[HttpRequest]]:
    """Each kind of request, its strategy built once (rebuilt per draw, it would be slow)."""
    model = ModelStrategies(build_targets(server))
    return {
        "api": api_requests(model),
        "sigv4": sigv4_requests(model.targets),
        "get": get_requests(model.targets),
        "ocsp-post": ocsp_post_requests(model.targets),
    }


@pytest.fixture(scope="module")
def sender(server: LiveServer) -> Iterator[Sender]:
    client = Sender(server.port)
    yield client
    client.close()


@pytest.mark.parametrize("kind", ["api", "sigv4", "get", "ocsp-post"])
@settings(FAST, max_examples=150)
@given(data=st.data())
def test_generated_requests_are_answered_below_500(
    kinds: dict[str, st.SearchStrategy[HttpRequest]], sender: Sender, kind: str, data: st.DataObject
) -> None:
    status = sender.send(request := data.draw(kinds[kind]))
    assert not is_server_error(status), f"{status} for {request.describe()}"


def test_no_unexpected_exception_was_logged(
    server: LiveServer, kinds: dict[str, st.SearchStrategy[HttpRequest]], sender: Sender
) -> None:
    """Runs in any order: whatever the suite sent so far left no traceback in the log."""
    assert server_errors_in(server.log_text().splitlines()) == []
