"""The live configuration: seeded from the file, changed in the database, validated by the
file's loader, versioned, audited, reloaded by other processes, exported and re-imported."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from sqlalchemy import select

from shared import live_config, visits
from shared.config import Config, ConfigError
from shared.core import Core
from shared.errors import Refusal
from shared.events import EventBus
from shared.models import ConfigDocument
from shared.reports.models import AuditEntry
from tests.conftest import ROOT, booking_row, make_core

SCOPE = live_config.office_scope("DPS")


def test_empty_database_is_seeded_from_the_file(core: Core) -> None:
    with core.db.read() as session:
        scopes = {row.scope: row.version for row in session.execute(
            select(ConfigDocument)).scalars()}
        seeds = session.execute(select(AuditEntry).where(
            AuditEntry.action == "config.seed")).scalars().all()
    assert scopes == {"global": 1, SCOPE: 1}
    assert {s.office_id for s in seeds} == {None, "DPS"}
    assert core.config.offices["DPS"].counters["1"].name == "Loket 1"


def test_the_database_wins_after_seeding(core: Core, config: Config, tmp_path: Path) -> None:
    live_config.update(core, SCOPE, lambda d: d.update(opens="07:30"), "kepala", "config.update")
    # A restart with the same file: the database's opening hour stays.
    again = make_core(config, str(core.db.engine.url))
    assert again.config.offices["DPS"].opens.strftime("%H:%M") == "07:30"
    again.db.engine.dispose()


def test_invalid_change_names_the_key_and_changes_nothing(core: Core) -> None:
    def bad(document: dict[str, object]) -> None:
        document["counters"][0]["stations"] = ["nowhere"]  # type: ignore[index]

    with pytest.raises(Refusal) as caught:
        live_config.update(core, SCOPE, bad, "kepala", "config.update")
    body = caught.value.body()["error"]
    assert caught.value.status == 422 and body["code"] == "invalid_config"
    assert body["field"] == "counters[0].stations"
    assert body["reason"]["en"] == "names unknown station 'nowhere'"
    assert body["reason"]["id"] != body["reason"]["en"]
    assert live_config.document(core, SCOPE)[0] == 1
    with core.db.read() as session:
        assert not session.execute(select(AuditEntry).where(
            AuditEntry.action == "config.update")).first()


def test_stale_version_is_refused_with_the_current_one(core: Core) -> None:
    live_config.update(core, SCOPE, lambda d: d.update(closes="16:30"), "a", "config.update", 1)
    with pytest.raises(Refusal) as caught:
        live_config.update(core, SCOPE, lambda d: d.update(closes="17:00"), "b", "config.update",
                           1)
    assert caught.value.status == 409
    assert caught.value.body()["error"]["current_version"] == 2
    assert core.config.offices["DPS"].closes.strftime("%H:%M") == "16:30"


def test_change_is_audited_old_to_new(core: Core) -> None:
    stored = live_config.update(core, SCOPE, lambda d: d.update(info=["Tutup pukul 12"]),
                                "kepala", "info.update")
    assert stored.version == 2
    with core.db.read() as session:
        entry = session.execute(select(AuditEntry).where(
            AuditEntry.action == "info.update")).scalar_one()
    assert entry.staff == "kepala" and entry.office_id == "DPS"
    change = entry.detail["changes"][0]  # type: ignore[index]
    assert change["path"] == "info" and change["new"] == ["Tutup pukul 12"]
    assert len(change["old"]) == 3


def test_no_change_stores_nothing(core: Core) -> None:
    stored = live_config.update(core, SCOPE, lambda d: None, "kepala", "config.update")
    assert not stored.changed and stored.version == 1


def test_another_process_reloads_on_the_event(core: Core, config: Config) -> None:
    """Two cores on one database, joined by a bus: B applies A's change before its
    subscribers (the boards) see the event."""
    other = make_core(config, str(core.db.engine.url))
    seen: list[tuple[str, str]] = []
    other.bus.subscribe(lambda e: seen.append((e.kind, other.config.offices["DPS"].info[0])))
    core.bus.subscribe(other.bus.publish)  # what Redis does between processes
    live_config.update(core, SCOPE, lambda d: d.update(info=["Baru / New"]), "kepala",
                       "info.update")
    assert core.bus.wait_idle() and other.bus.wait_idle()
    assert seen == [("config_changed", "Baru / New")]
    other.bus.close()
    other.db.engine.dispose()


def test_tickets_keep_the_flow_they_were_issued_with(core: Core) -> None:
    from shared.bookings import import_rows

    import_rows(core, enumerate([booking_row("FLOW-00001")], start=1))
    ticket = visits.check_in(core, "DPS", "FLOW-00001", "kiosk-1").ticket

    def shorter(document: dict[str, object]) -> None:
        for service in document["services"]:  # type: ignore[attr-defined]
            service["flow"] = ["berkas", "foto"]

    live_config.update(core, SCOPE, shorter, "kepala", "config.update")
    visits.call_next(core, "DPS", "1", "petugas")
    moved = visits.act(core, ticket["id"], "finish", "petugas", None)
    assert moved["station"] == "wawancara"  # the old flow, not the new one


def test_closed_counter_calls_nobody_and_closed_day_refuses(core: Core) -> None:
    def close(document: dict[str, object]) -> None:
        document["counters"][0]["open"] = False  # type: ignore[index]
        document["closed_days"] = ["2026-12-01"]

    live_config.update(core, SCOPE, close, "kepala", "config.update")
    with pytest.raises(Refusal) as caught:
        visits.call_next(core, "DPS", "1", "petugas")
    assert caught.value.code == "counter_closed"
    with pytest.raises(Refusal) as caught:
        visits.walk_in(core, "DPS", "paspor-baru", None, "petugas")
    assert caught.value.code == "closed"


def test_office_policy_overrides_the_global_one(core: Core) -> None:
    live_config.update(core, SCOPE, lambda d: d.update(policy={"early_checkin_minutes": 10}),
                       "kepala", "config.update")
    assert core.config.policy_for("DPS").early_checkin_minutes == 10
    assert core.config.policy.early_checkin_minutes == 120


def test_export_then_import_is_idempotent(core: Core, tmp_path: Path) -> None:
    live_config.update(core, SCOPE, lambda d: d.update(closed_days=["2026-12-25"]), "kepala",
                       "config.update")
    text = live_config.export_toml(core)
    data = tomllib.loads(text)
    assert data["offices"][0]["closed_days"] == ["2026-12-25"]
    assert "security" not in data and "printers" not in data
    assert live_config.import_toml(core, text, "cli") == {}
    changed = live_config.import_toml(core, text.replace("2026-12-25", "2026-12-26"), "cli")
    assert changed == {SCOPE: 3}
    assert live_config.import_toml(core, text.replace("2026-12-25", "2026-12-26"), "cli") == {}


def test_import_of_a_bad_file_names_key_and_line(core: Core) -> None:
    text = live_config.export_toml(core).replace('opens = "08:00"', 'opens = "8 pagi"')
    with pytest.raises(ConfigError) as caught:
        live_config.import_toml(core, text, "cli")
    assert caught.value.key == "offices[0].opens" and caught.value.line


def test_the_shipped_config_round_trips(config: Config) -> None:
    data = tomllib.loads((ROOT / "config.toml").read_text())
    documents = live_config.documents_of(data)
    rebuilt = live_config.build_config(config, documents)
    assert rebuilt.offices == config.offices and rebuilt.policy == config.policy


def test_bus_subscriber_is_first(core: Core) -> None:
    bus = EventBus()
    order: list[str] = []
    bus.subscribe(lambda e: order.append("board"))
    bus.subscribe(lambda e: order.append("config"), first=True)
    from shared.events import TicketEvent

    bus.publish(TicketEvent("DPS", 1, "config_changed", {}))
    assert bus.wait_idle()
    assert order == ["config", "board"]
    bus.close()


def test_quota_per_slot_refuses_new_bookings_over_it(core: Core) -> None:
    from shared.bookings import import_rows

    live_config.update(core, SCOPE, lambda d: d.update(quota_per_slot=2), "kepala",
                       "config.update")
    summary = import_rows(core, enumerate([
        booking_row("QUOTA-0001"), booking_row("QUOTA-0002"), booking_row("QUOTA-0003"),
        booking_row("QUOTA-0004", "10:00", "11:00")], start=1))
    assert (summary.created, summary.refused_count) == (3, 1)
    assert summary.refused[0]["line"] == 3
    assert "kuota" in summary.refused[0]["reason"]["id"]
    # A booking already known may be updated; a new one in a full slot stays refused.
    again = import_rows(core, enumerate([booking_row("QUOTA-0001", name="Baru"),
                                         booking_row("QUOTA-0005")], start=1))
    assert (again.updated, again.refused_count) == (1, 1)


def test_a_process_that_missed_the_event_polls_the_versions(core: Core, config: Config) -> None:
    other = make_core(config, str(core.db.engine.url))  # no bus between the two
    live_config.update(core, SCOPE, lambda d: d.update(info=["Dari basis data"]), "kepala",
                       "info.update")
    assert other.config.offices["DPS"].info != ("Dari basis data",)
    assert live_config.poll(other, every=0)
    assert other.config.offices["DPS"].info == ("Dari basis data",)
    assert not live_config.poll(other, every=0)  # nothing new
    other.bus.close()
    other.db.engine.dispose()


def test_a_numbering_that_breaks_check_in_is_refused(core: Core) -> None:
    """slot_minutes = 0 was stored, and every booked check-in then divided by zero (503)."""
    from shared.bookings import import_rows

    import_rows(core, enumerate([booking_row("SLOT-00001")], start=1))
    for bad, key in (({"slot_minutes": 0}, "numbering.slot_minutes"),
                     ({"slot_letters": ""}, "numbering.slot_letters"),
                     ({"walkin_letter": "w"}, "numbering.walkin_letter")):
        with pytest.raises(Refusal) as caught:
            live_config.update(core, live_config.GLOBAL,
                               lambda d, bad=bad: d["numbering"].update(bad), "kepala",
                               "config.update")
        assert caught.value.status == 422
        assert caught.value.body()["error"]["field"] == key
    assert live_config.document(core, live_config.GLOBAL)[0] == 1
    assert visits.check_in(core, "DPS", "SLOT-00001", "kiosk-1").ticket["number"] == "B001"


def test_a_service_defined_twice_is_refused_not_the_last_one_kept(core: Core) -> None:
    """A copy of "paspor-baru" with another flow was stored, and its check-ins then went
    to the copy's first station."""
    from shared.bookings import import_rows

    import_rows(core, enumerate([booking_row("DUP-00001")], start=1))

    def add_copies(document: dict[str, list[dict[str, object]]]) -> None:
        document["services"].append(dict(document["services"][0], flow=["foto"]))

    with pytest.raises(Refusal) as caught:
        live_config.update(core, SCOPE, add_copies, "kepala", "config.update")
    assert caught.value.body()["error"]["field"] == "services[3].id"

    def add_station(document: dict[str, list[dict[str, object]]]) -> None:
        document["stations"].append(dict(document["stations"][0], name="Berkas 2"))

    with pytest.raises(Refusal) as caught:
        live_config.update(core, SCOPE, add_station, "kepala", "config.update")
    assert caught.value.body()["error"]["field"] == "stations[4].id"
    assert live_config.document(core, SCOPE)[0] == 1
    assert visits.check_in(core, "DPS", "DUP-00001", "kiosk-1").ticket["station"] == "berkas"


