#!/usr/bin/env python3
"""Regenerate the placeholder announcement clips shipped in display/static/audio/.

Each word of `display.announce.phrases.VOCABULARY` is spoken by espeak-ng (voice `id` or
`en`) and cleaned by sox: leading and trailing silence trimmed, loudness normalised, a short
tail (and before a new part of the sentence a short lead-in) of silence added, written as
mono 16-bit PCM at 22050 Hz. The chime is synthesised by sox. An office replaces any clip
with its own recording of the same name through `[announce] clips_dir`.

    .venv/bin/python scripts/make_clips.py            # writes display/static/audio/
    .venv/bin/python scripts/make_clips.py --out DIR  # somewhere else

Needs the Debian packages espeak-ng and sox.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from display.announce.phrases import CHIME, VOCABULARY  # noqa: E402

RATE = 22050
SPEED_WPM = {"id": 150, "en": 155}
TAIL_SECONDS = 0.05
# A pause before each new part of the sentence, baked into the clip that starts it.
LEAD_SECONDS = {"id/silakan-menuju": 0.2, "en/number": 0.6, "en/please-go-to": 0.2}
FORMAT = ["-r", str(RATE), "-c", "1", "-b", "16", "-e", "signed-integer"]


def run(command: list[str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"failed: {' '.join(command)}\n{result.stderr.strip()}")


def make_word(token: str, voice: str, text: str, out: Path, work: Path) -> None:
    raw = work / "raw.wav"
    run(["espeak-ng", "-v", voice, "-s", str(SPEED_WPM[voice]), "-w", str(raw), text])
    run([
        "sox", "-D", str(raw), *FORMAT, str(out),
        # trim silence at the start, then (reversed) at the end
        "silence", "1", "0.01", "0.5%", "reverse", "silence", "1", "0.01", "0.5%", "reverse",
        "gain", "-n", "-3",
        "pad", str(LEAD_SECONDS.get(token, 0.0)), str(TAIL_SECONDS),
    ])


def make_chime(out: Path, work: Path) -> None:
    """A two-tone "ding-dong" (G5 then E5) with a soft bell decay."""
    tones = []
    for i, (frequency, seconds) in enumerate(((784, 0.45), (659, 0.7))):
        tone = work / f"tone{i}.wav"
        run([
            "sox", "-D", "-n", *FORMAT, str(tone),
            "synth", str(seconds), "sine", str(frequency), "sine", str(frequency * 2),
            "remix", "-",
            "fade", "q", "0.005", str(seconds), str(seconds - 0.01),
        ])
        tones.append(str(tone))
    run(["sox", "-D", *tones, *FORMAT, str(out), "gain", "-n", "-6", "pad", "0", "0.25"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "display" / "static" / "audio")
    args = parser.parse_args(argv)
    for tool in ("espeak-ng", "sox"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} not found: apt-get install espeak-ng sox")

    out: Path = args.out
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        staged = work / "audio"
        for language in ("id", "en"):
            (staged / language).mkdir(parents=True)
        make_chime(staged / f"{CHIME}.wav", work)
        for token, (voice, text) in sorted(VOCABULARY.items()):
            make_word(token, voice, text, staged / f"{token}.wav", work)
        for language in ("id", "en"):
            target = out / language
            target.mkdir(parents=True, exist_ok=True)
            for old in target.glob("*.wav"):
                old.unlink()
        for path in staged.rglob("*.wav"):
            destination = out / path.relative_to(staged)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, destination)

    files = sorted(out.rglob("*.wav"))
    total = sum(path.stat().st_size for path in files)
    print(f"{len(files)} clips, {total / 1024:.0f} KiB in {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
