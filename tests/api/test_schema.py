"""The OpenAPI schema validates, documents error responses, and the docs need no CDN."""

import io

import pytest
import yaml
from django.core.management import call_command


def test_schema_validates_without_a_single_warning(tmp_path):
    call_command(
        "spectacular",
        "--validate",
        "--fail-on-warn",
        "--file",
        str(tmp_path / "schema.yaml"),
        stderr=io.StringIO(),
    )


def operations(schema: dict):
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            yield path, method.upper(), operation


@pytest.mark.django_db
def test_every_operation_documents_its_errors(client):
    schema = yaml.safe_load(client.get("/api/schema/").content)

    for path, method, operation in operations(schema):
        codes = set(operation["responses"])
        assert {"400", "401", "403", "404", "429"} <= codes, (method, path)
        if method in {"POST", "PUT", "PATCH"}:
            assert {"409", "413", "415"} <= codes, (method, path)


@pytest.mark.django_db
def test_guarded_changes_document_if_match(client):
    schema = yaml.safe_load(client.get("/api/schema/").content)

    for path, method in (("/api/v1/referrals/{id}/", "patch"), ("/api/v1/me/availability/", "put")):
        operation = schema["paths"][path][method]
        assert "If-Match" in {p["name"] for p in operation["parameters"]}
        assert {"412", "428"} <= set(operation["responses"])


@pytest.mark.django_db
def test_docs_page_loads_its_assets_from_kobling_not_a_cdn(client):
    page = client.get("/api/docs/").content.decode()

    assert "drf_spectacular_sidecar/swagger-ui-dist" in page
    for cdn in ("cdn.jsdelivr", "unpkg.com", "cdnjs"):
        assert cdn not in page


@pytest.mark.django_db
def test_unknown_api_address_answers_json_404(client):
    response = client.get("/api/v1/nothing-here/")

    assert response.status_code == 404
    assert "detail" in response.json()