def test_office_hours_out_of_order_are_refused(core: Core) -> None:
    """last_checkin 17:00 with closes 16:00 was stored: a walk-in got a ticket after closing."""
    for bad, field in (({"last_checkin": "17:00"}, "last_checkin"),
                       ({"opens": "15:00", "closes": "09:00"}, "closes"),
                       ({"opens": "17:00", "last_checkin": "12:00", "closes": "10:00"}, "closes")):
        with pytest.raises(Refusal) as caught:
            live_config.update(core, SCOPE, lambda d, bad=bad: d.update(bad), "kepala",
                               "config.update")
        assert caught.value.status == 422
        assert caught.value.body()["error"]["field"] == field
    assert live_config.document(core, SCOPE)[0] == 1
    assert core.config.offices["DPS"].last_checkin.strftime("%H:%M") == "15:00"


def test_import_refuses_a_table_it_does_not_know(core: Core) -> None:
    """`[polcy]` or `[[ofices]]` in an imported file was skipped and the import reported
    "nothing changed"; config.toml itself refuses them. Refused with the key and line."""
    for text, key, line in (("[polcy]\nlate_grace_minutes = 5\n", "polcy", 1),
                            ("[policy]\nlate_grace_minutes = 5\n\n[[ofices]]\nid = 'DPS'\n",
                             "ofices", 4)):
        with pytest.raises(ConfigError) as caught:
            live_config.import_toml(core, text, "cli")
        assert (caught.value.key, caught.value.line) == (key, line)
        assert "unknown key" in caught.value.message
    assert live_config.versions(core) == {"global": 1, SCOPE: 1}
    # The installation's own tables ([server], [security], [[printers]], ...) are known.
    assert live_config.import_toml(core, (ROOT / "config.toml").read_text(), "cli") == {}
