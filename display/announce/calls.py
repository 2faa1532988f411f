"""From a call (office, ticket number, counter, station) to what the board plays.

No Flask here: the `/display` namespace uses `call_announcement` to fill the `announce`
URLs of its `called` event, and the announce blueprint uses it for its WAV answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from display.announce.clips import announce_urls, clip_url_prefix
from display.announce.phrases import (
    DEFAULT_SPOKEN,
    Announcement,
    PhraseError,
    announcement_for,
    counter_label,
    is_ticket_number,
    place_for,
)
from display.announce.settings import AnnounceSettings, parse_announce
from shared.config import Config, Counter, Office


class CallError(ValueError):
    """A call that names something the configuration does not have.

    `field` is the offending input (office, counter, station, number); `message` holds the
    Indonesian and English texts for people.
    """

    def __init__(self, field: str, message_id: str, message_en: str) -> None:
        self.field = field
        self.message = {"id": message_id, "en": message_en}
        super().__init__(f"{field}: {message_en}")


@dataclass(frozen=True)
class CallAnnouncement:
    announcement: Announcement
    urls: tuple[str, ...]
    repeat: int


def settings_for(config: Config) -> AnnounceSettings:
    """The `[announce]` settings of a loaded config (a relative clips_dir is taken from the
    folder of the config file). Raises shared.config.ConfigError."""
    base = Path(config.source).resolve().parent if config.source else None
    return parse_announce(config.announce, base)


def counter_place(office: Office, counter: Counter) -> str:
    """Where a call sends the applicant, spoken: the place of the counter's stations
    ("ruang wawancara"); "loket" for a counter serving stations of several places (a
    priority counter that does every step at its own desk is not in the interview room).
    Raises PhraseError for a spoken name that cannot be spoken."""
    places = {place_for(office.stations[station].spoken)[0] for station in counter.stations
              if station in office.stations}
    return places.pop() if len(places) == 1 else DEFAULT_SPOKEN


def _spoken_id(office: Office, counter: Counter) -> tuple[str, str] | None:
    try:
        return counter_place(office, counter), counter_label(counter.id)
    except PhraseError:
        return None


#: spoken_counter's answers per office (as configured: a live change makes a new Office)
#: and counter. Working them out compares the counter with every other of the office,
#: a quarter of a millisecond at 40 counters, on every call.
_SPOKEN: dict[tuple[int, str], tuple[Office, tuple[str, str | None]]] = {}
_SPOKEN_KEEP = 1024


def spoken_counter(office: Office, counter: Counter) -> tuple[str, str | None]:
    """The spoken place of a counter and, when its short label ("W3" -> "3") would sound
    like another counter's at the same place ("3A" and "3B", or "3" and "W3" in one
    room), its whole id as the label ("3A"); None keeps the short label."""
    key = (id(office), counter.id)
    found = _SPOKEN.get(key)
    if found is not None and found[0] is office:
        return found[1]
    answer = _spoken_counter(office, counter)
    if len(_SPOKEN) >= _SPOKEN_KEEP:
        _SPOKEN.clear()
    _SPOKEN[key] = (office, answer)
    return answer


def _spoken_counter(office: Office, counter: Counter) -> tuple[str, str | None]:
    own = _spoken_id(office, counter)
    place = own[0] if own is not None else counter_place(office, counter)
    if own is not None and any(other.id != counter.id and _spoken_id(office, other) == own
                               for other in office.counters.values()):
        return place, "".join(ch for ch in counter.id if ch.isalnum())[:16].upper()
    return place, None


def call_announcement(
    config: Config,
    settings: AnnounceSettings,
    number: str,
    counter_id: str,
    station_id: str | None = None,
    office_id: str | None = None,
) -> CallAnnouncement:
    """Tokens, text and clip URLs for "number ... to counter ...".

    `office_id` defaults to the first office; `station_id` to the counter's first station
    and must be one the counter serves. Raises CallError.
    """
    office = config.offices.get(office_id) if office_id else config.default_office
    if office is None:
        raise CallError(
            "office", f"Kantor {office_id} tidak dikenal.", f"Unknown office {office_id}."
        )
    counter = office.counters.get(counter_id)
    if counter is None:
        raise CallError(
            "counter",
            f"Loket {counter_id} tidak ada di kantor {office.id}.",
            f"Counter {counter_id} does not exist at office {office.id}.",
        )
    station_id = station_id or counter.stations[0]
    if station_id not in counter.stations:
        raise CallError(
            "station",
            f"Loket {counter.id} tidak melayani {station_id}.",
            f"Counter {counter.id} does not serve {station_id}.",
        )
    if not is_ticket_number(number):
        raise CallError(
            "number",
            "Nomor antrean harus berupa 1-12 huruf dan angka, misalnya B012.",
            "The ticket number must be 1-12 letters and digits, for example B012.",
        )
    try:
        place, label = spoken_counter(office, counter)
        announcement = announcement_for(number, counter.id, place, settings, label)
    except PhraseError as exc:
        # The number is fine, so the configured counter id or spoken name is at fault.
        raise CallError(
            "counter",
            f"Panggilan ke loket {counter.id} tidak dapat diucapkan: {exc}",
            f"A call to counter {counter.id} cannot be spoken: {exc}",
        ) from None
    urls = announce_urls(announcement.tokens, clip_url_prefix(settings))
    return CallAnnouncement(announcement, tuple(urls), settings.repeat)
