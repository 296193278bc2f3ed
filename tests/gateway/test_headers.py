"""Security headers on every response, and Host handling: links from the public URL only."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from gateway.app import create_app
from gateway.http.headers import host_name
from gateway.runtime import Runtime
from kernel.errors import SettingsError
from kernel.settings import Settings, load_settings
from tests.gateway.staff import MakeAccount, StaffClient
from tests.gateway.workflow.conftest import Network, agency, network  # noqa: F401

PUBLIC = "http://127.0.0.1:8000"  # the run's REFHUB_PUBLIC_BASE_URL (the default)
PAGE_DIRECTIVES = (
    "default-src 'self'",
    "style-src 'self' 'unsafe-inline'",  # the hub's stylesheet and the inline <style> blocks
    "frame-ancestors 'none'",
    "form-action 'self'",
    "base-uri 'none'",
)


def _browser(app: FastAPI, base_url: str = "http://testserver") -> TestClient:
    return TestClient(app, base_url=base_url, follow_redirects=False)


def _https_app(settings: Settings) -> FastAPI:
    https = settings.model_copy(update={"public_base_url": "https://hub.example.org"})
    return create_app(Runtime(https), run_relay=False)


def _assert_private(response: httpx.Response) -> None:
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"


def _assert_page(response: httpx.Response) -> None:
    _assert_private(response)
    headers = response.headers
    policy = headers["content-security-policy"]
    assert all(directive in policy for directive in PAGE_DIRECTIVES), policy
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["x-frame-options"] == "DENY"


def test_api_json_responses_are_not_stored(app: FastAPI, make_account: MakeAccount) -> None:
    staff = StaffClient(app)
    staff.login(make_account())
    me = staff.get("/auth/me")
    assert me.status_code == 200, me.text
    _assert_private(me)
    assert "content-security-policy" not in me.headers
    refused = TestClient(app).get("/auth/me")  # error answers too
    assert refused.status_code == 401
    _assert_private(refused)


def test_public_metadata_may_still_be_cached(client: TestClient) -> None:
    jwks = client.get("/.well-known/jwks.json")
    assert jwks.headers["cache-control"] == "max-age=300"
    assert jwks.headers["x-content-type-options"] == "nosniff"
    assert "cache-control" not in client.get("/fhir/metadata").headers
    stylesheet = client.get("/ui/static/refhub.css")  # a static asset
    assert stylesheet.status_code == 200
    assert "no-store" not in stylesheet.headers.get("cache-control", "")
    assert stylesheet.headers["x-content-type-options"] == "nosniff"
    assert "content-security-policy" not in stylesheet.headers


def test_staff_pages_carry_the_page_policy(app: FastAPI, make_account: MakeAccount) -> None:
    browser = _browser(app)
    login = browser.get("/ui/login")
    assert login.status_code == 200
    _assert_page(login)
    account = make_account()
    staff = StaffClient(app)
    staff.login(account)
    home = staff.http.get("/ui/")
    assert home.status_code == 200 and account.org.name in home.text
    _assert_page(home)
    redirect = browser.get("/ui/")  # redirects too
    assert redirect.status_code == 303
    _assert_page(redirect)


def test_consent_page_carries_the_page_policy(app: FastAPI) -> None:
    browser = _browser(app)
    form = browser.get("/consent/page/open", params={"token": "not-a-token"})
    assert form.status_code == 200
    assert "<form" in form.text
    _assert_page(form)
    ended = browser.get("/consent/page")
    assert ended.status_code == 401
    _assert_page(ended)


def test_hsts_and_secure_login_cookie_only_under_https(app: FastAPI, settings: Settings) -> None:
    plain = _browser(app).get("/ui/login")
    assert "strict-transport-security" not in plain.headers
    assert "secure" not in plain.headers["set-cookie"].lower()
    secured = _browser(_https_app(settings), "https://hub.example.org")
    for response in (secured.get("/ui/login"), secured.get("/healthz")):
        assert response.headers["strict-transport-security"].startswith("max-age=")
    cookie = secured.get("/ui/login").headers["set-cookie"]
    assert cookie.startswith("refhub_login_csrf=") and "secure" in cookie.lower()


@pytest.mark.parametrize("path", ["/auth/me", "/ui/login", "/consent/page/open"])
def test_a_forged_host_is_refused_with_problem_json(client: TestClient, path: str) -> None:
    response = client.get(path, headers={"Host": "evil.example"})
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "host-not-allowed" and body["instance"] == path
    assert PUBLIC in body["detail"] and "evil" not in response.text
    assert response.headers["x-request-id"] == body["request_id"]
    _assert_private(response)


def test_fhir_routes_refuse_a_forged_host_with_operation_outcome(client: TestClient) -> None:
    response = client.get("/fhir/metadata", headers={"Host": "evil.example:8000"})
    assert response.status_code == 400
    assert response.json()["resourceType"] == "OperationOutcome"


def test_allowed_hosts_public_local_and_probes(client: TestClient, settings: Settings) -> None:
    for host in ("127.0.0.1:8000", "localhost", "LOCALHOST:9000", "[::1]:8000", "testserver"):
        assert client.get("/fhir/metadata", headers={"Host": host}).status_code == 200, host
    assert client.get("/healthz", headers={"Host": "10.1.2.3:8000"}).status_code == 200
    public = settings.model_copy(
        update={"public_base_url": "https://hub.example.org", "allowed_hosts": "hub.internal"}
    )
    other = TestClient(create_app(Runtime(public), run_relay=False), base_url="https://x")
    assert other.get("/fhir/metadata", headers={"Host": "hub.example.org"}).status_code == 200
    assert other.get("/fhir/metadata", headers={"Host": "HUB.internal"}).status_code == 200
    assert other.get("/fhir/metadata", headers={"Host": "localhost"}).status_code == 400
    anyone = settings.model_copy(update={"allowed_hosts": "*"})
    open_app = TestClient(create_app(Runtime(anyone), run_relay=False))
    assert open_app.get("/fhir/metadata", headers={"Host": "a.example"}).status_code == 200


def test_host_names_and_the_setting_are_checked() -> None:
    assert host_name("Hub.Example.org:443") == "hub.example.org"
    assert host_name("[::1]:8000") == "::1"
    assert host_name("[broken") == ""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("REFHUB_ALLOWED_HOSTS", "https://hub.example.org/")
        with pytest.raises(SettingsError, match="REFHUB_ALLOWED_HOSTS"):
            load_settings()
        mp.setenv("REFHUB_ALLOWED_HOSTS", " Hub.Internal , [::1] ,")
        assert load_settings().allowed_host_names >= {"hub.internal", "::1", "127.0.0.1"}


def test_directory_links_use_the_public_url(client: TestClient) -> None:
    local = {"Host": "localhost:9999"}
    found = client.get("/fhir/HealthcareService", params={"_count": "1"}, headers=local)
    assert found.status_code == 200, found.text
    links = [link["url"] for link in found.json()["link"]]
    assert links and all(url.startswith(f"{PUBLIC}/fhir/HealthcareService?") for url in links)
    assert all(e["fullUrl"].startswith(f"{PUBLIC}/fhir/") for e in found.json().get("entry", []))
    about = client.get("/hsds/", headers=local)
    assert about.json()["openapi_url"] == f"{PUBLIC}/openapi.json"


def test_referral_locations_and_links_use_the_public_url(network: Network) -> None:  # noqa: F811
    local = {"Host": "localhost"}
    rid = network.submit().json()["id"]
    posted = network.receiver.post(
        "/fhir/Communication",
        json={
            "resourceType": "Communication",
            "status": "completed",
            "partOf": [{"reference": f"Task/{rid}"}],
            "payload": [{"contentString": "Does the client prefer mornings?"}],
        },
        headers=local,
    )
    assert posted.status_code == 201, posted.text
    assert posted.headers["location"] == (
        f"{PUBLIC}/fhir/Communication/{posted.json()['id']}/_history/1"
    )  # FHIR create: the version-specific URL
    _assert_private(posted)
    thread = network.sender.get(f"/fhir/Communication?part-of=Task/{rid}", headers=local)
    assert thread.json()["link"][0]["url"].startswith(f"{PUBLIC}/fhir/Communication?")
    tasks = network.receiver.get("/fhir/Task", headers=local).json()
    assert tasks["link"][0]["url"].startswith(f"{PUBLIC}/fhir/Task?")
    assert all(e["fullUrl"].startswith(f"{PUBLIC}/fhir/Task/") for e in tasks["entry"])
