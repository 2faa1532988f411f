"""The print service: never blocking a check-in, status, failover, alerts, reprints."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from hardware.printing import (
    Capabilities,
    PaymentSlip,
    PrintJob,
    PrintService,
    TicketPrint,
    render_slip,
    render_ticket,
)
from hardware.printing.status import interpret
from tests.hardware import escpos_reader
from tests.hardware.fake_printer import FakeNetworkPrinter

Fake = Callable[[str], FakeNetworkPrinter]
Build = Callable[..., PrintService]
# Long enough that no background probe runs unless a test asks for one.
QUIET = {"probe_interval_seconds": 60.0}


def _net(printer_id: str, fake: FakeNetworkPrinter, **extra: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": printer_id,
        "url": fake.url,
        "profile": "TM-T88V",
        "width_mm": 80,
        "timeout_seconds": 0.4,
        "retries": 1,
    }
    entry.update(extra)
    return entry


def _wait_until(condition: Callable[[], bool], timeout: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


@pytest.mark.parametrize(
    "printer_byte,paper_byte,state",
    [
        (0x12, 0x12, "online"),
        (0x12, 0x1E, "paper_near_end"),
        (0x1A, 0x7E, "paper_out"),
        (0x12, 0x72, "paper_out"),
        (0x1A, 0x12, "offline"),
        (0x12, None, "online"),
        (None, None, "unknown"),
        (0xFF, 0x00, "unknown"),  # not status bytes at all: noise, not a fault
    ],
)
def test_printing_status_bytes(printer_byte: int | None, paper_byte: int | None,
                               state: str) -> None:
    assert interpret(printer_byte, paper_byte) == state


def test_printing_dummy_prints_and_reports(printer_service: Build,
                                           printer_ticket: TicketPrint) -> None:
    service = printer_service([{"id": "k", "url": "dummy://", "profile": "TM-T88V"}], **QUIET)
    done: list[PrintJob] = []
    service.on_job_done(done.append)
    job = service.submit("k", printer_ticket)
    assert job.wait(2) == "printed"
    assert job.printer_used == "k" and not job.used_backup and job.error is None
    assert service.job(job.id) is job
    expected = render_ticket(printer_ticket, Capabilities.for_printer("TM-T88V", 80))
    assert service.dummy_device("k").outputs == [expected]
    assert _wait_until(lambda: done == [job])
    assert job.to_dict()["status"] == "printed"
    health = service.health()["k"]
    assert health["status"] == "online" and not health["alert"] and health["jobs_failed"] == 0


def test_printing_slip_and_raw_bytes_go_through_the_same_service(
    printer_service: Build,
) -> None:
    service = printer_service([{"id": "c", "url": "dummy://", "profile": "TM-T88V"}], **QUIET)
    slip = PaymentSlip("Kantor Imigrasi", "B012", "Paspor Baru", "New passport", "24-11-2026")
    assert service.submit("c", slip, kind="slip").wait(2) == "printed"
    assert service.submit("c", b"\x1b@raw\n", kind="raw").wait(2) == "printed"
    caps = Capabilities.for_printer("TM-T88V", 80)
    assert service.dummy_device("c").outputs == [render_slip(slip, caps), b"\x1b@raw\n"]


def test_printing_unknown_printer_fails_without_raising(printer_service: Build,
                                                        printer_ticket: TicketPrint) -> None:
    service = printer_service([{"id": "k", "url": "dummy://"}], **QUIET)
    job = service.submit("nope", printer_ticket)
    assert job.status == "failed" and "unknown printer" in (job.error or "")
    service.close()
    late = service.submit("k", printer_ticket)
    assert late.status == "failed" and "stopped" in (late.error or "")


def test_printing_paper_out_mid_day_switches_to_backup_and_alerts(
    printer_fake: Fake, printer_service: Build, printer_ticket: TicketPrint
) -> None:
    main, spare = printer_fake("online"), printer_fake("online")
    service = printer_service(
        [
            _net("kiosk-1", main, backup="kiosk-1-backup"),
            # The backup is a 58 mm printer without native QR: the job is rendered for it.
            _net("kiosk-1-backup", spare, profile="POS-5890", width_mm=58),
        ],
        **QUIET,
    )
    alerts: list[dict[str, Any]] = []
    service.on_alert(alerts.append)

    morning = service.submit("kiosk-1", printer_ticket)
    assert morning.wait(3) == "printed" and morning.printer_used == "kiosk-1"
    assert escpos_reader.read(main.jobs[0]).qr_texts() == [printer_ticket.status_url]

    main.set_mode("paper_out")
    noon = service.submit("kiosk-1", printer_ticket)
    assert noon.wait(3) == "printed"
    assert noon.printer_used == "kiosk-1-backup" and noon.used_backup
    assert noon.attempts[0]["printer"] == "kiosk-1" and "paper out" in noon.attempts[0]["error"]
    assert len(main.jobs) == 1  # nothing was sent to a printer without paper
    on_backup = escpos_reader.read(spare.jobs[0])
    assert on_backup.rasters and on_backup.qr_texts() == [printer_ticket.status_url]
    assert "B012" in on_backup.texts

    health = service.health()
    assert health["kiosk-1"]["status"] == "paper_out"
    assert health["kiosk-1"]["alert"] is True
    assert health["kiosk-1"]["jobs_failed"] == 1
    assert health["kiosk-1-backup"]["alert"] is False
    # The alert's words reach staff through the health the supervisor view shows.
    assert health["kiosk-1"]["message"] == service.alerts()[0]["message"]
    assert health["kiosk-1-backup"]["message"] is None
    (alert,) = service.alerts()
    assert alert["printer_id"] == "kiosk-1" and alert["status"] == "paper_out"
    assert "habis" in alert["message"]["id"] and "kiosk-1-backup" in alert["message"]["id"]
    assert "out of paper" in alert["message"]["en"]
    assert [a["status"] for a in alerts] == ["paper_out"]

    # While the roll is out, tickets go straight to the backup without asking again.
    queries = main.status_queries
    after = service.submit("kiosk-1", printer_ticket)
    assert after.wait(3) == "printed" and after.printer_used == "kiosk-1-backup"
    assert after.attempts == [{"printer": "kiosk-1", "error": "skipped: paper_out"}]
    assert main.status_queries == queries


def test_printing_printer_comes_back_after_paper_is_replaced(
    printer_fake: Fake, printer_service: Build, printer_ticket: TicketPrint
) -> None:
    main, spare = printer_fake("paper_out"), printer_fake("online")
    service = printer_service(
        [_net("a", main, backup="b"), _net("b", spare)], probe_interval_seconds=0.1
    )
    assert service.submit("a", printer_ticket).wait(3) == "printed"
    assert service.health()["a"]["status"] == "paper_out"
    main.set_mode("online")
    assert _wait_until(lambda: service.health()["a"]["status"] == "online")
    assert service.alerts() == []
    job = service.submit("a", printer_ticket)
    assert job.wait(3) == "printed" and job.printer_used == "a"


def test_printing_silent_printer_times_out_without_holding_anyone_up(
    printer_fake: Fake, printer_service: Build, printer_ticket: TicketPrint
) -> None:
    silent, other = printer_fake("silent"), printer_fake("online")
    service = printer_service([_net("hung", silent), _net("other", other)], **QUIET)

    started = time.monotonic()
    stuck = service.submit("hung", printer_ticket)
    queued_first = time.monotonic() - started
    second = service.submit("other", printer_ticket)
    assert queued_first < 0.05 and time.monotonic() - started < 0.1  # submit never waits

    assert second.wait(2) == "printed"
    assert not stuck.done  # still trying the hung printer while the other one printed
    assert stuck.wait(5) == "failed"
    assert time.monotonic() - started < 4
    assert stuck.error and "hung" in stuck.error and "timed out" in stuck.error
    assert stuck.attempts == [{"printer": "hung", "error": stuck.attempts[0]["error"]}]
    health = service.health()["hung"]
    assert health["status"] == "offline" and health["alert"] and health["jobs_failed"] == 1
    (alert,) = service.alerts()
    assert "tidak merespons" in alert["message"]["id"]
    assert "photograph" in alert["message"]["en"]  # no backup: the kiosk screen takes over

    # Nothing lost: the same ticket reprinted elsewhere.
    reprint = service.submit("other", printer_ticket)
    assert reprint.wait(2) == "printed"
    assert other.jobs[-1] == other.jobs[0]


def test_printing_silent_printer_fails_over_to_its_backup(
    printer_fake: Fake, printer_service: Build, printer_ticket: TicketPrint
) -> None:
    silent = printer_fake("silent")
    service = printer_service(
        [_net("hung", silent, retries=0, backup="spare"), {"id": "spare", "url": "dummy://"}],
        **QUIET,
    )
    job = service.submit("hung", printer_ticket)
    assert job.wait(3) == "printed"
    assert job.printer_used == "spare" and job.used_backup
    assert len(service.dummy_device("spare").outputs) == 1


def test_printing_paper_near_end_prints_and_warns(
    printer_fake: Fake, printer_service: Build, printer_ticket: TicketPrint
) -> None:
    low = printer_fake("paper_near_end")
    service = printer_service([_net("low", low, backup="spare"),
                               {"id": "spare", "url": "dummy://"}], **QUIET)
    job = service.submit("low", printer_ticket)
    assert job.wait(3) == "printed" and job.printer_used == "low"
    assert len(low.jobs) == 1
    (alert,) = service.alerts()
    assert alert["status"] == "paper_near_end" and "hampir habis" in alert["message"]["id"]


def test_printing_printer_configured_without_status_is_never_asked(
    printer_fake: Fake, printer_service: Build, printer_ticket: TicketPrint
) -> None:
    mute = printer_fake("no_status")
    service = printer_service([_net("mute", mute, status=False)], **QUIET)
    assert service.submit("mute", printer_ticket).wait(3) == "printed"
    assert service.submit("mute", printer_ticket).wait(3) == "printed"
    assert mute.status_queries == 0  # the profile says it cannot answer: never asked
    assert len(mute.jobs) == 2
    assert service.health()["mute"]["alert"] is False


def test_printing_a_slow_printer_given_a_long_timeout_is_waited_for(
    printer_fake: Fake, printer_service: Build, printer_ticket: TicketPrint
) -> None:
    """A printer that answers its status after 0.8 s (a busy clone, Wi-Fi), configured with
    timeout_seconds = 10, prints: the wait for the answer grows with the timeout. With
    the default 3 s it stays short, so a hung printer still fails over quickly."""
    slow = printer_fake("online")
    slow.answer_delay = 0.8
    service = printer_service([_net("slow", slow, timeout_seconds=10)], **QUIET)
    job = service.submit("slow", printer_ticket)
    assert job.wait(30) == "printed", job.error
    assert len(slow.jobs) == 1 and service.health()["slow"]["alert"] is False


def test_printing_unanswered_status_is_a_fault_not_a_capability(
    printer_fake: Fake, printer_service: Build, printer_ticket: TicketPrint
) -> None:
    """A printer that accepts the connection and never answers: retried, then the backup
    prints (and cuts) the ticket, and staff get an alert; later tickets are not lost."""
    hung, spare = printer_fake("no_status"), printer_fake("online")
    service = printer_service(
        [
            _net("hung", hung, retries=1, backup="spare"),
            _net("spare", spare, profile="POS-5890", width_mm=58, cutter=True),
        ],
        **QUIET,
    )
    alerts: list[dict[str, Any]] = []
    service.on_alert(alerts.append)
    first = service.submit("hung", printer_ticket)
    assert first.wait(5) == "printed"
    assert first.printer_used == "spare" and first.used_backup
    assert hung.status_queries == 2  # asked once per attempt: the first try and one retry
    assert hung.jobs == []  # nothing was sent to a printer that might swallow it
    assert [attempt["printer"] for attempt in first.attempts] == ["hung"]
    assert "no answer to the status query" in first.attempts[0]["error"]
    assert [alert["printer_id"] for alert in alerts] == ["hung"]
    assert "cadangan spare" in alerts[0]["message"]["id"]
    health = service.health()["hung"]
    assert health["status"] == "offline" and health["alert"] is True
    (ticket,) = spare.jobs
    assert escpos_reader.read(ticket).cuts == 1  # the backup ticket is cut
    assert ticket.endswith(b"\x1dV\x00")

    second = service.submit("hung", printer_ticket)
    assert second.wait(5) == "printed" and second.printer_used == "spare"
    assert len(spare.jobs) == 2
    assert service.health()["hung"]["jobs_printed"] == 0


def test_printing_unanswering_printer_is_not_brought_back_by_the_probe(
    printer_fake: Fake, printer_service: Build, printer_ticket: TicketPrint
) -> None:
    hung = printer_fake("no_status")
    service = printer_service(
        [_net("hung", hung, retries=0, backup="spare"), {"id": "spare", "url": "dummy://"}],
        probe_interval_seconds=0.05,
    )
    assert service.submit("hung", printer_ticket).wait(5) == "printed"
    asked = hung.status_queries
    assert _wait_until(lambda: hung.status_queries >= asked + 2)  # probed again and again
    assert service.health()["hung"]["status"] == "offline"
    hung.set_mode("online")  # it answers again: the probe brings it back
    assert _wait_until(lambda: service.health()["hung"]["status"] == "online")
    job = service.submit("hung", printer_ticket)
    assert job.wait(5) == "printed" and job.printer_used == "hung"


def test_printing_everything_down_fails_with_every_reason(
    printer_fake: Fake, printer_service: Build, printer_ticket: TicketPrint
) -> None:
    empty = printer_fake("paper_out")
    service = printer_service(
        [_net("a", empty, backup="b"), {"id": "b", "url": "dummy://?status=offline"}], **QUIET
    )
    done: list[PrintJob] = []
    service.on_job_done(lambda job: (_ for _ in ()).throw(RuntimeError("listener bug")))
    service.on_job_done(done.append)
    job = service.submit("a", printer_ticket)
    assert job.wait(3) == "failed"
    assert job.printer_used is None
    assert [attempt["printer"] for attempt in job.attempts] == ["a", "b"]
    assert "a: kertas habis / paper out" in (job.error or "")
    assert "b: printer offline" in (job.error or "")
    assert _wait_until(lambda: done == [job])  # a failing listener does not stop the others
    # The worker survived the listener's exception.
    service.dummy_device("b").status = "online"
    retry = service.submit("b", printer_ticket)
    assert retry.wait(3) == "printed"


def test_printing_a_printer_known_down_gets_one_try_not_its_retries(
    printer_fake: Fake, printer_service: Build, printer_ticket: TicketPrint
) -> None:
    """Every printer down, no healthy backup: each ticket waited out all the retries'
    timeouts again (about 20 s with the defaults) before the kiosk could say it did not
    print. Once the printer is known to be down, one try tells whether it is back."""
    hung = printer_fake("no_status")
    service = printer_service([_net("hung", hung, retries=2)], **QUIET)
    first = service.submit("hung", printer_ticket)
    assert first.wait(10) == "failed"
    assert hung.status_queries == 3  # the first try and two retries
    assert service.health()["hung"]["status"] == "offline"
    second = service.submit("hung", printer_ticket)
    assert second.wait(10) == "failed"
    assert hung.status_queries == 4  # one try: one timeout to wait out, not three
    hung.set_mode("online")  # back: that one try prints
    third = service.submit("hung", printer_ticket)
    assert third.wait(5) == "printed" and third.printer_used == "hung"
