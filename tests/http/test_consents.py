"""Consent: current state, grant, withdraw, history, receipts."""

from __future__ import annotations

import uuid

from .problems import assert_problem

PURPOSES = {"essential", "analytics", "marketing", "location_alerts", "vet_sharing"}


def test_a_new_account_holds_only_the_essential_consent(alice):
    body = alice.get("/v1/me/consents").json()
    state = {c["purpose"]: c for c in body["consents"]}
    assert set(state) == PURPOSES
    assert state["essential"]["granted"] is True and state["essential"]["record_id"]
    assert state["marketing"] == {
        "purpose": "marketing",
        "granted": False,
        "policy_version": None,
        "recorded_at": None,
        "record_id": None,
    }


def test_grant_then_withdraw_is_recorded_in_history(alice):
    granted = alice.put(
        "/v1/me/consents/marketing", json={"granted": True, "policy_version": "2026-01", "method": "app"}
    )
    assert granted.status_code == 200, granted.text
    record = granted.json()
    assert set(record) == {"id", "purpose", "granted", "policy_version", "recorded_at", "method"}
    assert record["method"] == "app" and record["granted"] is True
    withdrawn = alice.put("/v1/me/consents/marketing", json={"granted": False, "policy_version": "2026-01"})
    assert withdrawn.json()["granted"] is False and withdrawn.json()["method"] == "api"

    state = {c["purpose"]: c for c in alice.get("/v1/me/consents").json()["consents"]}
    assert (
        state["marketing"]["granted"] is False and state["marketing"]["record_id"] == withdrawn.json()["id"]
    )
    history = alice.get("/v1/me/consents/history").json()
    assert [(r["purpose"], r["granted"]) for r in history["items"]] == [
        ("essential", True),
        ("marketing", True),
        ("marketing", False),
    ]
    first = alice.get("/v1/me/consents/history?limit=2").json()
    second = alice.get(f"/v1/me/consents/history?limit=2&cursor={first['next_cursor']}").json()
    assert [r["id"] for r in first["items"] + second["items"]] == [r["id"] for r in history["items"]]


def test_essential_cannot_be_withdrawn(alice):
    response = alice.put("/v1/me/consents/essential", json={"granted": False, "policy_version": "2026-01"})
    assert_problem(response, 409, "conflict")


def test_unknown_purposes_and_bad_bodies_are_422(alice):
    assert_problem(
        alice.put("/v1/me/consents/telepathy", json={"granted": True, "policy_version": "1"}),
        422,
        "validation_error",
        "purpose",
    )
    assert_problem(
        alice.put("/v1/me/consents/analytics", json={"granted": "yes", "policy_version": "1"}),
        422,
        "validation_error",
        "granted",
    )
    assert_problem(
        alice.put("/v1/me/consents/analytics", json={"granted": True}),
        422,
        "validation_error",
        "policy_version",
    )


def test_a_receipt_for_ones_own_record_only(alice, bob):
    record = alice.put(
        "/v1/me/consents/analytics", json={"granted": True, "policy_version": "2026-01"}
    ).json()
    receipt = alice.get(f"/v1/me/consents/{record['id']}/receipt")
    assert receipt.status_code == 200
    body = receipt.json()
    assert body["version"] == "KI-CR-v1.1.0" and body["consentReceiptID"] == record["id"]
    assert body["piiPrincipalId"] == alice.id
    assert_problem(bob.get(f"/v1/me/consents/{record['id']}/receipt"), 404, "not_found")
    assert_problem(alice.get(f"/v1/me/consents/{uuid.uuid4()}/receipt"), 404, "not_found")
    assert_problem(alice.get("/v1/me/consents/not-a-uuid/receipt"), 422, "validation_error", "record_id")
