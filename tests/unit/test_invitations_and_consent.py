from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tailtracker_core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from tailtracker_core.events import EVENT_TYPES, InvitationCreated, event_from_json, event_to_json
from tailtracker_core.model.consent import ConsentMethod, Purpose
from tailtracker_core.model.roles import Role
from tailtracker_core.usecases import consents, families
from tests.unit.support import add_user, memory_deps


def _family_with_invite(email="guest@example.org", role=Role.MEMBER):
    deps, store, clock = memory_deps()
    owner = add_user(deps, "owner@example.org", "Olive")
    guest = add_user(deps, email)
    family = families.create_family(deps, owner.id, "Home")
    issued = families.invite(deps, owner.id, family.id, "Guest@Example.org", role)
    return deps, store, clock, owner, guest, family, issued


def test_an_invitation_is_single_use_and_bound_to_its_email():
    deps, _, _, owner, guest, family, issued = _family_with_invite()
    other = add_user(deps, "other@example.org")
    with pytest.raises(Forbidden):
        families.accept_invitation(deps, other.id, issued.token)
    families.accept_invitation(deps, guest.id, issued.token)  # email compared case-insensitively
    with pytest.raises(Conflict, match="accepted"):
        families.accept_invitation(deps, guest.id, issued.token)
    assert families.get_family(deps, guest.id, family.id).role_of(guest.id) is Role.MEMBER


def test_an_invitation_expires_after_seven_days():
    deps, _, clock, owner, guest, family, issued = _family_with_invite()
    clock.advance(days=7)
    found, state = families.preview_invitation(deps, issued.token)
    assert state == "expired" and found.family_name == "Home" and found.inviter_name == "Olive"
    with pytest.raises(Conflict, match="expired"):
        families.accept_invitation(deps, guest.id, issued.token)


def test_a_revoked_invitation_cannot_be_accepted_and_unknown_tokens_are_not_found():
    deps, _, _, owner, guest, family, issued = _family_with_invite()
    families.revoke_invitation(deps, owner.id, family.id, issued.invitation.id)
    with pytest.raises(Conflict, match="revoked"):
        families.accept_invitation(deps, guest.id, issued.token)
    with pytest.raises(NotFound):
        families.preview_invitation(deps, "no-such-token")


def test_nobody_is_invited_as_owner_and_the_token_is_not_stored():
    deps, store, *_ = memory_deps()
    owner = add_user(deps, "owner@example.org")
    family = families.create_family(deps, owner.id, "Home")
    with pytest.raises(ValidationFailed):
        families.invite(deps, owner.id, family.id, "x@example.org", Role.OWNER)
    issued = families.invite(deps, owner.id, family.id, "x@example.org", Role.VIEWER)
    stored = store.data.invitations[issued.invitation.id]
    assert issued.token not in repr(stored)


def test_invitation_event_goes_to_the_outbox_with_the_commit():
    deps, store, *_ = _family_with_invite()[:3]
    messages = store.outbox().claim(100)
    topics = [m.topic for m in messages]
    assert "invitation.created" in topics
    event = event_from_json(
        "invitation.created", next(m.payload for m in messages if m.topic == "invitation.created")
    )
    assert isinstance(event, InvitationCreated) and event.family_name == "Home"


def test_a_failed_use_case_leaves_no_event_and_no_change():
    deps, store, *_ = memory_deps()
    owner = add_user(deps, "owner@example.org")
    family = families.create_family(deps, owner.id, "Home")
    before = len(store.data.outbox)
    with pytest.raises(Conflict):
        families.remove_member(deps, owner.id, family.id, owner.id)
    assert len(store.data.outbox) == before
    assert families.get_family(deps, owner.id, family.id).owners == [owner.id]


def test_consent_history_is_append_only_and_current_state_is_the_latest():
    deps, _, clock = memory_deps()
    user = add_user(deps, "u@example.org")
    consents.set_consent(deps, user.id, Purpose.LOCATION_ALERTS, True, "2026-01", ConsentMethod.APP)
    clock.advance(minutes=1)
    withdrawn = consents.set_consent(
        deps, user.id, Purpose.LOCATION_ALERTS, False, "2026-01", ConsentMethod.WEB
    )
    state = consents.current_state(deps, user.id)
    assert state[Purpose.LOCATION_ALERTS] == withdrawn
    assert state[Purpose.MARKETING] is None
    assert [r.granted for r in consents.consent_history(deps, user.id)] == [True, False]
    receipt = consents.consent_receipt(deps, user.id, withdrawn.id)
    assert receipt["version"] == "KI-CR-v1.1.0" and receipt["consentReceiptID"] == str(withdrawn.id)
    other = add_user(deps, "x@example.org")
    with pytest.raises(NotFound):
        consents.consent_receipt(deps, other.id, withdrawn.id)


def test_essential_consent_cannot_be_withdrawn():
    deps, *_ = memory_deps()
    user = add_user(deps, "u@example.org")
    with pytest.raises(Conflict):
        consents.set_consent(deps, user.id, Purpose.ESSENTIAL, False, "2026-01", ConsentMethod.API)


def test_erasure_request_is_recorded_once_with_a_one_month_deadline():
    deps, *_ = memory_deps()
    user = add_user(deps, "u@example.org")
    first = consents.request_erasure(deps, user.id)
    again = consents.request_erasure(deps, user.id)
    assert first == again and (first.due_at - first.requested_at).days == 30


@given(st.data())
def test_every_event_round_trips_through_json(data):
    topic = data.draw(st.sampled_from(sorted(EVENT_TYPES)))
    cls = EVENT_TYPES[topic]
    event = data.draw(
        st.builds(
            cls,
            **{
                f.name: st.lists(st.uuids(), max_size=3).map(tuple)
                if str(f.type).startswith(("tuple[UUID", "tuple[uuid.UUID"))  # resolved or not
                else st.uuids()
                if "UUID" in str(f.type)
                else st.datetimes(timezones=st.just(UTC), min_value=datetime(2000, 1, 1))
                if "datetime" in str(f.type)
                else st.booleans()
                if "bool" in str(f.type)
                else st.integers(0, 2**62)
                if str(f.type) in ("int", "<class 'int'>")
                else st.lists(st.text()).map(tuple)
                if str(f.type).startswith("tuple[str")
                else st.floats(allow_nan=False, allow_infinity=False)
                if "float" in str(f.type)
                else st.text()
                for f in cls.__attrs_attrs__
            },
        )
    )
    assert event_from_json(topic, event_to_json(event)) == event
