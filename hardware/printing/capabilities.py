"""What a ticket layout needs to know about one printer: line width, dots, native QR."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from escpos.capabilities import NotSupported, get_profile

QrMode = Literal["auto", "native", "image"]

# Both common roll widths print 8 dots per mm of printable area in practice
# (58 mm paper -> 48 mm printable, 80 mm -> 72 mm).
_DOTS_BY_WIDTH = {58: 384, 80: 576}


def known_profile(name: str) -> bool:
    try:
        get_profile(name)
    except (NotSupported, KeyError):
        return False
    return True


@dataclass(frozen=True)
class Capabilities:
    """The facts a layout depends on. Build with :meth:`for_printer` or :meth:`for_width`."""

    profile: str
    width_mm: int
    dots: int  # printable dots per line
    dpi: int
    columns: int  # characters per line in font A at normal size
    native_qr: bool  # the printer draws QR codes itself (GS ( k)
    big_scale: int  # character magnification of the ticket number
    qr_module_dots: int  # printed size of one QR module, in dots
    has_cutter: bool  # many 58 mm printers only have a tear bar

    @classmethod
    def for_printer(
        cls, profile: str, width_mm: int, qr: QrMode = "auto", cutter: bool | None = None
    ) -> Capabilities:
        """``cutter`` overrides the profile (a clone sold with or without an auto-cutter)."""
        data: dict[str, Any] = get_profile(profile).profile_data
        media = data.get("media", {})
        width = media.get("width", {})
        profile_mm = width.get("mm")
        profile_dots = width.get("pixels")
        dots: int
        columns: int
        if (
            isinstance(profile_dots, int)
            and isinstance(profile_mm, int | float)
            and abs(profile_mm - width_mm) <= 12
        ):
            # The profile describes this paper width; trust its own numbers.
            dots = profile_dots
            columns = int(data.get("fonts", {}).get("0", {}).get("columns", dots // 12))
        else:
            # A generic profile ("simple", "default") or one for another width: derive from
            # the configured paper, font A being 12 dots wide.
            dots = _dots_for_width(width_mm)
            columns = dots // 12
        dpi = media.get("dpi")
        features = data.get("features", {})
        supports_qr = bool(features.get("qrCode", False))
        native = supports_qr if qr == "auto" else qr == "native"
        narrow = width_mm < 70
        return cls(
            profile=profile,
            width_mm=width_mm,
            dots=dots,
            dpi=dpi if isinstance(dpi, int) else 203,
            columns=columns,
            native_qr=native,
            big_scale=4 if narrow else 5,
            # About 0.5 mm per module at 180-203 dpi: phones read it from arm's length.
            qr_module_dots=4 if narrow else 6,
            has_cutter=(
                cutter
                if cutter is not None
                else bool(features.get("paperFullCut") or features.get("paperPartCut"))
            ),
        )

    @classmethod
    def for_width(cls, width_mm: int) -> Capabilities:
        """Capabilities of a generic printer of this width (the kiosk screen preview)."""
        return cls.for_printer("default", width_mm)


def _dots_for_width(width_mm: int) -> int:
    if width_mm in _DOTS_BY_WIDTH:
        return _DOTS_BY_WIDTH[width_mm]
    # Other rolls (76 mm, 112 mm): about 10 mm of margin, 8 dots per mm, whole bytes.
    return max(128, ((width_mm - 10) * 8) // 8 * 8)
