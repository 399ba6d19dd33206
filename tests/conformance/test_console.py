"""The web console in a real browser: Playwright driving Debian's chromium against a live pica.

One browser for the module, one fresh context (cookie jar) per signed-in user; screenshots of
the main pages go to tests/output/console/ for a developer to look at.
"""

from __future__ import annotations

import http.client
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import boto3
import pytest
from botocore.config import Config
from cryptography.hazmat.primitives import serialization

from pica.wire.console.sign_in_limit import SIGN_IN_CAPACITY
from tests.support.browser import LAUNCH_ARGS, chromium_or_reason
from tests.support.pki import issue, make_csr, new_root, template
from tests.support.server import LiveServer

playwright_api = pytest.importorskip("playwright.sync_api")

SCREENSHOTS = Path(__file__).resolve().parents[1] / "output" / "console"


@dataclass(frozen=True)
class Account:
    account_id: str
    key: str
    secret: str


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable, reason = chromium_or_reason()
    if executable is None:
        pytest.skip(f"no chromium for the console tests: {reason}")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(executable), args=LAUNCH_ARGS)
        try:
            yield launched
        finally:
            launched.close()


def _account(server: LiveServer) -> Account:
    return Account(*server.new_account())


@pytest.fixture(scope="module")
def alice(server: LiveServer) -> Account:
    return _account(server)


@pytest.fixture(scope="module")
def bob(server: LiveServer) -> Account:
    return _account(server)


@pytest.fixture(scope="module")
def carol(server: LiveServer) -> Account:
    return _account(server)


def pca_of(server: LiveServer, account: Account) -> Any:
    # Plain clients: the chain validators run asyncio, which Playwright's loop forbids here.
    return server.raw_client(account.key, account.secret)


def acm_of(server: LiveServer, account: Account) -> Any:
    return boto3.session.Session().client(
        "acm",
        endpoint_url=server.endpoint,
        region_name="us-east-1",
        aws_access_key_id=account.key,
        aws_secret_access_key=account.secret,
        config=Config(retries={"max_attempts": 1}),
    )


def sign_in(browser: Any, server: LiveServer, account: Account, **options: Any) -> Any:
    """A new context (its own cookies) signed in as `account`; its page."""
    context = browser.new_context(base_url=server.endpoint, **options)
    page = context.new_page()
    page.goto("/console/")
    page.get_by_label("Access key ID").fill(account.key)
    page.get_by_label("Secret access key").fill(account.secret)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Private certificate authorities").wait_for()
    return page


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def csrf_of(page: Any) -> str:
    token: str = page.locator("input[name=csrf_token]").first.get_attribute("value")
    return token


def test_wrong_credentials_are_invalid_and_show_no_data(
    browser: Any, server: LiveServer, alice: Account
) -> None:
    context = browser.new_context(base_url=server.endpoint)
    page = context.new_page()
    page.goto("/console/cas")  # no session: the sign-in page
    assert page.url.endswith("/console/sign-in")
    shot(page, "sign-in")
    page.get_by_label("Access key ID").fill(alice.key)
    page.get_by_label("Secret access key").fill(alice.secret[:-1] + "x")
    page.get_by_role("button", name="Sign in").click()
    assert "invalid" in page.get_by_role("alert").inner_text()
    assert page.get_by_role("heading", name="Private certificate authorities").count() == 0
    assert alice.account_id not in page.content()
    assert context.cookies() == []
    page.get_by_label("Access key ID").fill("PICANOSUCHKEY0000000")
    page.get_by_label("Secret access key").fill(alice.secret)
    page.get_by_role("button", name="Sign in").click()
    assert "invalid" in page.get_by_role("alert").inner_text()
    context.close()


def test_session_cookie_is_opaque_and_sign_out_ends_it_everywhere(
    browser: Any, server: LiveServer, alice: Account
) -> None:
    page = sign_in(browser, server, alice)
    (cookie,) = page.context.cookies()
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/console"
    assert time.time() < cookie["expires"] < time.time() + 24 * 3600
    assert alice.secret not in cookie["value"] and alice.key not in cookie["value"]
    assert alice.secret not in page.content()
    assert page.evaluate("() => document.cookie") == ""  # HttpOnly: no script reads it
    assert page.evaluate("() => localStorage.length + sessionStorage.length") == 0
    # A copy of the cookie in another browser works... until the session is signed out.
    copy = browser.new_context(base_url=server.endpoint)
    copy.add_cookies([cookie])
    other = copy.new_page()
    other.goto("/console/cas")
    assert other.get_by_role("heading", name="Private certificate authorities").count() == 1
    page.get_by_role("button", name="Sign out").click()
    assert page.url.endswith("/console/sign-in")
    other.goto("/console/cas")
    assert other.url.endswith("/console/sign-in")
    assert other.get_by_role("heading", name="Private certificate authorities").count() == 0
    copy.close()
    page.context.close()


