"""Getting bytes to one printer, and asking it how it is, through python-escpos devices.

A transport is opened for one job and closed after it: a printer that was switched off
and on again between two tickets is found again without any reconnect logic.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from escpos.printer import CupsPrinter, File, Network, Serial, Usb

from hardware.printing.settings import PrinterSettings
from hardware.printing.status import (
    QUERY_PAPER,
    QUERY_PRINTER,
    PrinterState,
    interpret,
)


class PrinterFault(Exception):
    """The printer answered that it cannot print now: retrying it at once will not help."""

    def __init__(self, state: PrinterState, message: str) -> None:
        super().__init__(message)
        self.state = state


@dataclass
class DummyDevice:
    """The memory behind ``dummy://``: what was printed, and a status that drills can set."""

    status: str = "online"
    outputs: list[bytes] = field(default_factory=list)
    keep: int = 50
    lock: threading.Lock = field(default_factory=threading.Lock)

    def receive(self, payload: bytes) -> None:
        with self.lock:
            self.outputs.append(payload)
            del self.outputs[: -self.keep]


class Transport:
    """One open link to a printer. Subclasses override what their link can do."""

    def __init__(self, settings: PrinterSettings) -> None:
        self.settings = settings

    def open(self) -> None:
        """Connect; raises OSError-like errors when the printer cannot be reached."""

    def query(self, command: bytes, timeout: float) -> int | None:
        """Send a DLE EOT query and return the one status byte, or None without an answer."""
        return None

    def write(self, payload: bytes) -> None:
        raise OSError(f"printer {self.settings.id}: this link cannot send")

    def finish(self) -> None:
        """End the job cleanly (flush, hand over to a spooler)."""

    def close(self) -> None:
        """Release the device; safe to call twice and from another thread."""


def read_state(transport: Transport, timeout: float) -> PrinterState:
    """The printer's state; 'unknown' when it did not answer (the caller decides what that
    means: for a printer configured to answer status, a fault)."""
    printer_byte = transport.query(QUERY_PRINTER, timeout)
    if printer_byte is None:
        # No answer to the first question: the second one would only cost another timeout.
        return "unknown"
    paper_byte = transport.query(QUERY_PAPER, timeout)
    return interpret(printer_byte, paper_byte)


class DummyTransport(Transport):
    _STATUS_BYTES = {
        "online": (0x12, 0x12),
        "paper_near_end": (0x12, 0x1E),
        "paper_out": (0x1A, 0x7E),
        "offline": (0x1A, 0x12),
    }

    def __init__(self, settings: PrinterSettings, device: DummyDevice) -> None:
        super().__init__(settings)
        self.device = device

    def query(self, command: bytes, timeout: float) -> int | None:
        printer_byte, paper_byte = self._STATUS_BYTES.get(self.device.status, (None, None))
        return paper_byte if command == QUERY_PAPER else printer_byte

    def write(self, payload: bytes) -> None:
        if self.device.status == "offline":
            raise OSError(f"printer {self.settings.id} (dummy) is offline")
        self.device.receive(payload)


class NetworkTransport(Transport):
    """Raw TCP (port 9100), through escpos.printer.Network."""

    def __init__(self, settings: PrinterSettings) -> None:
        super().__init__(settings)
        self.printer: Network | None = None

    def _socket(self) -> socket.socket:
        assert self.printer is not None and self.printer.device is not None
        device: Any = self.printer.device
        return device  # type: ignore[no-any-return]

    def open(self) -> None:
        self.printer = Network(
            host=self.settings.host,
            port=self.settings.port,
            timeout=self.settings.timeout_seconds,
        )
        self.printer.open()

    def query(self, command: bytes, timeout: float) -> int | None:
        sock = self._socket()
        sock.sendall(command)
        sock.settimeout(timeout)
        try:
            answer = sock.recv(1)
        except TimeoutError:
            return None
        finally:
            sock.settimeout(self.settings.timeout_seconds)
        if not answer:
            raise ConnectionError(f"printer {self.settings.id} closed the connection")
        return answer[0]

    def write(self, payload: bytes) -> None:
        self._socket().sendall(payload)

    def finish(self) -> None:
        # Half-close and wait for the printer to close its side: that tells us it has read
        # everything, and reading its late status answers avoids a reset that could make
        # it drop the end of the ticket. A printer that never closes is not an error.
        sock = self._socket()
        sock.shutdown(socket.SHUT_WR)
        deadline = time.monotonic() + min(1.0, self.settings.timeout_seconds)
        while (left := deadline - time.monotonic()) > 0:
            sock.settimeout(left)
            try:
                if not sock.recv(256):
                    return
            except (TimeoutError, OSError):
                return

    def close(self) -> None:
        printer, self.printer = self.printer, None
        if printer is not None:
            printer.close()


