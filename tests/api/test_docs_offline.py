"""/docs and /redoc render offline: their pages reference only this API's own URLs, and it serves those files."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.config import ApiConfig


class _References(HTMLParser):
    """Every URL a page makes the browser load: src/href attributes and the `url:` of Swagger UI's set-up."""

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.urls += [value for name, value in attrs if name in ("src", "href", "spec-url") and value]

    def handle_data(self, data):
        self.urls += re.findall(r"""\burl:\s*['"]([^'"]+)['"]""", data)


@pytest.fixture(scope="module")
def docs_client(tmp_path_factory):
    # No registry is needed to serve the docs: an empty one starts the API degraded, in a second.
    home = tmp_path_factory.mktemp("docs")
    config = ApiConfig(
        tracking_uri=f"sqlite:///{home / 'mlflow.db'}", clean_readings_dir=home / "none", poll_seconds=3600
    )
    with TestClient(create_app(config)) as client:
        yield client


@pytest.mark.parametrize(
    ("page", "script", "marker"),
    [("/docs", "swagger-ui-bundle.js", "SwaggerUIBundle"), ("/redoc", "redoc.standalone.js", "Redoc")],
)
def test_docs_pages_load_only_the_apis_own_files(docs_client, page, script, marker):
    response = docs_client.get(page)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    html = response.text
    assert "http://" not in html and "https://" not in html and "//cdn" not in html, html
    parser = _References()
    parser.feed(html)
    assert "/openapi.json" in parser.urls
    assert any(url.endswith("/" + script) for url in parser.urls), parser.urls
    for url in parser.urls:
        assert url.startswith("/") and not url.startswith("//"), f"{page} references {url}"
        served = docs_client.get(url)
        assert served.status_code == 200, f"{page} references {url}, which answers {served.status_code}"
        assert len(served.content) > 0
    bundle = docs_client.get(next(url for url in parser.urls if url.endswith("/" + script)))
    assert bundle.headers["content-type"].startswith(("application/javascript", "text/javascript"))
    assert marker in bundle.text and len(bundle.content) > 500_000  # the real bundle, not a placeholder


def test_swagger_ui_does_not_send_the_document_to_an_outside_validator(docs_client):
    assert '"validatorUrl": null' in docs_client.get("/docs").text


def test_docs_pages_are_not_operations_of_the_api(docs_client):
    paths = docs_client.get("/openapi.json").json()["paths"]
    assert not any(path.startswith(("/docs", "/redoc")) for path in paths)
