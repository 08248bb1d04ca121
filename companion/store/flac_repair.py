"""A FLAC whose writer was killed (`kill -9`, a crash, a power cut) made readable again.

libFLAC writes the stream's length (STREAMINFO's total samples) into the header only when the file
is closed. Until then the header says 0, "unknown", which libsndfile reports as a length of 2^63
frames: `soundfile.read` asks for an array that large and fails ("array is too big"), and players
that trust the header cannot seek. The audio frames before the cut are all there, each with its
own header (its block size and its number) and CRC, so the file is repaired in place: its frames
are counted, a last frame the cut left half-written is dropped, and the count is written into the
header. Nothing is decoded; an hour of audio takes a fraction of a second.
"""

from __future__ import annotations

import mmap
import os
from pathlib import Path
from typing import Optional, Union

MAGIC = b"fLaC"
STREAMINFO_LEN = 34
_Bytes = Union[bytes, mmap.mmap]   # a FLAC file's bytes, read or mapped
TOTAL_AT = 8 + 13    # the byte holding the top 4 bits of the 36-bit total samples (after magic and block header)


def _table(poly: int, width: int) -> list[int]:
    top, mask = 1 << (width - 1), (1 << width) - 1
    table = []
    for byte in range(256):
        crc = byte << (width - 8)
        for _ in range(8):
            crc = ((crc << 1) ^ poly) if crc & top else crc << 1
        table.append(crc & mask)
    return table


_CRC8 = _table(0x07, 8)
_CRC16 = _table(0x8005, 16)


def _crc8(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc = _CRC8[crc ^ byte]
    return crc


def _crc16(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc = ((crc << 8) & 0xFFFF) ^ _CRC16[(crc >> 8) ^ byte]
    return crc


def unknown_length(path: Path) -> bool:
    """A FLAC whose header does not know its length (its writer never closed it)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(8 + STREAMINFO_LEN)
    except OSError:
        return False
    if len(head) < 8 + STREAMINFO_LEN or head[:4] != MAGIC or head[4] & 0x7F != 0:
        return False
    return _total(head) == 0


def _total(head: bytes) -> int:
    return ((head[TOTAL_AT] & 0x0F) << 32) | int.from_bytes(head[TOTAL_AT + 1:TOTAL_AT + 5], "big")


def _first_frame(data: _Bytes) -> Optional[int]:
    """Where the audio frames start: after the last metadata block."""
    pos = 4
    while pos + 4 <= len(data):
        last, length = data[pos] & 0x80, int.from_bytes(data[pos + 1:pos + 4], "big")
        pos += 4 + length
        if last:
            return pos if pos <= len(data) else None
    return None


# the first byte of a coded number n bytes long (n = 2, 3, …): (mask, bits)
_LEADS = ((0xE0, 0xC0), (0xF0, 0xE0), (0xF8, 0xF0), (0xFC, 0xF8), (0xFE, 0xFC), (0xFF, 0xFE))


def _coded_number(data: _Bytes, pos: int) -> Optional[tuple[int, int]]:
    """FLAC's UTF-8-like coded frame or sample number at `pos`: (value, bytes)."""
    if pos >= len(data):
        return None
    first = data[pos]
    if first < 0x80:
        return first, 1
    for n, (mask, bits) in enumerate(_LEADS, start=2):  # noqa: B007  (n, the coded length, is read after the loop)
        if first & mask == bits:
            value = first & (~mask & 0xFF)
            break
    else:
        return None
    if pos + n > len(data):
        return None
    for byte in data[pos + 1:pos + n]:
        if byte & 0xC0 != 0x80:
            return None
        value = (value << 6) | (byte & 0x3F)
    return value, n


def _frame_header(data: _Bytes, pos: int, variable: int) -> Optional[tuple[int, int, int]]:
    """The frame header at `pos`, checked by its CRC-8: (header bytes, block size, frame or sample number)."""
    if pos + 6 > len(data) or data[pos] != 0xFF or data[pos + 1] != 0xF8 | variable:
        return None
    size_code, rate_code = data[pos + 2] >> 4, data[pos + 2] & 0x0F
    channels, bits, reserved = data[pos + 3] >> 4, (data[pos + 3] >> 1) & 7, data[pos + 3] & 1
    if size_code == 0 or rate_code == 15 or channels > 10 or bits == 3 or reserved:
        return None
    coded = _coded_number(data, pos + 4)
    if coded is None:
        return None
    number, at = coded[0], pos + 4 + coded[1]
    if size_code == 6:
        if at + 1 > len(data):
            return None
        block, at = data[at] + 1, at + 1
    elif size_code == 7:
        if at + 2 > len(data):
            return None
        block, at = int.from_bytes(data[at:at + 2], "big") + 1, at + 2
    elif size_code == 1:
        block = 192
    elif size_code <= 5:
        block = 576 << (size_code - 2)
    else:
        block = 256 << (size_code - 8)
    at += 1 if rate_code == 12 else 2 if rate_code in (13, 14) else 0
    if at >= len(data) or _crc8(data[pos:at]) != data[at]:
        return None
    return at + 1 - pos, block, number


def _frames(data: _Bytes, start: int) -> tuple[int, int]:
    """(samples, end): the whole frames from `start` on, and where the last whole one ends."""
    if start + 2 > len(data) or data[start] != 0xFF or data[start + 1] & 0xFE != 0xF8:
        return 0, start
    variable = data[start + 1] & 1
    sync = bytes((0xFF, 0xF8 | variable))
    samples, frame, pos = 0, 0, start
    header = _frame_header(data, pos, variable)
    while header is not None and header[2] == (samples if variable else frame):
        length, block, _ = header
        search, following = pos + length, None
        while True:  # the next frame: the next sync code whose header checks out and follows on
            nxt = data.find(sync, search)
            if nxt < 0:
                break
            candidate = _frame_header(data, nxt, variable)
            if candidate is not None and candidate[2] == (samples + block if variable else frame + 1):
                following = (nxt, candidate)
                break
            search = nxt + 1
        if following is None:  # the last frame: whole only if its CRC-16 says so
            if len(data) - pos > length + 2 and _crc16(data[pos:len(data) - 2]) == int.from_bytes(data[-2:], "big"):
                return samples + block, len(data)
            return samples, pos
        samples, frame = samples + block, frame + 1
        pos, header = following
    return samples, pos


def repair(path: Path) -> Optional[int]:
    """Make a FLAC cut off by a crash readable: its whole frames kept, their count in its header.
    Returns the samples it holds now, or None when it needed no repair (or is not a FLAC)."""
    if not unknown_length(path):
        return None
    with open(path, "r+b") as fh:
        size = os.fstat(fh.fileno()).st_size
        with mmap.mmap(fh.fileno(), size, access=mmap.ACCESS_READ) as data:
            start = _first_frame(data)
            if start is None:
                return 0
            samples, end = _frames(data, start)
            head = bytearray(data[:8 + STREAMINFO_LEN])
        if end < size:
            fh.truncate(end)  # a frame the cut left half-written
        if samples:
            head[TOTAL_AT] = (head[TOTAL_AT] & 0xF0) | ((samples >> 32) & 0x0F)
            head[TOTAL_AT + 1:TOTAL_AT + 5] = (samples & 0xFFFFFFFF).to_bytes(4, "big")
            fh.seek(TOTAL_AT)
            fh.write(head[TOTAL_AT:TOTAL_AT + 5])
        fh.flush()
        os.fsync(fh.fileno())
    return samples
