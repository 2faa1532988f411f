"""When may a booked applicant check in, and where do they queue? Pure rules.

Used by the kiosk check-in and by the simulator, so both refuse, accept and demote alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class CheckinDecision:
    accepted: bool
    refusal: str | None = None          # too_early | too_late
    retry_at: datetime | None = None    # for too_early: the first moment a scan is accepted
    demoted: bool = False
    place_key: datetime | None = None   # where the ticket queues (slot start or arrival)


def decide_checkin(
    slot_start: datetime,
    slot_end: datetime,
    now: datetime,
    early_checkin_minutes: int,
    late_grace_minutes: int,
    late_policy: str,
) -> CheckinDecision:
    """Apply the early/late rules (docs/api.md section 10, "Check-in window") to one scan
    at `now` (all in one zone)."""
    opens_at = slot_start - timedelta(minutes=early_checkin_minutes)
    if now < opens_at:
        return CheckinDecision(False, "too_early", retry_at=opens_at)
    if now > slot_end + timedelta(minutes=late_grace_minutes):
        if late_policy == "refuse":
            return CheckinDecision(False, "too_late")
        return CheckinDecision(True, demoted=True, place_key=now)
    return CheckinDecision(True, place_key=slot_start)
