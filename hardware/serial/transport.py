"""Opening a bus's port through pyserial's URL handlers.

`serial.serial_for_url` gives one code path for a USB adapter (/dev/ttyUSB0), an
RS-485-to-Ethernet converter (socket://, rfc2217://), loop:// and pseudo-terminals, so
the worker never needs to know which one it drives.
"""

from __future__ import annotations

import logging

import serial
import serial.rs485

from .settings import BusSettings

log = logging.getLogger(__name__)

#: How long one read waits for bytes while a command waits for its ACK (the same thread
#: checks the ACK deadline between reads), and on ports whose reads cannot be cut short.
READ_TIMEOUT = 0.02
#: How long one read waits while nothing is on the wire, on ports whose reads a caller can
#: cut short (`cancel_read`: serial devices, pseudo-terminals, loop://): a new command
#: wakes the worker at once, so an idle bus costs a few wake-ups a second, not fifty.
#: Probes of silent devices and refreshes may start up to this much late.
IDLE_READ_TIMEOUT = 0.25
#: A write that cannot drain in this time means a stuck port (flow control, dead
#: converter): better to fail and reopen than to hang the bus thread.
WRITE_TIMEOUT = 1.0

#: Everything a port may raise when the cable is pulled or the converter is gone.
PORT_ERRORS: tuple[type[BaseException], ...] = (serial.SerialException, OSError, ValueError)


def open_port(settings: BusSettings, url: str | None = None) -> serial.SerialBase:
    """Open and configure the port; raises one of PORT_ERRORS on failure."""
    port = serial.serial_for_url(
        url or settings.url,
        do_not_open=True,
        baudrate=settings.baudrate,
        bytesize=settings.bytesize,
        parity=settings.parity,
        stopbits=settings.stopbits,
        timeout=READ_TIMEOUT,
        write_timeout=WRITE_TIMEOUT,
    )
    if settings.rs485:
        # Half-duplex transceivers need RTS high while sending and low to listen; the
        # kernel driver (TIOCSRS485) toggles it around each write. A port without that
        # support fails to open with a clear error instead of corrupting the bus.
        port.rs485_mode = serial.rs485.RS485Settings(
            rts_level_for_tx=True, rts_level_for_rx=False
        )
    port.open()
    return port


def can_cancel_read(port: serial.SerialBase) -> bool:
    """Whether another thread can end a read on `port` early (pyserial's cancel_read)."""
    return callable(getattr(port, "cancel_read", None))


def close_quietly(port: serial.SerialBase | None) -> None:
    """Close a port that may already be broken; a failing close must not stop a reopen."""
    if port is None:
        return
    try:
        port.close()
    except PORT_ERRORS as exc:
        log.debug("closing %s failed: %s", port.name, exc)
