"""Code point <-> UTF-8 byte offsets, computed cheaply.

tree-sitter speaks UTF-8 byte offsets; this package's API speaks Python str indices (code points). Every
conversion here runs in C (``encode``/``decode``/``len``), and the common ASCII case is free: ``str.isascii``
is O(1) in CPython, and for ASCII text both kinds of offsets are the same.
"""

from __future__ import annotations

from collections.abc import Iterable

from agentls.syntax.parser import ENCODING, ENCODING_ERRORS


def char_to_byte(text: str, offset: int) -> int:
    """The byte offset of the code point offset ``offset`` in the UTF-8 encoding of ``text``."""
    if text.isascii():
        return offset
    return len(text[:offset].encode(ENCODING, ENCODING_ERRORS))


def bytes_to_chars(data: bytes | bytearray, offsets: Iterable[int], *, ascii: bool = False) -> dict[int, int]:
    """Code point offsets of a few byte offsets in UTF-8 ``data``, decoding each stretch of it once.

    Cost is one C-level decode of ``data`` up to the largest offset; ``ascii=True`` (the caller knows the data
    is ASCII) makes it free.
    """
    wanted = sorted(set(offsets))
    if ascii:
        return {offset: offset for offset in wanted}
    view = memoryview(data)
    result: dict[int, int] = {}
    chars = 0
    previous = 0
    for offset in wanted:
        chunk = view[previous:offset]
        try:
            chars += len(str(chunk, ENCODING, ENCODING_ERRORS))
        except UnicodeDecodeError:  # not from tree-sitter, which only reports character boundaries
            chars += len(str(chunk, ENCODING, "replace"))
        result[offset] = chars
        previous = offset
    return result


def utf8_char_length(lead: int) -> int:
    """The byte length of the UTF-8 character that starts with the byte ``lead``."""
    if lead < 0x80:
        return 1
    if lead >= 0xF0:
        return 4
    if lead >= 0xE0:
        return 3
    return 2