def test_create_root_request_revoke_search_and_timeline(
    browser: Any, server: LiveServer, alice: Account
) -> None:
    page = sign_in(browser, server, alice)
    shot(page, "certificate-authorities-empty")
    page.get_by_role("link", name="Create certificate authority").first.click()
    page.get_by_label("Common name").fill("Console Root Alice")
    page.get_by_label("Key algorithm").select_option("EC_prime256v1")
    shot(page, "create-certificate-authority")
    page.get_by_role("button", name="Create").click()
    page.get_by_role("heading", name="Console Root Alice").wait_for()
    ca_arn = page.locator("dd code").first.inner_text()
    assert ca_arn.startswith(f"arn:aws:acm-pca:us-east-1:{alice.account_id}:certificate-authority/")
    assert "ACTIVE" in page.locator("dl").inner_text()
    # The API sees the same CA, active, with the console's choices.
    described = pca_of(server, alice).describe_certificate_authority(CertificateAuthorityArn=ca_arn)
    authority = described["CertificateAuthority"]
    assert authority["Status"] == "ACTIVE" and authority["Type"] == "ROOT"
    assert authority["CertificateAuthorityConfiguration"]["KeyAlgorithm"] == "EC_prime256v1"
    page.get_by_role("link", name="Certificate authorities", exact=True).click()
    row = page.get_by_role("row").filter(has_text="Console Root Alice")
    assert "ACTIVE" in row.inner_text() and "ROOT" in row.inner_text()
    shot(page, "certificate-authorities")

    page.get_by_role("link", name="Request certificate").first.click()
    page.get_by_label("Domain name").fill("app.alice.example.internal")
    page.get_by_label("Certificate authority").select_option(ca_arn)
    shot(page, "request-certificate")
    page.get_by_role("button", name="Request").click()
    certificate_arn = page.locator("#certificate-arn").inner_text()
    assert certificate_arn.startswith(f"arn:aws:acm:us-east-1:{alice.account_id}:certificate/")
    shot(page, "certificate")
    acm = acm_of(server, alice)
    described_certificate = acm.describe_certificate(CertificateArn=certificate_arn)["Certificate"]
    assert described_certificate["Status"] == "ISSUED"
    serial = described_certificate["Serial"].replace(":", "").lstrip("0")
    with page.expect_download() as downloaded:
        page.get_by_role("link", name="Download certificate and chain").click()
    assert Path(downloaded.value.path()).read_text().count("BEGIN CERTIFICATE") == 2
    page.get_by_label("Passphrase").fill("console passphrase")
    with page.expect_download() as exported:
        page.get_by_role("button", name="Export").click()
    text = Path(exported.value.path()).read_text()
    key_pem = text[text.index("-----BEGIN ENCRYPTED PRIVATE KEY-----") :]
    serialization.load_pem_private_key(key_pem.encode(), b"console passphrase")
    page.get_by_role("link", name="Request certificate").first.click()
    listed = page.get_by_role("row").filter(has_text="app.alice.example.internal")
    assert "ISSUED" in listed.inner_text()
    listed.get_by_role("link").click()

    page.get_by_role("link", name=ca_arn).click()
    row = page.get_by_role("row").filter(has_text=serial)
    assert "app.alice.example.internal" in row.inner_text() and "Not revoked" in row.inner_text()
    shot(page, "certificate-authority")
    row.get_by_role("link", name="Revoke").click()
    page.get_by_role("heading", name=re.compile("Revoke certificate")).wait_for()
    # Nothing is revoked before "Confirm".
    check = page.context.new_page()
    check.goto(f"/console/search?q={serial}")
    assert "Not revoked" in check.get_by_role("row").filter(has_text=serial).inner_text()
    page.get_by_label("Reason").select_option("KEY_COMPROMISE")
    shot(page, "revoke")
    page.get_by_role("button", name="Confirm").click()
    assert "revoked" in page.get_by_role("status").inner_text()
    row = page.get_by_role("row").filter(has_text=serial)
    assert "KEY_COMPROMISE" in row.inner_text()
    assert row.get_by_role("link", name="Revoke").count() == 0

    # Search by domain name, by subject and by serial (with colons, upper case).
    for query in ("alice.example", "CN=app.alice", described_certificate["Serial"].upper()):
        page.get_by_label("Search certificates").fill(query)
        page.get_by_role("button", name="Search", exact=True).first.click()
        assert page.get_by_role("row").filter(has_text=serial).count() == 1, query
    shot(page, "search")
    page.get_by_label("Search certificates").fill("no-such-name.example")
    page.get_by_role("button", name="Search", exact=True).first.click()
    assert page.get_by_role("heading", name=re.compile("^0 found")).count() == 1

    page.get_by_role("link", name="Expiry timeline").click()
    timeline = page.locator("main").inner_text()
    assert "Console Root Alice" in timeline
    assert "CN=Console Root Alice" not in timeline  # a root is listed once, as the CA
    assert "app.alice.example.internal" not in timeline  # revoked certificates drop out
    shot(page, "expiry-timeline")
    check.close()
    page.context.close()


