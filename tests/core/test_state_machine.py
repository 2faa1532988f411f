"""Random sequences of visits and counter actions leave a consistent state and timeline."""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from sqlalchemy import select

from shared import visits
from shared.bookings import import_rows
from shared.config import load_config
from shared.errors import Refusal
from shared.lifecycle import ACTIONS
from shared.models import Ticket, TimelineEntry
from tests.conftest import ROOT, booking_row, make_core

CONFIG = load_config(ROOT / "config.toml")
CODES = [f"MACHINE-{i:03d}" for i in range(12)]
COUNTERS = list(CONFIG.default_office.counters)
# The status each timeline action leaves a ticket in (None: the same as before).
RESULT = {"checked_in": "waiting", "called": "called", "recall": "called", "start": "serving",
          "moved": "waiting", "finished": "done", "no_show": "missed", "hold": "held",
          "resume": "waiting", "transfer": "waiting", "reinstate": "waiting",
          "cancel": "cancelled", "reprinted": None}


class VisitMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.tmp = tempfile.TemporaryDirectory()
        self.core = make_core(CONFIG, f"sqlite:///{Path(self.tmp.name) / 'm.sqlite3'}")
        rows = [booking_row(code, f"{9 + i % 3:02d}:00", f"{10 + i % 3:02d}:00",
                            group="lansia" if i % 5 == 0 else "")
                for i, code in enumerate(CODES)]
        import_rows(self.core, enumerate(rows, start=1))
        self.place_keys: dict[int, object] = {}

    def teardown(self) -> None:
        self.core.bus.close()
        self.core.db.engine.dispose()
        self.tmp.cleanup()

    def tickets(self) -> list[Ticket]:
        with self.core.db.read() as session:
            return list(session.execute(select(Ticket)).scalars())

    @rule(code=st.sampled_from(CODES))
    def check_in(self, code: str) -> None:
        try:
            result = visits.check_in(self.core, "DPS", code, "kiosk")
        except Refusal:
            return
        self.place_keys.setdefault(result.ticket["id"], None)

    @rule(counter=st.sampled_from(COUNTERS), key=st.none() | st.sampled_from(["a", "b"]))
    def call_next(self, counter: str, key: str | None) -> None:
        before = {t.id: t.status for t in self.tickets()}
        try:
            called = visits.call_next(self.core, "DPS", counter, "p", key)
        except Refusal as refusal:
            assert refusal.code == "counter_busy"
            return
        if called is not None and before.get(called["id"]) == "called":
            # only an idempotent replay may return a ticket that is already called
            assert key is not None

    @precondition(lambda self: bool(self.place_keys))
    @rule(data=st.data(), action=st.sampled_from(sorted(ACTIONS)))
    def act(self, data: st.DataObject, action: str) -> None:
        ticket_id = data.draw(st.sampled_from(sorted(self.place_keys)))
        body = {"station": data.draw(st.sampled_from(list(CONFIG.default_office.stations))),
                "reason": "dokumen"}
        try:
            visits.act(self.core, ticket_id, action, "p", None, body)
        except Refusal as refusal:
            assert refusal.status in (409, 422)

    @rule(minutes=st.integers(1, 20))
    def time_passes(self, minutes: int) -> None:
        self.core.clock.advance(timedelta(minutes=minutes))

    @invariant()
    def one_ticket_per_counter_and_counter_per_ticket(self) -> None:
        busy = [t.counter for t in self.tickets() if t.status in ("called", "serving")]
        assert None not in busy
        assert len(busy) == len(set(busy))
        for ticket in self.tickets():
            if ticket.status not in ("called", "serving"):
                assert ticket.counter is None

    @invariant()
    def timeline_replays_to_the_current_state(self) -> None:
        with self.core.db.read() as session:
            for ticket in session.execute(select(Ticket)).scalars():
                entries = session.execute(
                    select(TimelineEntry).where(TimelineEntry.ticket_id == ticket.id)
                    .order_by(TimelineEntry.id)).scalars().all()
                assert entries[0].action == "checked_in"
                status = None
                for entry in entries:
                    expected = RESULT[entry.action]
                    status = expected or status
                    assert entry.status == status
                    assert entry.at >= entries[0].at
                assert status == ticket.status

    @invariant()
    def place_key_is_kept(self) -> None:
        for ticket in self.tickets():
            first = self.place_keys.get(ticket.id)
            if first is None:
                self.place_keys[ticket.id] = ticket.place_key
            else:
                assert ticket.place_key == first

    @invariant()
    def numbers_are_unique(self) -> None:
        numbers = [t.number for t in self.tickets()]
        assert len(numbers) == len(set(numbers))


VisitMachine.TestCase.settings = settings(
    max_examples=25, stateful_step_count=40, deadline=None,
    suppress_health_check=[HealthCheck.too_slow])
TestVisitMachine = VisitMachine.TestCase
