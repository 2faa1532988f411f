"""A printed document as a list of blocks, and the two ways to draw it.

Tickets and slips are described once as blocks (lines of text, rules, a QR code); the same
blocks become ESC/POS bytes for the printer and a PNG for the kiosk screen, so the preview
never drifts from the paper.
"""

from __future__ import annotations

import io
import textwrap
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

import qrcode
from escpos.constants import PAPER_FULL_CUT, QR_ECLEVEL_M
from escpos.printer import Dummy
from PIL import Image, ImageDraw, ImageFont

from hardware.printing.capabilities import Capabilities

Align = Literal["left", "center"]


@dataclass(frozen=True)
class Text:
    """One printed line, already wrapped to fit at its scale."""

    text: str
    align: Align = "left"
    bold: bool = False
    scale: int = 1
    invert: bool = False


@dataclass(frozen=True)
class Rule:
    """A full-width separator line."""


@dataclass(frozen=True)
class QrCode:
    data: str


@dataclass(frozen=True)
class Feed:
    lines: int = 1


Block = Text | Rule | QrCode | Feed


class LayoutBuilder:
    """Collects blocks, wrapping text to the printer's columns."""

    def __init__(self, caps: Capabilities) -> None:
        self.caps = caps
        self.blocks: list[Block] = []

    def width(self, scale: int = 1) -> int:
        return max(1, self.caps.columns // scale)

    def line(
        self,
        text: str,
        align: Align = "left",
        bold: bool = False,
        scale: int = 1,
        invert: bool = False,
        indent: int = 0,
    ) -> None:
        width = self.width(scale)
        wrapped = textwrap.wrap(
            text,
            width,
            initial_indent=" " * indent,
            subsequent_indent=" " * indent,
            break_on_hyphens=False,
        ) or [""]
        for part in wrapped:
            self.blocks.append(Text(part, align=align, bold=bold, scale=scale, invert=invert))

    def bilingual(
        self,
        text_id: str,
        text_en: str,
        align: Align = "left",
        bold: bool = False,
        scale: int = 1,
        indent: int = 0,
    ) -> None:
        """Indonesian first; English on the same line if both fit, else on the next one."""
        joined = f"{text_id} / {text_en}" if text_en else text_id
        if len(joined) + indent <= self.width(scale):
            self.line(joined, align=align, bold=bold, scale=scale, indent=indent)
            return
        self.line(text_id, align=align, bold=bold, scale=scale, indent=indent)
        if text_en:
            # The English line is never bold, so the eye lands on the Indonesian one.
            self.line(text_en, align=align, scale=scale, indent=indent)

    def hanging(self, prefix: str, text: str, bold: bool = False) -> None:
        """A numbered step: the prefix on the first line, the rest indented under the text."""
        wrapped = textwrap.wrap(
            text,
            self.width(),
            initial_indent=prefix,
            subsequent_indent=" " * len(prefix),
            break_on_hyphens=False,
        )
        for part in wrapped:
            self.blocks.append(Text(part, bold=bold))

    def field(self, label: str, value: str) -> None:
        """``label: value`` on one line if it fits, else the value indented below."""
        joined = f"{label}: {value}"
        if len(joined) <= self.width():
            self.line(joined)
        else:
            self.line(f"{label}:")
            self.line(value, indent=2)

    def rule(self) -> None:
        self.blocks.append(Rule())

    def qr(self, data: str) -> None:
        self.blocks.append(QrCode(data))

    def feed(self, lines: int = 1) -> None:
        self.blocks.append(Feed(lines))


_TRANSLITERATE = str.maketrans(
    {
        "\u2013": "-",
        "\u2014": "-",
        "\u2212": "-",
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u00b1": "+/-",
        "\u2026": "...",
        "\u00a0": " ",
    }
)


def to_printable(text: str) -> str:
    """Plain ASCII: cheap clone printers differ in code pages but all print ASCII alike."""
    folded = unicodedata.normalize("NFKD", text.translate(_TRANSLITERATE))
    return "".join(
        ch if 32 <= ord(ch) < 127 else "?" for ch in folded if not unicodedata.combining(ch)
    )


def qr_matrix_image(data: str, box: int, border: int = 2) -> Image.Image:
    """A black-on-white QR image, error correction M (thermal paper fades and scuffs)."""
    code = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=box, border=border
    )
    code.add_data(data)
    code.make(fit=True)
    matrix = code.get_matrix()  # includes the border
    side = len(matrix)
    # One pixel per module, then scaled: far quicker than drawing each module's box.
    image = Image.new("1", (side, side), 1)
    image.putdata([0 if dark else 1 for row in matrix for dark in row])
    return image.resize((side * box, side * box), Image.Resampling.NEAREST)