def test_two_accounts_see_only_their_own(
    browser: Any, server: LiveServer, alice: Account, bob: Account
) -> None:
    alice_pca = pca_of(server, alice)
    alice_ca = new_root(alice_pca)
    certificate, _ = issue(alice_pca, alice_ca, make_csr(common_name="only.alice.internal"))
    page = sign_in(browser, server, bob)
    assert alice_ca not in page.content()
    assert page.get_by_text("This account has no certificate authority yet.").count() == 1
    page.goto(f"/console/ca?arn={alice_ca}")
    assert "Could not find certificate authority" in page.get_by_role("alert").inner_text()
    page.goto("/console/search?q=only.alice.internal")
    assert page.get_by_role("heading", name=re.compile("^0 found")).count() == 1
    page.goto(f"/console/search?q={certificate.serial_number:x}")
    assert page.get_by_role("heading", name=re.compile("^0 found")).count() == 1
    page.goto(f"/console/revoke?ca={alice_ca}&serial={certificate.serial_number:x}")
    assert "Could not find certificate authority" in page.get_by_role("alert").inner_text()
    # Bob's forged revocation of Alice's certificate is refused by the domain's authorization.
    answer = page.request.post(
        "/console/revoke",
        form={
            "csrf_token": csrf_of(page),
            "ca_arn": alice_ca,
            "serial": f"{certificate.serial_number:x}",
            "reason": "KEY_COMPROMISE",
        },
    )
    assert answer.status == 404
    page.context.close()


def test_forms_without_the_csrf_token_change_nothing(
    browser: Any, server: LiveServer, bob: Account
) -> None:
    page = sign_in(browser, server, bob)
    before = pca_of(server, bob).list_certificate_authorities()["CertificateAuthorities"]
    page.goto("/console/cas/new")
    page.get_by_label("Common name").fill("Forged Root")
    page.locator("main input[name=csrf_token]").evaluate("input => input.value = 'forged'")
    page.get_by_role("button", name="Create").click()
    assert "CSRF" in page.get_by_role("alert").inner_text()
    token = csrf_of(page)
    # The right token from another origin is refused too; without any token, as well.
    for headers, form in (
        ({"Origin": "http://evil.example"}, {"csrf_token": token}),
        ({}, {}),
    ):
        answer = page.request.post(
            "/console/cas/new",
            form={**form, "common_name": "Forged Root", "key_algorithm": "EC_prime256v1"},
            headers=headers,
        )
        assert answer.status == 403
    # Sign-out is a form too: without the token the session lives on.
    assert page.request.post("/console/sign-out", form={}).status == 403
    page.goto("/console/cas")
    assert page.get_by_role("heading", name="Private certificate authorities").count() == 1
    after = pca_of(server, bob).list_certificate_authorities()["CertificateAuthorities"]
    assert after == before
    page.context.close()


def test_pages_read_without_javascript_and_every_input_is_labelled(
    browser: Any, server: LiveServer, alice: Account
) -> None:
    pca = pca_of(server, alice)
    ca = new_root(pca)
    page = sign_in(browser, server, alice, java_script_enabled=False)
    for path in (
        "/console/cas",
        f"/console/ca?arn={ca}",
        "/console/cas/new",
        "/console/request",
        "/console/search?q=example",
        "/console/timeline",
    ):
        page.goto(path)
        assert page.get_by_role("heading", level=1).count() == 1, path
        for field in page.locator("input:not([type=hidden]), select, textarea").all():
            field_id = field.get_attribute("id")
            assert field_id and page.locator(f"label[for='{field_id}']").count() == 1, path
    page.goto(f"/console/ca?arn={ca}")
    assert "ACTIVE" in page.locator("dl").inner_text()
    page.context.close()


