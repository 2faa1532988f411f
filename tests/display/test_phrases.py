"""The phrase builder: Indonesian number words, digits mode, English, counters, stations."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from display.announce.phrases import (
    CHIME,
    VOCABULARY,
    Announcement,
    PhraseError,
    announcement_for,
    build_announcement,
    counter_label,
    indonesian_number_words,
    place_for,
)
from display.announce.settings import AnnounceSettings


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (0, "nol"),
        (1, "satu"),
        (5, "lima"),
        (9, "sembilan"),
        (10, "sepuluh"),
        (11, "sebelas"),
        (12, "dua belas"),
        (19, "sembilan belas"),
        (20, "dua puluh"),
        (21, "dua puluh satu"),
        (99, "sembilan puluh sembilan"),
        (100, "seratus"),
        (101, "seratus satu"),
        (110, "seratus sepuluh"),
        (111, "seratus sebelas"),
        (115, "seratus lima belas"),
        (123, "seratus dua puluh tiga"),
        (200, "dua ratus"),
        (210, "dua ratus sepuluh"),
        (211, "dua ratus sebelas"),
        (305, "tiga ratus lima"),
        (999, "sembilan ratus sembilan puluh sembilan"),
    ],
)
def test_indonesian_number_words(value: int, words: str) -> None:
    assert indonesian_number_words(value) == words.split()


@pytest.mark.parametrize("value", [-1, 1000])
def test_number_words_out_of_range(value: int) -> None:
    with pytest.raises(PhraseError):
        indonesian_number_words(value)


@given(st.integers(min_value=0, max_value=999))
def test_every_number_word_has_a_clip(value: int) -> None:
    for word in indonesian_number_words(value):
        assert f"id/{word}" in VOCABULARY


@given(st.integers(min_value=1, max_value=999))
def test_number_words_never_say_nol_or_satu_ratus(value: int) -> None:
    words = indonesian_number_words(value)
    assert "nol" not in words
    assert "ratus" not in words or words[words.index("ratus") - 1] != "satu"
    assert "puluh" not in words or words[words.index("puluh") - 1] != "satu"
    assert "belas" not in words or words[words.index("belas") - 1] not in ("satu", "nol")


def test_digits_mode_with_english() -> None:
    a = build_announcement("B012", "3")
    assert a.tokens == (
        CHIME,
        "id/nomor-antrian", "id/letter-b", "id/nol", "id/satu", "id/dua",
        "id/silakan-menuju", "id/loket", "id/tiga",
        "en/number", "en/letter-b", "en/zero", "en/one", "en/two",
        "en/please-go-to", "en/counter", "en/three",
    )
    assert a.text_id == "Nomor antrean B012, silakan menuju loket 3."
    assert a.text_en == "Number B012, please go to counter 3."
    assert a.text == f"{a.text_id} / {a.text_en}"


def test_words_mode_without_english() -> None:
    a = build_announcement("a123", "1", numbers="words", english=False)
    assert a.tokens == (
        CHIME, "id/nomor-antrian", "id/letter-a", "id/seratus", "id/dua", "id/puluh",
        "id/tiga", "id/silakan-menuju", "id/loket", "id/satu",
    )
    assert a.text_en is None
    assert a.text == "Nomor antrean A123, silakan menuju loket 1."


def test_words_mode_drops_leading_zeros_and_english_stays_digits() -> None:
    a = build_announcement("B012", "3", numbers="words")
    indonesian = a.tokens[: a.tokens.index("en/number")]
    assert indonesian[2:5] == ("id/letter-b", "id/dua", "id/belas")
    english = a.tokens[a.tokens.index("en/number"):]
    assert english[1:5] == ("en/letter-b", "en/zero", "en/one", "en/two")


def test_words_mode_zero_and_long_runs() -> None:
    assert build_announcement("X000", "1", numbers="words", english=False).tokens[3] == "id/nol"
    long_run = build_announcement("1234", "1", numbers="words", english=False).tokens
    assert long_run[2:6] == ("id/satu", "id/dua", "id/tiga", "id/empat")


def test_station_spoken_and_counter_digits() -> None:
    a = build_announcement("C007", "W2", "ruang wawancara")
    assert "id/ruang-wawancara" in a.tokens
    assert "en/interview-room" in a.tokens
    assert a.tokens[a.tokens.index("id/ruang-wawancara") + 1] == "id/dua"
    assert a.text_id == "Nomor antrean C007, silakan menuju ruang wawancara 2."
    assert a.text_en == "Number C007, please go to interview room 2."
    assert a.tokens[-1] == "en/two"


@pytest.mark.parametrize(
    ("spoken", "id_token", "en_token"),
    [
        ("loket", "id/loket", "en/counter"),
        ("ruang sidik jari", "id/ruang-sidik-jari", "en/fingerprint-room"),
        ("Ruang  Foto", "id/ruang-foto", "en/photo-room"),
        ("Loket-Prioritas", "id/loket-prioritas", "en/counter"),
    ],
)
def test_places(spoken: str, id_token: str, en_token: str) -> None:
    _, place = place_for(spoken)
    assert (place.id_token, place.en_token) == (id_token, en_token)


def test_unspeakable_station_name() -> None:
    with pytest.raises(PhraseError):
        build_announcement("B012", "3", "---")


@pytest.mark.parametrize(
    ("counter_id", "label"), [("3", "3"), ("W2", "2"), ("W12", "12"), ("07", "7"), ("A", "A")]
)
def test_counter_label(counter_id: str, label: str) -> None:
    assert counter_label(counter_id) == label


def test_counter_without_digits_is_spelled() -> None:
    a = build_announcement("B012", "ab", english=True)
    place = a.tokens.index("id/loket")
    assert a.tokens[place + 1 : place + 3] == ("id/letter-a", "id/letter-b")
    assert a.tokens[-2:] == ("en/letter-a", "en/letter-b")
    assert a.text_id.endswith("loket AB.")


def test_counter_number_follows_the_number_mode() -> None:
    words = build_announcement("B1", "W12", "ruang wawancara", numbers="words", english=False)
    assert words.tokens[-2:] == ("id/dua", "id/belas")
    digits = build_announcement("B1", "W12", "ruang wawancara", english=False)
    assert digits.tokens[-2:] == ("id/satu", "id/dua")


@pytest.mark.parametrize("number", ["", "B 12", "B-012", "B0123456789012", "ñ1"])
def test_bad_ticket_numbers(number: str) -> None:
    with pytest.raises(PhraseError):
        build_announcement(number, "1")


@pytest.mark.parametrize("counter_id", ["", "a b", "_", "x" * 17])
def test_bad_counter_ids(counter_id: str) -> None:
    with pytest.raises(PhraseError):
        build_announcement("B012", counter_id)


def test_without_chime() -> None:
    assert build_announcement("B012", "3", chime=False).tokens[0] == "id/nomor-antrian"


def test_announcement_for_uses_settings() -> None:
    settings = AnnounceSettings(numbers="words", english=False)
    assert announcement_for("B012", "3", "loket", settings) == Announcement(
        (CHIME, "id/nomor-antrian", "id/letter-b", "id/dua", "id/belas",
         "id/silakan-menuju", "id/loket", "id/tiga"),
        "Nomor antrean B012, silakan menuju loket 3.",
        None,
    )


@given(
    number=st.from_regex(r"[A-Z]{1,2}[0-9]{1,4}", fullmatch=True),
    counter=st.from_regex(r"[A-Z]?[0-9]{1,2}", fullmatch=True),
    numbers=st.sampled_from(["digits", "words"]),
    english=st.booleans(),
    spoken=st.sampled_from(["loket", "ruang wawancara", "ruang sidik jari", "ruang foto"]),
)
def test_every_token_has_a_shipped_word(
    number: str, counter: str, numbers: str, english: bool, spoken: str
) -> None:
    a = build_announcement(number, counter, spoken, numbers=numbers,  # type: ignore[arg-type]
                           english=english)
    assert all(token == CHIME or token in VOCABULARY for token in a.tokens)
