"""Reads ESC/POS bytes back into what a person would see: text lines, QR codes, cuts.

Test-only. It knows exactly the commands the renderer may send and refuses anything
else, so a stray byte in a ticket fails a test instead of printing garbage on paper.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import zxingcpp
from PIL import Image, ImageOps

ESC, GS, LF = 0x1B, 0x1D, 0x0A


@dataclass
class Line:
    text: str
    align: str
    bold: bool
    width: int
    height: int
    invert: bool


@dataclass
class NativeQr:
    data: bytes
    module_size: int
    error_correction: str


@dataclass
class Raster:
    image: Image.Image  # as printed, in printer dots, black on white
    width_bytes: int
    height: int
    mode: int


@dataclass
class Reading:
    lines: list[Line] = field(default_factory=list)
    native_qr: list[NativeQr] = field(default_factory=list)
    rasters: list[Raster] = field(default_factory=list)
    cuts: int = 0
    codepages: list[int] = field(default_factory=list)

    @property
    def texts(self) -> list[str]:
        return [line.text for line in self.lines]

    def qr_texts(self) -> list[str]:
        """Native QR data as stored, then every raster decoded with zxing-cpp."""
        found = [qr.data.decode("utf-8") for qr in self.native_qr]
        for raster in self.rasters:
            found.extend(decode_qr(raster.image))
        return found


def decode_qr(image: Image.Image) -> list[str]:
    # A quiet zone and a larger scale, as a phone camera would see the paper.
    framed = ImageOps.expand(image.convert("L"), border=32, fill=255)
    framed = framed.resize((framed.width * 2, framed.height * 2), Image.Resampling.NEAREST)
    return [result.text for result in zxingcpp.read_barcodes(framed)]


class _Style:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.align = "left"
        self.bold = False
        self.width = 1
        self.height = 1
        self.invert = False


def read(data: bytes) -> Reading:
    reading = Reading()
    style = _Style()
    text = bytearray()
    stored_qr = b""
    qr_module, qr_ec = 3, "L"
    i = 0

    def need(count: int) -> bytes:
        if i + count > len(data):
            raise ValueError(f"truncated command at offset {i}")
        return data[i : i + count]

    def end_line() -> None:
        reading.lines.append(
            Line(text.decode("ascii"), style.align, style.bold, style.width, style.height,
                 style.invert)
        )
        text.clear()

    while i < len(data):
        byte = data[i]
        if byte == LF:
            end_line()
            i += 1
        elif 0x20 <= byte < 0x7F:
            text.append(byte)
            i += 1
        elif byte == ESC:
            command = need(2)[1]
            i += 2
            if command == ord("@"):
                style.reset()
            elif command in b"aEt!dM-G3":
                value = need(1)[0]
                i += 1
                if command == ord("a"):
                    style.align = {0: "left", 1: "center", 2: "right", 48: "left",
                                   49: "center", 50: "right"}[value]
                elif command == ord("E"):
                    style.bold = bool(value & 1)
                elif command == ord("t"):
                    reading.codepages.append(value)
                elif command == ord("!"):
                    style.width = 2 if value & 0x20 else 1
                    style.height = 2 if value & 0x10 else 1
                    style.bold = bool(value & 0x08)
                elif command == ord("d") and text:
                    end_line()
            elif command == ord("2"):
                pass
            else:
                raise ValueError(f"unknown ESC {command:#04x} at offset {i - 2}")
        elif byte == GS:
            command = need(2)[1]
            i += 2
            if command == ord("!"):
                value = need(1)[0]
                i += 1
                style.width = (value >> 4) + 1
                style.height = (value & 0x0F) + 1
            elif command == ord("B"):
                style.invert = bool(need(1)[0] & 1)
                i += 1
            elif command == ord("V"):
                mode = need(1)[0]
                i += 1
                if mode in (65, 66):
                    i += 1  # feed amount
                elif mode not in (0, 1, 48, 49):
                    raise ValueError(f"unknown cut mode {mode}")
                reading.cuts += 1
            elif command == ord("("):
                kind, low, high = need(3)
                i += 3
                body = need(low + high * 256)
                i += low + high * 256
                if kind != ord("k") or body[0] != ord("1"):
                    raise ValueError(f"unexpected GS ( {chr(kind)} at offset {i}")
                function = body[1]
                if function == 67:
                    qr_module = body[2]
                elif function == 69:
                    qr_ec = "LMQH"[body[2] - 48]
                elif function == 80:
                    stored_qr = body[3:]  # after the '0' of m
                elif function == 81:
                    reading.native_qr.append(NativeQr(stored_qr, qr_module, qr_ec))
                elif function != 65:
                    raise ValueError(f"unexpected QR function {function}")
            elif command == ord("v"):
                zero, mode, xl, xh, yl, yh = need(6)
                i += 6
                if zero != ord("0"):
                    raise ValueError("GS v must be followed by 0")
                width_bytes, height = xl + xh * 256, yl + yh * 256
                bits = need(width_bytes * height)
                i += width_bytes * height
                reading.rasters.append(
                    Raster(_raster_image(bits, width_bytes, height, mode), width_bytes, height,
                           mode)
                )
            else:
                raise ValueError(f"unknown GS {command:#04x} at offset {i - 2}")
        else:
            raise ValueError(f"unexpected byte {byte:#04x} at offset {i}")
    if text:
        end_line()
    return reading


def _raster_image(bits: bytes, width_bytes: int, height: int, mode: int) -> Image.Image:
    image = Image.new("L", (width_bytes * 8, height), 255)
    pixels = image.load()
    assert pixels is not None
    for row in range(height):
        for column in range(width_bytes):
            value = bits[row * width_bytes + column]
            for bit in range(8):
                if value & (0x80 >> bit):
                    pixels[column * 8 + bit, row] = 0
    # Modes 1-3 print each dot twice as wide and/or high (GS v 0 m: 1 = 2x width,
    # 2 = 2x height, 3 = both); show the image as it lands on paper.
    scale_x = 2 if mode & 1 else 1
    scale_y = 2 if mode & 2 else 1
    if scale_x != 1 or scale_y != 1:
        image = image.resize((image.width * scale_x, image.height * scale_y),
                             Image.Resampling.NEAREST)
    return image