def test_subordinate_import_and_state_changes_work_without_javascript(
    browser: Any, server: LiveServer, carol: Account
) -> None:
    pca = pca_of(server, carol)
    root = new_root(pca)
    page = sign_in(browser, server, carol, java_script_enabled=False)
    page.goto("/console/cas/new")
    page.get_by_label("Common name").fill("Console Sub Carol")
    page.get_by_label("Type").select_option("SUBORDINATE")
    page.get_by_role("button", name="Create").click()
    csr = page.get_by_label("Certificate signing request").input_value()
    assert csr.startswith("-----BEGIN CERTIFICATE REQUEST-----")
    page.get_by_role("link", name="Go to the CA").click()
    arn = page.locator("dd code").first.inner_text()
    assert "PENDING_CERTIFICATE" in page.locator("dl").inner_text()
    signed = pca.issue_certificate(
        CertificateAuthorityArn=root,
        Csr=csr.encode(),
        SigningAlgorithm="SHA256WITHECDSA",
        TemplateArn=template("SubordinateCACertificate_PathLen0"),
        Validity={"Value": 5, "Type": "YEARS"},
    )["CertificateArn"]
    pca.get_waiter("certificate_issued").wait(CertificateAuthorityArn=root, CertificateArn=signed)
    got = pca.get_certificate(CertificateAuthorityArn=root, CertificateArn=signed)
    page.get_by_label("Certificate", exact=True).fill(got["Certificate"])
    page.get_by_label("Certificate chain").fill(got["CertificateChain"])
    page.get_by_role("button", name="Import").click()
    assert "imported" in page.get_by_role("status").inner_text()

    def status() -> str:
        described = pca.describe_certificate_authority(CertificateAuthorityArn=arn)
        return str(described["CertificateAuthority"]["Status"])

    assert status() == "ACTIVE"
    for change, after in (("Disable", "DISABLED"), ("Enable", "ACTIVE"), ("Disable", "DISABLED")):
        page.get_by_role("link", name=change, exact=True).click()
        assert status() != after  # the confirmation page changes nothing
        page.get_by_role("button", name="Confirm").click()
        assert after in page.locator("dl").inner_text()
        assert status() == after
    page.get_by_role("link", name="Delete", exact=True).click()
    page.get_by_role("button", name="Confirm").click()
    assert page.get_by_role("heading", name="Private certificate authorities").count() == 1
    assert status() == "DELETED"
    page.context.close()


def test_odd_requests_get_console_answers_not_errors(
    browser: Any, server: LiveServer, carol: Account
) -> None:
    context = browser.new_context(base_url=server.endpoint)
    anonymous = context.request
    # Without a session an action changes nothing and leads to the sign-in page.
    answer = anonymous.post("/console/cas/new", form={"common_name": "x"}, max_redirects=0)
    assert answer.status == 303 and answer.headers["location"] == "/console/sign-in"
    assert anonymous.get("/console/no-such-page").status == 404
    answer = anonymous.post(
        "/console/sign-in",
        data='{"access_key_id": "x"}',
        headers={"Content-Type": "application/json"},
    )
    assert answer.status == 400 and "invalid" in answer.text()
    page = sign_in(browser, server, carol)
    answer = page.request.post(
        "/console/revoke",
        data="csrf_token=" + csrf_of(page) + "&ca_arn=nonsense&serial=zz&reason=KEY_COMPROMISE",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert answer.status in (400, 404) and "<h1>" in answer.text()
    for path in ("/console/ca?arn=nonsense", "/console/certificate?arn=nonsense", "/console/nope"):
        answer = page.request.get(path)
        assert 400 <= answer.status < 500 and "<h1>" in answer.text(), path
    headers = page.request.get("/console/cas").headers
    assert "default-src 'none'" in headers["content-security-policy"]
    assert headers["cache-control"] == "no-store"
    page.context.close()
    context.close()


def test_sign_in_attempts_are_limited_per_source_address(
    server: LiveServer, carol: Account
) -> None:
    """From 127.0.0.2 (another source on the loopback), so the browser's 127.0.0.1 keeps its own
    allowance: the burst is spent, then even the right secret waits."""

    def attempt(secret: str) -> int:
        connection = http.client.HTTPConnection(
            "127.0.0.1", server.port, timeout=10, source_address=("127.0.0.2", 0)
        )
        try:
            body = urlencode({"access_key_id": carol.key, "secret_access_key": secret})
            headers = {"Content-Type": "application/x-www-form-urlencoded"}
            connection.request("POST", "/console/sign-in", body, headers)
            return connection.getresponse().status
        finally:
            connection.close()

    statuses = [attempt("wrong") for _ in range(SIGN_IN_CAPACITY)]
    assert statuses == [401] * SIGN_IN_CAPACITY
    assert attempt(carol.secret) == 429
