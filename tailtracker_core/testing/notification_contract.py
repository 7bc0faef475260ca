"""Contract of the notification repositories of a UnitOfWork (deliveries, notifications,
notification preferences, email suppressions) and of `enqueue`/`dispatch_due` on top of them.

Subclass `NotificationStoreContract` and provide, over one EMPTY store:

- `uow_factory`: a UnitOfWorkFactory;
- `outbox_store`: an OutboxStore over the same store.

Reads act as the recipient, so an adapter with row-level security runs the suite with it on;
the cross-user paths (`queue_due`, `get_many` of preferences, enqueueing for someone else)
are exercised acting for nobody or for another user, as schedulers and fan-outs do.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from tailtracker_core.errors import Conflict
from tailtracker_core.events import DeliveriesDue, DeliveryDue, event_to_json
from tailtracker_core.model.accounts import User
from tailtracker_core.model.notifications import (
    Delivery,
    DeliveryRequest,
    DeliveryStatus,
    DueDelivery,
    Notification,
    delivery_key,
)
from tailtracker_core.model.reminders import Category, Channel, NotificationPreferences, QuietHours
from tailtracker_core.ports import IdGenerator, OutboxStore, UnitOfWorkFactory
from tailtracker_core.testing.ids import TestIds
from tailtracker_core.usecases.notifications import DELIVERY_CHUNK, dispatch_due, enqueue

__all__ = ["NotificationStoreContract"]

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class NotificationStoreContract:
    @pytest.fixture
    def ids(self) -> IdGenerator:
        return TestIds()

    # --- helpers ------------------------------------------------------------------------------

    def user(self, uow_factory: UnitOfWorkFactory, ids: IdGenerator, **kw: str) -> User:
        user_id = ids.new_id()
        user = User(user_id, f"u-{user_id.hex}@example.org", "Alex", "hash", T0, **kw)  # type: ignore[arg-type]
        with uow_factory(user.id) as uow:
            uow.users.add(user)
            uow.commit()
        return user

    def request(
        self, user: User, subject: str, at: datetime, channel: Channel = Channel.IN_APP, **params: str
    ) -> DeliveryRequest:
        return DeliveryRequest(
            delivery_key(subject, user.id, channel),
            user.id,
            Category.CARE_REMINDER,
            channel,
            "care_reminder.medication",
            params or {"pet_name": "Biscuit", "task_title": "Wormer", "due_local": "08:00"},
            subject,
            at,
        )

    def drain(self, outbox_store: OutboxStore) -> list[tuple[str, str]]:
        messages = outbox_store.claim(10_000)
        if messages:
            outbox_store.mark_sent([m.id for m in messages], T0)
        else:
            outbox_store.release()
        return [(m.topic, m.payload) for m in messages]

    # --- enqueue ------------------------------------------------------------------------------

    def test_enqueue_queues_what_is_due_and_records_its_event(
        self, uow_factory: UnitOfWorkFactory, outbox_store: OutboxStore, ids: IdGenerator
    ) -> None:
        alex = self.user(uow_factory, ids)
        self.drain(outbox_store)
        now = T0
        with uow_factory(alex.id) as uow:
            added = enqueue(
                uow,
                ids,
                now,
                [self.request(alex, "occ:a", now), self.request(alex, "occ:b", now + timedelta(hours=1))],
            )
            uow.commit()
        assert added == [True, True]
        with uow_factory(alex.id) as uow:
            due = uow.deliveries.get_by_key(delivery_key("occ:a", alex.id, Channel.IN_APP))
            later = uow.deliveries.get_by_key(delivery_key("occ:b", alex.id, Channel.IN_APP))
        assert due is not None
        assert due.status is DeliveryStatus.QUEUED
        assert later is not None
        assert later.status is DeliveryStatus.SCHEDULED
        assert self.drain(outbox_store) == [("delivery.due", event_to_json(DeliveryDue(due.id, alex.id)))]

    def test_a_key_is_enqueued_once_ever(
        self, uow_factory: UnitOfWorkFactory, outbox_store: OutboxStore, ids: IdGenerator
    ) -> None:
        alex = self.user(uow_factory, ids)
        with uow_factory(alex.id) as uow:
            assert enqueue(uow, ids, T0, [self.request(alex, "occ:1", T0)]) == [True]
            uow.commit()
        self.drain(outbox_store)
        with uow_factory(alex.id) as uow:
            first = uow.deliveries.get_by_key(delivery_key("occ:1", alex.id, Channel.IN_APP))
            assert first is not None
            first.mark_sent(T0)
            uow.deliveries.save(first)
            uow.commit()
        with uow_factory(alex.id) as uow:
            # Twice in one call, and again later: nothing new, no event, the sent one stays sent.
            again = [self.request(alex, "occ:1", T0, task_title="other"), self.request(alex, "occ:1", T0)]
            assert enqueue(uow, ids, T0 + timedelta(days=1), again) == [False, False]
            uow.commit()
        assert self.drain(outbox_store) == []
        with uow_factory(alex.id) as uow:
            stored = uow.deliveries.get_by_key(delivery_key("occ:1", alex.id, Channel.IN_APP))
        assert stored is not None
        assert (stored.id, stored.status, stored.params["task_title"]) == (
            first.id,
            DeliveryStatus.SENT,
            "Wormer",
        )

    def test_anyone_may_enqueue_for_someone_else(
        self, uow_factory: UnitOfWorkFactory, outbox_store: OutboxStore, ids: IdGenerator
    ) -> None:
        reporter, neighbour = self.user(uow_factory, ids), self.user(uow_factory, ids)
        with uow_factory(reporter.id) as uow:
            assert enqueue(uow, ids, T0, [self.request(neighbour, "lost:1", T0, channel=Channel.EMAIL)]) == [
                True
            ]
            uow.commit()
        with uow_factory(None) as uow:  # a fan-out acting for nobody
            assert enqueue(uow, ids, T0, [self.request(neighbour, "lost:2", T0)]) == [True]
            uow.commit()
        with uow_factory(neighbour.id) as uow:
            assert uow.deliveries.get_by_key(delivery_key("lost:1", neighbour.id, Channel.EMAIL)) is not None
            assert uow.deliveries.get_by_key(delivery_key("lost:2", neighbour.id, Channel.IN_APP)) is not None
        assert [t for t, _ in self.drain(outbox_store)] == ["delivery.due", "delivery.due"]

    def test_a_rolled_back_enqueue_leaves_nothing(
        self, uow_factory: UnitOfWorkFactory, outbox_store: OutboxStore, ids: IdGenerator
    ) -> None:
        alex = self.user(uow_factory, ids)
        self.drain(outbox_store)
        with uow_factory(alex.id) as uow:
            enqueue(uow, ids, T0, [self.request(alex, "occ:x", T0)])
        with uow_factory(alex.id) as uow:
            assert uow.deliveries.get_by_key(delivery_key("occ:x", alex.id, Channel.IN_APP)) is None
        assert self.drain(outbox_store) == []

    def test_enqueue_in_batches_records_one_event_per_chunk_of_due_deliveries(
        self, uow_factory: UnitOfWorkFactory, outbox_store: OutboxStore, ids: IdGenerator
    ) -> None:
        alex, sam = self.user(uow_factory, ids), self.user(uow_factory, ids)
        self.drain(outbox_store)
        requests = [self.request(sam if i % 2 else alex, f"fan:{i}", T0) for i in range(DELIVERY_CHUNK + 3)]
        requests.append(self.request(sam, "fan:later", T0 + timedelta(hours=1)))  # scheduled: no event
        requests.append(self.request(alex, "fan:0", T0))  # repeated: not new, no event
        with uow_factory(None) as uow:  # a fan-out acting for nobody
            added = enqueue(uow, ids, T0, requests, in_batches=True)
            uow.commit()
        assert added == [True] * (DELIVERY_CHUNK + 4) + [False]
        keys = [
            delivery_key(f"fan:{i}", (sam if i % 2 else alex).id, Channel.IN_APP)
            for i in range(len(requests) - 2)
        ]
        due_ids = []
        for i, key in enumerate(keys):
            with uow_factory((sam if i % 2 else alex).id) as uow:
                stored = uow.deliveries.get_by_key(key)
            assert stored is not None
            due_ids.append(stored.id)
        assert self.drain(outbox_store) == [
            ("deliveries.due", event_to_json(DeliveriesDue(tuple(due_ids[:DELIVERY_CHUNK])))),
            ("deliveries.due", event_to_json(DeliveriesDue(tuple(due_ids[DELIVERY_CHUNK:])))),
        ]

    # --- deliveries -----------------------------------------------------------------------------

    def test_lock_many_reads_deliveries_of_every_user_in_id_order(
        self, uow_factory: UnitOfWorkFactory, ids: IdGenerator
    ) -> None:
        alex, sam = self.user(uow_factory, ids), self.user(uow_factory, ids)
        batch = [
            Delivery.from_request(ids.new_id(), self.request(u, f"lock:{i}", T0, pet_name="Zoë 🐾"), T0)
            for i, u in enumerate([sam, alex, sam])
        ]
        batch[1].start_attempt(T0, timedelta(minutes=5))
        batch[1].last_error = "TransientEmailError: 451 busy"
        with uow_factory(None) as uow:
            uow.deliveries.add_many(batch)
            uow.commit()
        unknown = ids.new_id()
        with uow_factory(None) as uow:  # the batch delivery worker acts for nobody
            locked = uow.deliveries.lock_many([batch[2].id, unknown, batch[0].id, batch[1].id, batch[0].id])
            assert locked == sorted(batch, key=lambda d: d.id)
            assert uow.deliveries.lock_many([]) == []

    def test_save_many_writes_the_state_of_current_versions_for_every_user(
        self, uow_factory: UnitOfWorkFactory, ids: IdGenerator
    ) -> None:
        alex, sam = self.user(uow_factory, ids), self.user(uow_factory, ids)
        batch = [
            Delivery.from_request(ids.new_id(), self.request(u, f"save:{i}", T0, channel=Channel.EMAIL), T0)
            for i, u in enumerate([alex, sam, sam])
        ]
        with uow_factory(None) as uow:
            uow.deliveries.add_many(batch)
            uow.commit()
        with uow_factory(None) as uow:
            a, b, c = uow.deliveries.lock_many([d.id for d in batch])
        by_id = {d.id: d for d in (a, b, c)}
        first, second, stale = by_id[batch[0].id], by_id[batch[1].id], by_id[batch[2].id]
        first.start_attempt(T0, timedelta(minutes=5))
        first.mark_sent(T0 + timedelta(seconds=2))  # two changes: version two above the stored one
        second.start_attempt(T0, timedelta(minutes=5))
        second.mark_retrying("TransientEmailError: 451 later")
        second.version -= 1  # one change as far as the store is concerned
        stale.mark_failed("x")
        stale.version = 7  # not one above the stored version
        second.params["pet_name"] = "Changed"  # not a state column: not written
        with uow_factory(None) as uow:
            assert uow.deliveries.save_many([first, second, stale]) == {second.id}
            assert uow.deliveries.save_many([]) == set()
            uow.commit()
        with uow_factory(sam.id) as uow:
            stored = uow.deliveries.get(second.id)
            untouched = uow.deliveries.get(stale.id)
        assert stored is not None
        assert (stored.attempts, stored.last_error, stored.lease_until, stored.version, stored.status) == (
            1,
            "TransientEmailError: 451 later",
            None,
            second.version,
            DeliveryStatus.QUEUED,
        )
        assert stored.params == batch[1].params
        assert untouched == batch[2]
        with uow_factory(alex.id) as uow:
            assert uow.deliveries.get(first.id) == batch[0]
        first.version -= 1
        with uow_factory(None) as uow:
            assert uow.deliveries.save_many([first]) == {first.id}
            uow.commit()
        with uow_factory(alex.id) as uow:
            assert uow.deliveries.get(first.id) == first

    def test_a_delivery_round_trips_every_field(
        self, uow_factory: UnitOfWorkFactory, ids: IdGenerator
    ) -> None:
        alex = self.user(uow_factory, ids)
        delivery = Delivery(
            id=ids.new_id(),
            key="vaccination:x:2026-04-01:-7d|u|email",
            user_id=alex.id,
            category=Category.LOST_PET_ALERT,
            channel=Channel.EMAIL,
            template="lost_pet_alert",
            params={"pet_name": "Zoë 🐾", "link": "https://example.org/r/1?a=b&c=d"},
            subject="lost:1",
            status=DeliveryStatus.QUEUED,
            deliver_at=T0,
            created_at=T0 - timedelta(seconds=1),
            attempts=3,
            last_error="TransientEmailError: 451 busy",
            sent_at=None,
            lease_until=T0 + timedelta(minutes=5),
            version=4,
        )
        with uow_factory(alex.id) as uow:
            assert uow.deliveries.add(delivery) is True
            uow.commit()
        with uow_factory(alex.id) as uow:
            assert uow.deliveries.get(delivery.id) == delivery
            assert uow.deliveries.get_by_key(delivery.key) == delivery
            assert uow.deliveries.get(ids.new_id()) is None

    def test_a_batch_inserts_new_keys_once_and_keeps_every_field(
        self, uow_factory: UnitOfWorkFactory, ids: IdGenerator
    ) -> None:
        alex, sam = self.user(uow_factory, ids), self.user(uow_factory, ids)
        with uow_factory(alex.id) as uow:
            enqueue(uow, ids, T0, [self.request(alex, "occ:old", T0)])
            uow.commit()
        batch = [
            Delivery.from_request(ids.new_id(), self.request(sam, "lost:9", T0, pet_name="Zoë 🐾"), T0),
            Delivery.from_request(ids.new_id(), self.request(alex, "occ:old", T0), T0),  # exists
            Delivery.from_request(ids.new_id(), self.request(alex, "lost:9", T0 + timedelta(days=1)), T0),
            Delivery.from_request(ids.new_id(), self.request(sam, "lost:9", T0), T0),  # repeated in batch
        ]
        batch += [
            Delivery.from_request(ids.new_id(), self.request(sam, f"bulk:{i}", T0), T0) for i in range(1200)
        ]
        with uow_factory(None) as uow:  # a fan-out acting for nobody, for other people
            added = uow.deliveries.add_many(batch)
            uow.commit()
        assert added == {batch[0].id, batch[2].id} | {d.id for d in batch[4:]}
        with uow_factory(sam.id) as uow:
            assert uow.deliveries.get(batch[0].id) == batch[0]
            assert uow.deliveries.get(batch[-1].id) == batch[-1]
        with uow_factory(alex.id) as uow:
            assert uow.deliveries.get(batch[2].id) == batch[2]
            assert uow.deliveries.get(batch[1].id) is None
        with uow_factory(None) as uow:
            assert uow.deliveries.add_many([]) == set()

    def test_saving_a_stale_delivery_is_a_conflict(
        self, uow_factory: UnitOfWorkFactory, ids: IdGenerator
    ) -> None:
        alex = self.user(uow_factory, ids)
        with uow_factory(alex.id) as uow:
            enqueue(uow, ids, T0, [self.request(alex, "occ:c", T0)])
            uow.commit()
        with uow_factory(alex.id) as uow:
            a = uow.deliveries.get_by_key(delivery_key("occ:c", alex.id, Channel.IN_APP))
            b = uow.deliveries.get_by_key(delivery_key("occ:c", alex.id, Channel.IN_APP))
        assert a is not None
        assert b is not None
        a.start_attempt(T0, timedelta(minutes=5))
        b.mark_sent(T0)
        with uow_factory(alex.id) as uow:
            uow.deliveries.save(a)
            uow.commit()
        with uow_factory(alex.id) as uow, pytest.raises(Conflict):
            uow.deliveries.save(b)
        with uow_factory(alex.id) as uow:
            assert uow.deliveries.get(a.id) == a

    def test_queue_due_moves_due_scheduled_deliveries_of_every_user(
        self, uow_factory: UnitOfWorkFactory, outbox_store: OutboxStore, ids: IdGenerator
    ) -> None:
        alex, sam = self.user(uow_factory, ids), self.user(uow_factory, ids)
        with uow_factory(alex.id) as uow:
            enqueue(
                uow,
                ids,
                T0,
                [
                    self.request(alex, "occ:3", T0 + timedelta(minutes=3)),
                    self.request(sam, "occ:1", T0 + timedelta(minutes=1)),
                    self.request(alex, "occ:2", T0 + timedelta(minutes=2)),
                    self.request(sam, "occ:late", T0 + timedelta(hours=5)),
                ],
            )
            uow.commit()
        self.drain(outbox_store)
        with uow_factory(alex.id) as uow:
            by_key = {
                s: uow.deliveries.get_by_key(delivery_key(s, alex.id, Channel.IN_APP))
                for s in ("occ:2", "occ:3")
            }
        with uow_factory(sam.id) as uow:
            first = uow.deliveries.get_by_key(delivery_key("occ:1", sam.id, Channel.IN_APP))
        assert first is not None
        assert by_key["occ:2"] is not None
        assert by_key["occ:3"] is not None
        now = T0 + timedelta(minutes=10)
        with uow_factory(None) as uow:  # the scheduler acts for nobody
            assert uow.deliveries.queue_due(now, 2) == [
                DueDelivery(first.id, sam.id),
                DueDelivery(by_key["occ:2"].id, alex.id),
            ]
            uow.commit()
        with uow_factory(None) as uow:
            assert dispatch_due(uow, now, 10) == 1  # occ:3; occ:late is not due
        with uow_factory(None) as uow:
            assert dispatch_due(uow, now, 10) == 0
        assert self.drain(outbox_store) == [
            ("delivery.due", event_to_json(DeliveryDue(by_key["occ:3"].id, alex.id)))
        ]
        with uow_factory(alex.id) as uow:
            d3 = uow.deliveries.get(by_key["occ:3"].id)
        assert d3 is not None
        assert d3.status is DeliveryStatus.QUEUED
        assert d3.version == by_key["occ:3"].version + 1

    def test_queue_due_leaves_queued_and_finished_deliveries_alone(
        self, uow_factory: UnitOfWorkFactory, ids: IdGenerator
    ) -> None:
        alex = self.user(uow_factory, ids)
        with uow_factory(alex.id) as uow:
            enqueue(
                uow,
                ids,
                T0,
                [self.request(alex, "occ:q", T0), self.request(alex, "occ:s", T0 + timedelta(1))],
            )
            uow.commit()
        with uow_factory(alex.id) as uow:
            s = uow.deliveries.get_by_key(delivery_key("occ:s", alex.id, Channel.IN_APP))
            assert s is not None
            s.cancel("completed")
            uow.deliveries.save(s)
            uow.commit()
        with uow_factory(None) as uow:
            assert uow.deliveries.queue_due(T0 + timedelta(days=2), 10) == []

    # --- in-app notifications -------------------------------------------------------------------

    def notification(self, ids: IdGenerator, user: User, **kw: object) -> Notification:
        values: dict[str, object] = {
            "id": ids.new_id(),
            "user_id": user.id,
            "delivery_id": ids.new_id(),
            "category": Category.SIGHTING,
            "title": "Biscuit was seen",
            "body": "Someone saw Biscuit — «near the park»",
            "data": {"pet_id": str(ids.new_id()), "subject": "sighting:1"},
            "created_at": T0,
        }
        values.update(kw)
        return Notification(**values)  # type: ignore[arg-type]

    def test_a_notification_round_trips_and_is_stored_once_per_delivery(
        self, uow_factory: UnitOfWorkFactory, ids: IdGenerator
    ) -> None:
        alex = self.user(uow_factory, ids)
        n = self.notification(ids, alex)
        with uow_factory(alex.id) as uow:
            assert uow.notifications.add(n) is True
            assert uow.notifications.add(self.notification(ids, alex, delivery_id=n.delivery_id)) is False
            uow.commit()
        with uow_factory(alex.id) as uow:
            assert uow.notifications.get(n.id) == n
            assert uow.notifications.list_for_user(alex.id, False, None, 10) == [n]

    def test_add_many_stores_in_app_notifications_of_every_user_once(
        self, uow_factory: UnitOfWorkFactory, ids: IdGenerator
    ) -> None:
        alex, sam = self.user(uow_factory, ids), self.user(uow_factory, ids)
        in_app = [
            Delivery.from_request(ids.new_id(), self.request(u, f"many:{i}", T0), T0)
            for i, u in enumerate([alex, sam])
        ]
        email = Delivery.from_request(
            ids.new_id(), self.request(sam, "many:e", T0, channel=Channel.EMAIL), T0
        )
        with uow_factory(None) as uow:
            uow.deliveries.add_many([*in_app, email])
            uow.commit()
        notes = [
            self.notification(ids, alex, delivery_id=in_app[0].id),
            self.notification(ids, sam, delivery_id=in_app[1].id),
        ]
        refused = [
            self.notification(ids, sam, delivery_id=email.id),  # not an in-app delivery
            self.notification(ids, sam, delivery_id=in_app[0].id),  # someone else's delivery
            self.notification(ids, alex),  # no such delivery
        ]
        with uow_factory(None) as uow:  # the batch delivery worker acts for nobody
            assert uow.notifications.add_many([*notes, *refused[:1], *refused[2:]]) == {d.id for d in in_app}
            assert uow.notifications.add_many([]) == set()
            uow.commit()
        with uow_factory(None) as uow:  # a replay adds nothing
            assert (
                uow.notifications.add_many([self.notification(ids, alex, delivery_id=in_app[0].id)]) == set()
            )
            assert uow.notifications.add_many(refused[1:2]) == set()
            uow.commit()
        with uow_factory(alex.id) as uow:
            assert uow.notifications.list_for_user(alex.id, False, None, 10) == [notes[0]]
        with uow_factory(sam.id) as uow:
            assert uow.notifications.list_for_user(sam.id, False, None, 10) == [notes[1]]

    def test_notifications_list_newest_first_with_cursor_and_unread_filter(
        self, uow_factory: UnitOfWorkFactory, ids: IdGenerator
    ) -> None:
        alex, sam = self.user(uow_factory, ids), self.user(uow_factory, ids)
        mine = [self.notification(ids, alex, title=f"n{i}") for i in range(5)]
        with uow_factory(alex.id) as uow:
            for n in mine:
                uow.notifications.add(n)
            uow.notifications.save(mine[1].read(T0))
            uow.commit()
        with uow_factory(sam.id) as uow:
            uow.notifications.add(self.notification(ids, sam))
            uow.commit()
        newest_first = list(reversed(mine))
        with uow_factory(alex.id) as uow:
            page = uow.notifications.list_for_user(alex.id, False, None, 2)
            assert [n.id for n in page] == [n.id for n in newest_first[:2]]
            rest = uow.notifications.list_for_user(alex.id, False, page[-1].id, 10)
            assert [n.id for n in rest] == [n.id for n in newest_first[2:]]
            unread = uow.notifications.list_for_user(alex.id, True, None, 10)
            assert [n.id for n in unread] == [n.id for n in newest_first if n.id != mine[1].id]
            assert uow.notifications.list_for_user(alex.id, False, None, 0) == []

    def test_mark_all_read_touches_only_the_users_unread_ones(
        self, uow_factory: UnitOfWorkFactory, ids: IdGenerator
    ) -> None:
        alex, sam = self.user(uow_factory, ids), self.user(uow_factory, ids)
        earlier = T0 - timedelta(hours=1)
        read_before = self.notification(ids, alex, read_at=earlier)
        with uow_factory(alex.id) as uow:
            uow.notifications.add(read_before)
            uow.notifications.add(self.notification(ids, alex))
            uow.notifications.add(self.notification(ids, alex))
            uow.commit()
        theirs = self.notification(ids, sam)
        with uow_factory(sam.id) as uow:
            uow.notifications.add(theirs)
            uow.commit()
        with uow_factory(alex.id) as uow:
            assert uow.notifications.mark_all_read(alex.id, T0) == 2
            uow.commit()
        with uow_factory(alex.id) as uow:
            got = uow.notifications.list_for_user(alex.id, False, None, 10)
            assert uow.notifications.list_for_user(alex.id, True, None, 10) == []
        assert {n.read_at for n in got} == {T0, earlier}
        with uow_factory(sam.id) as uow:
            assert uow.notifications.get(theirs.id) == theirs

    # --- preferences ------------------------------------------------------------------------------

    def test_preferences_round_trip_and_are_replaced_whole(
        self, uow_factory: UnitOfWorkFactory, ids: IdGenerator
    ) -> None:
        alex = self.user(uow_factory, ids)
        prefs = NotificationPreferences(
            choices={
                (Category.CARE_REMINDER, Channel.EMAIL): True,
                (Category.CARE_REMINDER, Channel.PUSH): False,
                (Category.LOST_PET_ALERT, Channel.SMS): True,
            },
            quiet_hours=QuietHours(time(22, 30), time(7, 0)),
        )
        with uow_factory(alex.id) as uow:
            assert uow.notification_preferences.get(alex.id) is None
            uow.notification_preferences.put(alex.id, prefs, T0)
            uow.commit()
        with uow_factory(alex.id) as uow:
            assert uow.notification_preferences.get(alex.id) == prefs
            replaced = NotificationPreferences(choices={(Category.FAMILY, Channel.EMAIL): False})
            uow.notification_preferences.put(alex.id, replaced, T0)
            uow.commit()
        with uow_factory(alex.id) as uow:
            assert uow.notification_preferences.get(alex.id) == replaced

    def test_planners_read_the_preferences_of_several_users(
        self, uow_factory: UnitOfWorkFactory, ids: IdGenerator
    ) -> None:
        alex, sam, kim = (self.user(uow_factory, ids) for _ in range(3))
        a = NotificationPreferences(quiet_hours=QuietHours(time(23, 0), time(6, 0)))
        s = NotificationPreferences(choices={(Category.SIGHTING, Channel.EMAIL): False})
        for who, p in ((alex, a), (sam, s)):
            with uow_factory(who.id) as uow:
                uow.notification_preferences.put(who.id, p, T0)
                uow.commit()
        for actor in (None, kim.id):
            with uow_factory(actor) as uow:
                assert uow.notification_preferences.get_many([alex.id, sam.id, kim.id, alex.id]) == {
                    alex.id: a,
                    sam.id: s,
                }
                assert uow.notification_preferences.get_many([]) == {}

    # --- email suppressions ---------------------------------------------------------------------

    def test_a_suppressed_address_is_found_whatever_its_case(
        self, uow_factory: UnitOfWorkFactory, ids: IdGenerator
    ) -> None:
        alex = self.user(uow_factory, ids)
        with uow_factory(alex.id) as uow:
            uow.email_suppressions.add("Gone@Example.org", "PermanentEmailError: 550 user unknown", T0)
            uow.email_suppressions.add("gone@example.org", "again", T0)  # kept, no error
            uow.commit()
        with uow_factory(None) as uow:
            assert uow.email_suppressions.is_suppressed(" GONE@example.ORG")
            assert not uow.email_suppressions.is_suppressed("other@example.org")
            among = uow.email_suppressions.suppressed_among(["GONE@example.org ", "other@example.org"])
            assert among == {"gone@example.org"}
            assert uow.email_suppressions.suppressed_among([]) == set()
            uow.email_suppressions.remove("gone@EXAMPLE.org")
            uow.commit()
        with uow_factory(None) as uow:
            assert not uow.email_suppressions.is_suppressed("gone@example.org")
