"""A command's output for ``run_command``: capped while it streams (head and tail kept, the middle
dropped), then cut in the middle to the character limit with a note of how much was cut."""

from __future__ import annotations

from dataclasses import dataclass

#: Bytes of output kept from each end while streaming, per output character allowed.
_KEEP_FACTOR = 4


@dataclass
class CappedOutput:
    """A running command's output: the first and the last ``limit`` bytes kept, the ones between counted."""

    limit: int
    head: bytearray
    tail: bytearray
    dropped: int = 0

    @classmethod
    def create(cls, max_chars: int) -> CappedOutput:
        return cls(max_chars * _KEEP_FACTOR, bytearray(), bytearray())

    def feed(self, chunk: bytes) -> None:
        room = self.limit - len(self.head)
        if room > 0:
            self.head += chunk[:room]
            chunk = chunk[room:]
        if chunk:
            self.tail += chunk
            excess = len(self.tail) - self.limit
            if excess > 0:
                del self.tail[:excess]
                self.dropped += excess

    def text(self, max_chars: int) -> str:
        head = self.head.decode("utf-8", "replace")
        tail = self.tail.decode("utf-8", "replace")
        if not self.dropped:
            return middle_truncate(head + tail, max_chars)
        return middle_truncate(head + tail, max_chars, extra_cut=self.dropped)


def middle_truncate(text: str, max_chars: int, extra_cut: int = 0) -> str:
    """``text`` cut in the middle to at most about ``max_chars``, with a note of how much was cut."""
    if len(text) <= max_chars and not extra_cut:
        return text
    keep = max(max_chars - 120, 0)
    head, tail = text[: keep // 2], text[len(text) - (keep - keep // 2) :] if keep else ""
    cut = len(text) - len(head) - len(tail) + extra_cut
    about = "about " if extra_cut else ""
    return f"{head}\n\n[... {about}{cut:,} characters of output cut from the middle ...]\n\n{tail}"
