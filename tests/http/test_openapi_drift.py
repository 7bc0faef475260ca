"""The committed OpenAPI document is the one the app generates."""

from __future__ import annotations

from pathlib import Path

from entrypoints.http.openapi import document, render

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
REGENERATE = "python -m entrypoints.http.openapi > docs/openapi.json"


def test_docs_openapi_json_matches_the_app():
    generated = render(document())
    committed = COMMITTED.read_text() if COMMITTED.exists() else ""
    assert committed == generated, f"docs/openapi.json is out of date; regenerate it with: {REGENERATE}"


def test_every_v1_operation_documents_problems_and_security():
    doc = document()
    public = {"/v1/auth/register", "/v1/auth/login", "/v1/auth/refresh", "/v1/invitations/{token}"}
    # The public lost-pet views: no sign-in needed, a bearer token shows the family more.
    optional = {("get", "/v1/lost-reports"), ("get", "/v1/lost-reports/{report_id}")}
    public |= {"/v1/pets/{pet_id}/calendar.ics", "/v1/families/{family_id}/calendar.ics"}  # token in URL
    for path, item in doc["paths"].items():
        if not path.startswith("/v1/"):
            continue
        for method, op in item.items():
            assert op.get("summary") and op.get("tags"), (method, path)
            assert "422" in op["responses"] and "429" in op["responses"], (method, path)
            problem = op["responses"]["422"]["content"]["application/problem+json"]["schema"]
            assert problem == {"$ref": "#/components/schemas/Problem"}
            if (method, path) in optional:
                assert op.get("security") == [{}, {"bearer": []}], (method, path)
                assert "401" in op["responses"], (method, path)  # a token sent must be valid
            elif path not in public:
                assert op.get("security") == [{"bearer": []}], (method, path)
                assert "401" in op["responses"], (method, path)
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
