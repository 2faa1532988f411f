"""The spoken call, as a list of clip tokens and the sentence shown on the board.

Pure: no files, no Flask. A token names one recorded clip: `chime`, `id/<word>` or
`en/<word>` (the file `<token>.wav` under the audio folder). Every token this module can
produce is listed in `VOCABULARY`, with the text the placeholder voice speaks for it, so the
clip generator (scripts/make_clips.py) and the tests share one list.

    >>> a = build_announcement("B012", "3")
    >>> a.text_id
    'Nomor antrean B012, silakan menuju loket 3.'
    >>> a.tokens[:6]
    ('chime', 'id/nomor-antrian', 'id/letter-b', 'id/nol', 'id/satu', 'id/dua')

Numbers: in "digits" mode every digit is a word ("B nol satu dua"); in "words" mode a run
of up to three digits is read as an Indonesian number ("B dua belas"). English, when on,
always follows the Indonesian sentence and reads digits one by one ("Number B 0 1 2").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from display.announce.settings import AnnounceSettings, NumberMode

CHIME = "chime"

INDONESIAN_DIGITS = (
    "nol", "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan", "sembilan",
)
ENGLISH_DIGITS = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
)
# How an Indonesian reads the letters of the alphabet aloud.
INDONESIAN_LETTERS = {
    "A": "a", "B": "be", "C": "ce", "D": "de", "E": "e", "F": "ef", "G": "ge", "H": "ha",
    "I": "i", "J": "je", "K": "ka", "L": "el", "M": "em", "N": "en", "O": "o", "P": "pe",
    "Q": "ki", "R": "er", "S": "es", "T": "te", "U": "u", "V": "ve", "W": "we", "X": "eks",
    "Y": "ye", "Z": "zet",
}


@dataclass(frozen=True)
class Place:
    """A station's spoken name ("ruang wawancara") in both languages."""

    id_token: str
    en_token: str
    text_en: str


# Station `spoken` names with shipped clips. Another name is spoken from `id/<slug>` (an
# office records it into its clips_dir) and falls back to "counter" in English.
PLACES: dict[str, Place] = {
    "loket": Place("id/loket", "en/counter", "counter"),
    "ruang wawancara": Place("id/ruang-wawancara", "en/interview-room", "interview room"),
    "ruang sidik jari": Place("id/ruang-sidik-jari", "en/fingerprint-room", "fingerprint room"),
    "ruang foto": Place("id/ruang-foto", "en/photo-room", "photo room"),
}
DEFAULT_SPOKEN = "loket"  # a counter's own place: a desk in the hall
DEFAULT_EN_PLACE = PLACES[DEFAULT_SPOKEN]


def _vocabulary() -> dict[str, tuple[str, str]]:
    words: dict[str, tuple[str, str]] = {}
    for word in INDONESIAN_DIGITS + ("sepuluh", "sebelas", "belas", "puluh", "seratus", "ratus"):
        words[f"id/{word}"] = ("id", word)
    for letter, name in INDONESIAN_LETTERS.items():
        words[f"id/letter-{letter.lower()}"] = ("id", name)
    words["id/nomor-antrian"] = ("id", "nomor antrean")
    words["id/silakan-menuju"] = ("id", "silakan menuju")
    for spoken, place in PLACES.items():
        words[place.id_token] = ("id", spoken)
    for word in ENGLISH_DIGITS:
        words[f"en/{word}"] = ("en", word)
    for letter in INDONESIAN_LETTERS:
        words[f"en/letter-{letter.lower()}"] = ("en", letter)
    words["en/number"] = ("en", "number")
    words["en/please-go-to"] = ("en", "please go to")
    for place in PLACES.values():
        words[place.en_token] = ("en", place.text_en)
    return words


# token -> (voice, text the placeholder voice speaks); `chime` is synthesised, not spoken.
VOCABULARY: dict[str, tuple[str, str]] = _vocabulary()

_NUMBER_RE = re.compile(r"[A-Z0-9]{1,12}")
_COUNTER_RE = re.compile(r"[A-Za-z0-9_-]{1,16}")
_SPOKEN_RE = re.compile(r"[a-z0-9]+(?: [a-z0-9]+)*")
_LABEL_RE = re.compile(r"[A-Za-z0-9]{1,16}")


class PhraseError(ValueError):
    """A ticket number, counter id or spoken station name that cannot be spoken."""


def is_ticket_number(number: str) -> bool:
    """True for text the builder can speak as a ticket number: 1-12 letters and digits."""
    return _NUMBER_RE.fullmatch(number.strip().upper()) is not None


@dataclass(frozen=True)
class Announcement:
    """One call: the clips to play in order, and the sentence(s) the board shows."""

    tokens: tuple[str, ...]
    text_id: str
    text_en: str | None = None

    @property
    def text(self) -> str:
        """Indonesian first, English second, as one line."""
        return self.text_id if self.text_en is None else f"{self.text_id} / {self.text_en}"


