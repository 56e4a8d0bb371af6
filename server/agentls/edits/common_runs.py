"""The common head and tail of two ranges of text (``str``) or data (``bytes``), found fast.

A run of ``==`` on slices that double while they match (galloping), then a bisection: every comparison runs
in C, so a 5,000-line file with a change in the middle costs a few dozen slice comparisons, not a loop over
its characters. Used by the line diff (``edits.lines``) and the byte diff tree-sitter is told of
(``syntax.byte_diff``).
"""

from __future__ import annotations

from typing import TypeVar

_Text = TypeVar("_Text", str, bytes)

#: The first stretch compared; it doubles while it matches.
FIRST_STRETCH = 256


def common_head(a: _Text, b: _Text, a0: int, a1: int, b0: int, b1: int) -> int:
    """The length of the common prefix of ``a[a0:a1]`` and ``b[b0:b1]``."""
    limit = min(a1 - a0, b1 - b0)
    low, stretch = 0, FIRST_STRETCH
    while True:  # gallop: the first ``low`` match
        high = min(low + stretch, limit)
        if a[a0 + low : a0 + high] != b[b0 + low : b0 + high]:
            break
        if high == limit:
            return limit
        low, stretch = high, stretch * 2
    while high - low > 1:  # the first ``low`` match, the first ``high`` do not
        middle = (low + high) // 2
        if a[a0 + low : a0 + middle] == b[b0 + low : b0 + middle]:
            low = middle
        else:
            high = middle
    return low


def common_tail(a: _Text, b: _Text, a0: int, a1: int, b0: int, b1: int) -> int:
    """The length of the common suffix of ``a[a0:a1]`` and ``b[b0:b1]``."""
    limit = min(a1 - a0, b1 - b0)
    low, stretch = 0, FIRST_STRETCH
    while True:  # gallop: the last ``low`` match
        high = min(low + stretch, limit)
        if a[a1 - high : a1 - low] != b[b1 - high : b1 - low]:
            break
        if high == limit:
            return limit
        low, stretch = high, stretch * 2
    while high - low > 1:
        middle = (low + high) // 2
        if a[a1 - middle : a1 - low] == b[b1 - middle : b1 - low]:
            low = middle
        else:
            high = middle
    return low