def render_escpos(blocks: Sequence[Block], caps: Capabilities, cut: bool = True) -> bytes:
    """ESC/POS bytes for the blocks, sending a style command only when the style changes."""
    printer = Dummy(profile=caps.profile)
    printer.hw("INIT")
    align: Align = "left"
    bold = False
    scale = 1
    invert = False
    for block in _as_printer_lines(blocks, caps):
        if isinstance(block, QrCode):
            _escpos_qr(printer, block.data, caps)
            # The image path leaves alignment at left; say so for the next text block.
            align = "center" if caps.native_qr else "left"
            continue
        if block.align != align:
            printer.set(align=block.align)
            align = block.align
        if block.bold != bold:
            printer.set(bold=block.bold)
            bold = block.bold
        if block.scale != scale:
            printer.set(custom_size=True, width=block.scale, height=block.scale)
            scale = block.scale
        if block.invert != invert:
            printer.set(invert=block.invert)
            invert = block.invert
        printer.textln(to_printable(block.text))
    if cut:
        if caps.has_cutter:
            # Fed past the cutter, then cut: also on a clone whose profile lists no cutter
            # but whose configuration says it has one (python-escpos would skip the cut).
            printer.print_and_feed(6)
            printer._raw(PAPER_FULL_CUT)
        else:
            printer.cut()  # a tear bar: python-escpos feeds the ticket out, no cut command
    return bytes(printer.output)


def _as_printer_lines(blocks: Sequence[Block], caps: Capabilities) -> list[Text | QrCode]:
    """Rules and feeds as plain lines, so they never inherit a big or inverted style."""
    lines: list[Text | QrCode] = []
    for block in blocks:
        if isinstance(block, Rule):
            lines.append(Text("-" * caps.columns))
        elif isinstance(block, Feed):
            lines.extend(Text("") for _ in range(block.lines))
        else:
            lines.append(block)
    return lines


def _escpos_qr(printer: Dummy, data: str, caps: Capabilities) -> None:
    if caps.native_qr:
        # The printer draws the symbol: about 100 bytes instead of a kilobyte of raster,
        # which is what makes a ticket quick on a 9600 baud line.
        printer.set(align="center")
        printer.qr(data, ec=QR_ECLEVEL_M, size=caps.qr_module_dots, native=True)
        return
    # Raster image printed at double width and height (GS v 0 mode 3): each image dot
    # becomes 2x2 printer dots, so the raster is a quarter of the bytes for the same
    # printed size. Centred by white padding because not every clone honours ESC a for
    # raster images.
    box = max(1, caps.qr_module_dots // 2)
    symbol = qr_matrix_image(data, box)
    half_width = caps.dots // 2
    pad = max(0, (half_width - symbol.width) // 2)
    padded = Image.new("1", (pad + symbol.width, symbol.height), 1)
    padded.paste(symbol, (pad, 0))
    printer.set(align="left")
    printer.image(
        padded,
        high_density_vertical=False,
        high_density_horizontal=False,
        impl="bitImageRaster",
    )


_FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/share/fonts/TTF"),
)


@lru_cache(maxsize=16)
def _font(size: int, bold: bool) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    name = "DejaVuSansMono-Bold.ttf" if bold else "DejaVuSansMono.ttf"
    for folder in _FONT_DIRS:
        path = folder / name
        if path.exists():
            return ImageFont.truetype(str(path), size)
    # Pillow's bundled font is proportional but always there.
    return ImageFont.load_default(size=size)


def render_png(blocks: Iterable[Block], caps: Capabilities, scale: int = 2) -> bytes:
    """A PNG of the blocks as the paper would look, `scale` screen pixels per printer dot."""
    blocks = list(blocks)
    width = caps.dots * scale
    margin = 8 * scale
    cell = (width - 2 * margin) / caps.columns  # width of one character at normal size
    base_size = max(8, int(cell / 0.6))  # DejaVu Sans Mono advances 0.6 em
    line_height = int(base_size * 1.25)

    def block_height(block: Block) -> int:
        if isinstance(block, Text):
            return line_height * block.scale
        if isinstance(block, Rule | Feed):
            return line_height * (block.lines if isinstance(block, Feed) else 1)
        return _qr_side(block, caps, scale) + line_height // 2

    height = margin * 2 + sum(block_height(block) for block in blocks)
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    y = margin
    for block in blocks:
        step = block_height(block)
        if isinstance(block, Text):
            font = _font(base_size * block.scale, block.bold)
            text_width = draw.textlength(block.text, font=font)
            x = (width - text_width) / 2 if block.align == "center" else margin
            if block.invert:
                draw.rectangle((x - scale, y, x + text_width + scale, y + step), fill="black")
            draw.text((x, y), block.text, font=font, fill="white" if block.invert else "black")
        elif isinstance(block, Rule):
            middle = y + step // 2
            draw.line((margin, middle, width - margin, middle), fill="black", width=scale)
        elif isinstance(block, QrCode):
            symbol = _preview_qr(block.data, caps.qr_module_dots * scale)
            image.paste(symbol.convert("RGB"), ((width - symbol.width) // 2, y))
        y += step
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _qr_side(block: QrCode, caps: Capabilities, scale: int) -> int:
    return _preview_qr(block.data, caps.qr_module_dots * scale).height


@lru_cache(maxsize=8)
def _preview_qr(data: str, box: int) -> Image.Image:
    # Cached because the height pass and the drawing pass both need it; callers only read.
    return qr_matrix_image(data, box)
