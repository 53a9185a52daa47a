"""Read a JPEG's width and height with the standard library only (the sandbox has no Pillow)."""

from __future__ import annotations

import struct

# Start-of-frame markers carry the size; C4 (DHT), C8 (JPG) and CC (DAC) share the range but do not.
_SOF_MARKERS = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def jpeg_size(content: bytes) -> tuple[int, int] | None:
    """Return (width, height), or None if `content` is not a readable JPEG."""
    if not content.startswith(b"\xff\xd8"):
        return None
    index = 2
    while index + 4 <= len(content):
        if content[index] != 0xFF:
            return None
        marker = content[index + 1]
        if marker == 0xFF:  # Fill byte.
            index += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # Markers without a length.
            index += 2
            continue
        (length,) = struct.unpack(">H", content[index + 2:index + 4])
        if marker in _SOF_MARKERS:
            if index + 9 > len(content):
                return None
            height, width = struct.unpack(">HH", content[index + 5:index + 9])
            return width, height
        if marker == 0xDA:  # Start of scan before any frame header: broken.
            return None
        index += 2 + length
    return None
