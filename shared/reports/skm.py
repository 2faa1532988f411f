"""Survei Kepuasan Masyarakat (SKM), PermenPAN-RB No. 14 Tahun 2017.

Nine elements U1..U9, each answered 1-4. Per element: mean = sum / respondents.
Index (IKM) = Σ mean × 1/9, computed exactly with `Fraction` (the regulation's rounded
weight 0.111 would give 99.9 for a perfect score). SKM value = index × 25 (25-100).
The grade is taken on the value as published (rounded half up to two decimals):
A "Sangat Baik" 88.31-100.00, B "Baik" 76.61-88.30, C "Kurang Baik" 65.00-76.60,
D "Tidak Baik" 25.00-64.99.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from shared import lifecycle
from shared.clock import FIRST_DAY, LAST_DAY, local_to_utc, to_local
from shared.core import Core
from shared.errors import Refusal
from shared.models import Ticket
from shared.reports.models import ELEMENT_COLUMNS, SurveyResponse

WEIGHT = Fraction(1, 9)
SCALE = 25


@dataclass(frozen=True)
class Element:
    code: str
    name_id: str
    name_en: str
    question_id: str
    question_en: str
    choices_id: tuple[str, str, str, str]
    choices_en: tuple[str, str, str, str]


ELEMENTS: tuple[Element, ...] = (
    Element("U1", "Persyaratan", "Requirements",
            "Bagaimana pendapat Saudara tentang kesesuaian persyaratan pelayanan dengan "
            "jenis pelayanannya?",
            "How well do the service requirements fit the kind of service?",
            ("Tidak sesuai", "Kurang sesuai", "Sesuai", "Sangat sesuai"),
            ("Not suitable", "Less suitable", "Suitable", "Very suitable")),
    Element("U2", "Sistem, mekanisme, dan prosedur", "Procedure",
            "Bagaimana pemahaman Saudara tentang kemudahan prosedur pelayanan di unit ini?",
            "How easy was the service procedure at this office?",
            ("Tidak mudah", "Kurang mudah", "Mudah", "Sangat mudah"),
            ("Not easy", "Less easy", "Easy", "Very easy")),
    Element("U3", "Waktu penyelesaian", "Completion time",
            "Bagaimana pendapat Saudara tentang kecepatan waktu dalam memberikan pelayanan?",
            "How fast was the service?",
            ("Tidak cepat", "Kurang cepat", "Cepat", "Sangat cepat"),
            ("Not fast", "Less fast", "Fast", "Very fast")),
    Element("U4", "Biaya/tarif", "Cost/fee",
            "Bagaimana pendapat Saudara tentang kewajaran biaya/tarif dalam pelayanan?",
            "How fair were the costs or fees of the service?",
            ("Sangat mahal", "Cukup mahal", "Murah", "Gratis"),
            ("Very expensive", "Rather expensive", "Cheap", "Free")),
    Element("U5", "Produk spesifikasi jenis pelayanan", "Product specification",
            "Bagaimana pendapat Saudara tentang kesesuaian produk pelayanan antara yang "
            "tercantum dalam standar pelayanan dengan hasil yang diberikan?",
            "How well does what you received match the published service standard?",
            ("Tidak sesuai", "Kurang sesuai", "Sesuai", "Sangat sesuai"),
            ("Not suitable", "Less suitable", "Suitable", "Very suitable")),
    Element("U6", "Kompetensi pelaksana", "Staff competence",
            "Bagaimana pendapat Saudara tentang kompetensi/kemampuan petugas dalam "
            "pelayanan?",
            "How competent were the officers?",
            ("Tidak kompeten", "Kurang kompeten", "Kompeten", "Sangat kompeten"),
            ("Not competent", "Less competent", "Competent", "Very competent")),
    Element("U7", "Perilaku pelaksana", "Staff behaviour",
            "Bagaimana pendapat Saudara tentang perilaku petugas dalam pelayanan terkait "
            "kesopanan dan keramahan?",
            "How polite and friendly were the officers?",
            ("Tidak sopan dan ramah", "Kurang sopan dan ramah", "Sopan dan ramah",
             "Sangat sopan dan ramah"),
            ("Not polite and friendly", "Less polite and friendly", "Polite and friendly",
             "Very polite and friendly")),
    Element("U8", "Sarana dan prasarana", "Facilities",
            "Bagaimana pendapat Saudara tentang kualitas sarana dan prasarana?",
            "How good were the facilities?",
            ("Buruk", "Cukup", "Baik", "Sangat baik"),
            ("Poor", "Fair", "Good", "Very good")),
    Element("U9", "Penanganan pengaduan, saran dan masukan", "Handling of complaints",
            "Bagaimana pendapat Saudara tentang penanganan pengaduan pengguna layanan?",
            "How are complaints from service users handled?",
            ("Tidak ada", "Ada tetapi tidak berfungsi", "Berfungsi kurang maksimal",
             "Dikelola dengan baik"),
            ("Not available", "Available but not working", "Working, not at its best",
             "Well managed")),
)

# (grade, lowest published value, kinerja in Indonesian, in English), best first.
GRADES: tuple[tuple[str, Decimal, str, str], ...] = (
    ("A", Decimal("88.31"), "Sangat Baik", "Very good"),
    ("B", Decimal("76.61"), "Baik", "Good"),
    ("C", Decimal("65.00"), "Kurang Baik", "Poor"),
    ("D", Decimal("25.00"), "Tidak Baik", "Very poor"),
)


def to_decimal(value: Fraction | Decimal | int | float | str, places: int) -> Decimal:
    """Round half up to `places` decimals, exactly for a Fraction."""
    quantum = Decimal(1).scaleb(-places)
    if isinstance(value, Fraction):
        scaled = value * 10 ** places
        whole, rest = divmod(scaled.numerator, scaled.denominator)
        if 2 * rest >= scaled.denominator:
            whole += 1
        return (Decimal(whole).scaleb(-places)).quantize(quantum)
    return Decimal(str(value)).quantize(quantum, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Grade:
    grade: str
    kinerja_id: str
    kinerja_en: str

    @property
    def label(self) -> str:
        return f"{self.grade} — {self.kinerja_id}"


def grade(value: Fraction | Decimal | int | float | str) -> Grade:
    """The mutu (A-D) and kinerja of an SKM value on the 25-100 scale."""
    published = to_decimal(value, 2)
    if not Decimal(25) <= published <= Decimal(100):
        raise ValueError(f"an SKM value lies between 25 and 100, not {published}")
    for letter, lowest, kinerja_id, kinerja_en in GRADES:
        if published >= lowest:
            return Grade(letter, kinerja_id, kinerja_en)
    raise AssertionError("unreachable: the last grade starts at 25")


@dataclass(frozen=True)
class SkmResult:
    respondents: int
    means: tuple[Fraction, ...]       # per element, exact
    index: Fraction                   # 1-4
    value: Fraction                   # 25-100
    grade: Grade | None

    @property
    def weighted(self) -> tuple[Fraction, ...]:
        return tuple(mean * WEIGHT for mean in self.means)


def compute_skm(responses: Iterable[Sequence[int]]) -> SkmResult:
    """Exact per-element means, index, value and grade of a set of answers (9 scores each)."""
    totals = [0] * len(ELEMENTS)
    respondents = 0
    for scores in responses:
        if len(scores) != len(ELEMENTS):
            raise ValueError("every response has nine scores")
        for i, score in enumerate(scores):
            if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 4:
                raise ValueError("scores are whole numbers 1-4")
            totals[i] += score
        respondents += 1
    if respondents == 0:
        zero = Fraction(0)
        return SkmResult(0, tuple(zero for _ in ELEMENTS), zero, zero, None)
    means = tuple(Fraction(total, respondents) for total in totals)
    index = sum((mean * WEIGHT for mean in means), Fraction(0))
    value = index * SCALE
    return SkmResult(respondents, means, index, value, grade(value))


def skm_table(result: SkmResult) -> dict[str, Any]:
    """The table an office publishes, as JSON-ready data (decimals as strings)."""
    rows = []
    for element, mean, weighted in zip(ELEMENTS, result.means, result.weighted, strict=True):
        rows.append({
            "element": element.code, "name": {"id": element.name_id, "en": element.name_en},
            "mean": str(to_decimal(mean, 2)) if result.respondents else None,
            "weighted": str(to_decimal(weighted, 3)) if result.respondents else None,
            "mean_exact": f"{mean.numerator}/{mean.denominator}",
        })
    graded = result.grade
    return {
        "respondents": result.respondents,
        "elements": rows,
        "index": str(to_decimal(result.index, 4)) if result.respondents else None,
        "value": str(to_decimal(result.value, 2)) if result.respondents else None,
        "value_exact": f"{result.value.numerator}/{result.value.denominator}",
        "grade": graded.grade if graded else None,
        "kinerja": {"id": graded.kinerja_id, "en": graded.kinerja_en} if graded else None,
        "label": graded.label if graded else None,
    }


# --- periods -------------------------------------------------------------------------------
PERIOD_KINDS = ("month", "semester", "year")


def period_bounds(kind: str, year: int, number: int = 1) -> tuple[date, date, str]:
    """(first day, day after the last, label) of a month (1-12), semester (1-2) or year."""
    if kind == "year":
        return date(year, 1, 1), date(year + 1, 1, 1), f"{year}"
    if kind == "semester":
        if number not in (1, 2):
            raise ValueError("a semester is 1 or 2")
        first = date(year, 1 if number == 1 else 7, 1)
        after = date(year, 7, 1) if number == 1 else date(year + 1, 1, 1)
        return first, after, f"{year}-S{number}"
    if kind == "month":
        if not 1 <= number <= 12:
            raise ValueError("a month is 1-12")
        after = date(year + 1, 1, 1) if number == 12 else date(year, number + 1, 1)
        return date(year, number, 1), after, f"{year}-{number:02d}"
    raise ValueError(f"period kind is one of {', '.join(PERIOD_KINDS)}")


def parse_period(text: str) -> tuple[str, int, int]:
    """"2026" -> year; "2026-S1" -> semester; "2026-03" -> month."""
    text = text.strip().upper()
    try:
        if len(text) == 4:
            if not FIRST_DAY.year <= int(text) <= LAST_DAY.year:
                raise ValueError(text)
            return "year", int(text), 1
        year, _, rest = text.partition("-")
        if rest.startswith("S"):
            kind, number = "semester", int(rest[1:])
        else:
            kind, number = "month", int(rest)
        if not FIRST_DAY.year <= int(year) <= LAST_DAY.year:  # no overflow at the ends
            raise ValueError(year)
        period_bounds(kind, int(year), number)
        return kind, int(year), number
    except ValueError:
        raise ValueError("period is YYYY, YYYY-S1, YYYY-S2 or YYYY-MM") from None


def responses_between(core: Core, office_id: str, first: date, after: date
                      ) -> list[tuple[int, ...]]:
    """The scores answered on office-local days first <= day < after."""
    office = core.office(office_id)
    start = local_to_utc(first, datetime.min.time(), office.tz)
    end = local_to_utc(after, datetime.min.time(), office.tz)
    with core.db.read() as session:
        rows = session.execute(
            select(SurveyResponse).where(SurveyResponse.office_id == office.id,
                                         SurveyResponse.answered_at >= start,
                                         SurveyResponse.answered_at < end)
        ).scalars().all()
        return [row.scores() for row in rows]


def period_report(core: Core, office_id: str, kind: str, year: int, number: int = 1
                  ) -> dict[str, Any]:
    """The SKM table of one period, with its sub-periods (months or semesters)."""
    office = core.office(office_id)
    first, after, label = period_bounds(kind, year, number)
    table = skm_table(compute_skm(responses_between(core, office.id, first, after)))
    parts: list[dict[str, Any]] = []
    if kind == "year":
        subs = [("semester", year, s) for s in (1, 2)] + [("month", year, m)
                                                         for m in range(1, 13)]
    elif kind == "semester":
        subs = [("month", year, m) for m in range(1 if number == 1 else 7,
                                                  7 if number == 1 else 13)]
    else:
        subs = []
    for sub_kind, sub_year, sub_number in subs:
        sub_first, sub_after, sub_label = period_bounds(sub_kind, sub_year, sub_number)
        sub = skm_table(compute_skm(responses_between(core, office.id, sub_first, sub_after)))
        parts.append({"period": sub_label, "kind": sub_kind, "respondents": sub["respondents"],
                      "index": sub["index"], "value": sub["value"], "grade": sub["grade"],
                      "label": sub["label"]})
    table.update({"office": office.id, "office_name": office.name, "period": label,
                  "kind": kind, "from": first.isoformat(),
                  "to": date.fromordinal(after.toordinal() - 1).isoformat(), "parts": parts})
    return table


# --- answering -------------------------------------------------------------------------------
def parse_answers(body: Any) -> tuple[int, ...]:
    """Nine scores from {"u1": 4, ..., "u9": 3} or {"answers": [4, ..., 3]}; 422 otherwise."""
    invalid = Refusal(422, "invalid_answers",
                      "Please answer all nine questions with a score from 1 to 4.")
    if not isinstance(body, Mapping):
        raise invalid
    if "answers" in body:
        values = body["answers"]
        if not isinstance(values, list) or len(values) != len(ELEMENT_COLUMNS):
            raise invalid
    else:
        values = [body.get(column, body.get(column.upper())) for column in ELEMENT_COLUMNS]
    scores = []
    for value in values:
        if isinstance(value, str) and value.strip() in ("1", "2", "3", "4"):
            value = int(value.strip())
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 4:
            raise invalid
        scores.append(value)
    return tuple(scores)


def survey_ticket(core: Core, token: str) -> dict[str, Any]:
    """What the survey page needs to know about a ticket: may it answer, has it."""
    if not isinstance(token, str) or not 0 < len(token) <= 64:
        raise Refusal(404, "not_found", "No such ticket.")
    with core.db.read() as session:
        ticket = session.execute(
            select(Ticket).where(Ticket.public_token == token)
        ).scalar_one_or_none()
        if ticket is None:
            raise Refusal(404, "not_found", "No such ticket.")
        answered = session.execute(
            select(SurveyResponse.id).where(SurveyResponse.ticket_id == ticket.id)
        ).scalar_one_or_none() is not None
        return {"number": ticket.number, "office": ticket.office_id, "status": ticket.status,
                "answered": answered}


def answer(core: Core, token: str, body: Any) -> dict[str, Any]:
    """Store a ticket's one survey answer: only once the visit is done, only once."""
    state = survey_ticket(core, token)
    if state["status"] != lifecycle.DONE:
        raise Refusal(409, "not_done",
                      "The survey opens once your visit is complete.")
    if state["answered"]:
        raise Refusal(409, "already_answered", "This ticket has already answered the survey.")
    scores = parse_answers(body)
    now = core.now()
    try:
        with core.db.write() as session:
            ticket = session.execute(
                select(Ticket).where(Ticket.public_token == token)
            ).scalar_one()
            session.add(SurveyResponse(ticket_id=ticket.id, office_id=ticket.office_id,
                                       answered_at=now,
                                       **dict(zip(ELEMENT_COLUMNS, scores, strict=True))))
    except IntegrityError:
        raise Refusal(409, "already_answered",
                      "This ticket has already answered the survey.") from None
    office = core.office(state["office"])
    return {"answered_at": to_local(now, office.tz).isoformat(timespec="seconds"),
            "scores": dict(zip(ELEMENT_COLUMNS, scores, strict=True))}