class SerialTransport(Transport):
    """RS-232 through escpos.printer.Serial (pyserial), 8N1."""

    def __init__(self, settings: PrinterSettings) -> None:
        super().__init__(settings)
        self.printer: Serial | None = None

    def _port(self) -> Any:
        assert self.printer is not None and self.printer.device is not None
        return self.printer.device

    def open(self) -> None:
        self.printer = Serial(
            devfile=self.settings.path,
            baudrate=self.settings.baudrate,
            timeout=self.settings.timeout_seconds,
        )
        self.printer.open()

    def query(self, command: bytes, timeout: float) -> int | None:
        port = self._port()
        port.reset_input_buffer()
        port.timeout = timeout
        try:
            port.write(command)
            answer: bytes = port.read(1)
        finally:
            port.timeout = self.settings.timeout_seconds
        return answer[0] if answer else None

    def write(self, payload: bytes) -> None:
        port = self._port()
        # At 9600 baud a kilobyte takes a second: the time allowed grows with the job.
        port.write_timeout = self.settings.timeout_seconds + self.settings.wire_seconds(
            len(payload)
        )
        port.write(payload)

    def finish(self) -> None:
        self._port().flush()

    def close(self) -> None:
        printer, self.printer = self.printer, None
        if printer is not None:
            printer.close()


class FileTransport(Transport):
    """A device file such as /dev/usb/lp0, through escpos.printer.File."""

    def __init__(self, settings: PrinterSettings) -> None:
        super().__init__(settings)
        self.printer: File | None = None

    def open(self) -> None:
        self.printer = File(devfile=self.settings.path, auto_flush=False)
        self.printer.open()

    def write(self, payload: bytes) -> None:
        assert self.printer is not None
        self.printer._raw(payload)

    def finish(self) -> None:
        assert self.printer is not None
        self.printer.flush()

    def close(self) -> None:
        printer, self.printer = self.printer, None
        if printer is not None:
            printer.close()


class UsbTransport(Transport):
    """USB bulk transfer through escpos.printer.Usb (needs pyusb and device permissions)."""

    def __init__(self, settings: PrinterSettings) -> None:
        super().__init__(settings)
        self.printer: Usb | None = None

    def open(self) -> None:
        if not Usb.is_usable():
            raise OSError("USB printing needs the pyusb package (pip install pyusb)")
        self.printer = Usb(
            idVendor=self.settings.usb_vendor,
            idProduct=self.settings.usb_product,
            timeout=int(self.settings.timeout_seconds * 1000),
        )
        self.printer.open()

    def write(self, payload: bytes) -> None:
        assert self.printer is not None
        self.printer._raw(payload)

    def close(self) -> None:
        printer, self.printer = self.printer, None
        if printer is not None:
            printer.close()


class CupsTransport(Transport):
    """A raw CUPS queue: pycups when installed, else the ``lp`` command."""

    def __init__(self, settings: PrinterSettings) -> None:
        super().__init__(settings)
        self.printer: CupsPrinter | None = None
        self.pending = bytearray()

    def open(self) -> None:
        if CupsPrinter.is_usable():
            self.printer = CupsPrinter(printer_name=self.settings.queue_name)
            self.printer.open(job_name="giliran")
        elif shutil.which("lp") is None:
            raise OSError("CUPS printing needs pycups or the lp command (cups-client)")

    def write(self, payload: bytes) -> None:
        if self.printer is not None:
            self.printer._raw(payload)
        else:
            self.pending += payload

    def finish(self) -> None:
        if self.printer is not None:
            self.printer.send()
            return
        subprocess.run(
            ["lp", "-d", self.settings.queue_name, "-t", "giliran", "-o", "raw"],
            input=bytes(self.pending),
            check=True,
            capture_output=True,
            timeout=self.settings.timeout_seconds,
        )

    def close(self) -> None:
        printer, self.printer = self.printer, None
        if printer is not None:
            printer.close()


def open_transport(settings: PrinterSettings, dummy: DummyDevice | None = None) -> Transport:
    """A transport for the printer's URL kind (not yet opened)."""
    if settings.kind == "dummy":
        return DummyTransport(settings, dummy or DummyDevice(status=settings.dummy_status))
    if settings.kind == "network":
        return NetworkTransport(settings)
    if settings.kind == "serial":
        return SerialTransport(settings)
    if settings.kind == "file":
        return FileTransport(settings)
    if settings.kind == "usb":
        return UsbTransport(settings)
    return CupsTransport(settings)