def indonesian_number_words(value: int) -> list[str]:
    """Indonesian words for 0..999: 110 -> ["seratus", "sepuluh"], 12 -> ["dua", "belas"]."""
    if not 0 <= value <= 999:
        raise PhraseError(f"number out of range 0..999: {value}")
    if value == 0:
        return ["nol"]
    hundreds, rest = divmod(value, 100)
    words: list[str] = []
    if hundreds == 1:
        words.append("seratus")
    elif hundreds > 1:
        words += [INDONESIAN_DIGITS[hundreds], "ratus"]
    if rest == 0:
        return words
    tens, units = divmod(rest, 10)
    if rest < 10:
        words.append(INDONESIAN_DIGITS[units])
    elif rest == 10:
        words.append("sepuluh")
    elif rest == 11:
        words.append("sebelas")
    elif rest < 20:
        words += [INDONESIAN_DIGITS[units], "belas"]
    else:
        words += [INDONESIAN_DIGITS[tens], "puluh"]
        if units:
            words.append(INDONESIAN_DIGITS[units])
    return words


def _indonesian_digit_run(digits: str, numbers: NumberMode) -> list[str]:
    if numbers == "words" and len(digits) <= 3:
        return [f"id/{word}" for word in indonesian_number_words(int(digits))]
    return [f"id/{INDONESIAN_DIGITS[int(d)]}" for d in digits]


def _english_digit_run(digits: str) -> list[str]:
    return [f"en/{ENGLISH_DIGITS[int(d)]}" for d in digits]


def _spell(text: str, language: str, numbers: NumberMode) -> list[str]:
    """Tokens for letters-and-digits text such as a ticket number: letters one by one."""
    tokens: list[str] = []
    for run in re.findall(r"[A-Z]+|[0-9]+", text.upper()):
        if run.isdigit():
            tokens += (
                _indonesian_digit_run(run, numbers) if language == "id" else _english_digit_run(run)
            )
        else:
            tokens += [f"{language}/letter-{letter.lower()}" for letter in run]
    return tokens


def counter_label(counter_id: str) -> str:
    """What follows the station's spoken name: the digits of the counter id ("W2" -> "2",
    "07" -> "7"), or the id itself when it has no digits ("A" -> "A")."""
    digits = "".join(ch for ch in counter_id if ch.isdigit())
    if digits:
        return digits.lstrip("0") or "0"
    letters = "".join(ch for ch in counter_id if ch.isalpha()).upper()
    if not letters:
        raise PhraseError(f"counter id has neither digits nor letters: {counter_id!r}")
    return letters


def place_for(station_spoken: str) -> tuple[str, Place]:
    """The normalised spoken name and its tokens; unknown names get an `id/<slug>` clip
    ("Loket-Prioritas" -> "loket prioritas", token `id/loket-prioritas`)."""
    spoken = " ".join(re.sub(r"[^a-z0-9]+", " ", station_spoken.lower()).split())
    if not _SPOKEN_RE.fullmatch(spoken):
        raise PhraseError(f"station spoken name has no letters: {station_spoken!r}")
    known = PLACES.get(spoken)
    if known is not None:
        return spoken, known
    slug = spoken.replace(" ", "-")
    return spoken, Place(f"id/{slug}", DEFAULT_EN_PLACE.en_token, DEFAULT_EN_PLACE.text_en)


def build_announcement(
    number: str,
    counter_id: str,
    station_spoken: str = "loket",
    *,
    numbers: NumberMode = "digits",
    english: bool = True,
    chime: bool = True,
    label: str | None = None,
) -> Announcement:
    """The call "Nomor antrean B012, silakan menuju loket 3." as clip tokens and text.

    `number` is the ticket number (letters and digits, e.g. "B012"); `counter_id` a counter
    id from config.toml ("3", "W2"); `station_spoken` the station's `spoken` name ("loket",
    "ruang wawancara"). `label` is what names the counter after the place, when not the
    one `counter_label` makes of its id (1-16 letters and digits: "3A" where counters 3A
    and 3B share a place). Raises `PhraseError` for text that cannot be spoken.
    """
    if numbers not in ("digits", "words"):
        raise PhraseError(f"numbers must be 'digits' or 'words', got {numbers!r}")
    ticket = number.strip().upper()
    if not is_ticket_number(ticket):
        raise PhraseError(f"ticket number must be 1-12 letters and digits: {number!r}")
    if not _COUNTER_RE.fullmatch(counter_id):
        raise PhraseError(f"counter id must be 1-16 letters, digits, - or _: {counter_id!r}")
    if label is None:
        label = counter_label(counter_id)
    elif not _LABEL_RE.fullmatch(label):
        raise PhraseError(f"counter label must be 1-16 letters and digits: {label!r}")
    label = label.upper()
    spoken, place = place_for(station_spoken)

    tokens: list[str] = [CHIME] if chime else []
    tokens.append("id/nomor-antrian")
    tokens += _spell(ticket, "id", numbers)
    tokens.append("id/silakan-menuju")
    tokens.append(place.id_token)
    tokens += _spell(label, "id", numbers)
    text_id = f"Nomor antrean {ticket}, silakan menuju {spoken} {label}."

    text_en: str | None = None
    if english:
        tokens.append("en/number")
        tokens += _spell(ticket, "en", numbers)
        tokens.append("en/please-go-to")
        tokens.append(place.en_token)
        tokens += _spell(label, "en", numbers)
        text_en = f"Number {ticket}, please go to {place.text_en} {label}."

    return Announcement(tuple(tokens), text_id, text_en)


def announcement_for(
    number: str, counter_id: str, station_spoken: str, settings: AnnounceSettings,
    label: str | None = None,
) -> Announcement:
    """`build_announcement` with the office's `[announce]` settings."""
    return build_announcement(
        number, counter_id, station_spoken, numbers=settings.numbers, english=settings.english,
        label=label,
    )
