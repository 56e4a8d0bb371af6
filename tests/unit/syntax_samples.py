"""Shared samples for the syntax tests: a Python source with non-ASCII text, pieces random edits insert, and a
tree's nodes as comparable tuples."""

from __future__ import annotations

import tree_sitter

SOURCE = '''"""Prices, in € and ¥."""

import math


class Cart:
    """A cart: 🛒 with items."""

    def __init__(self, owner: str = "José") -> None:
        self.owner = owner
        self.items: dict[str, float] = {}

    def add(self, name: str, price: float) -> None:
        self.items[name] = self.items.get(name, 0.0) + price

    def total(self) -> float:
        return math.fsum(self.items.values())


def greet(name):
    return f"こんにちは, {name}!"
'''

# Pieces of text an edit inserts: code, brackets, blanks and newlines, and non-ASCII characters.
PIECES = [
    "(",
    ")",
    "[",
    "]",
    ":",
    "def ",
    "x = 1",
    "\n",
    "    ",
    " ",
    "é",
    "日本",
    "🎉",
    "\r\n",
    "'",
    '"',
    "#",
    "pass\n",
]


def nodes(tree: tree_sitter.Tree) -> list[tuple[str, int, int, tuple[int, int], tuple[int, int]]]:
    """Every node with its byte range and row/column points, in document order."""
    found = []
    cursor = tree.walk()
    while True:
        node = cursor.node
        assert node is not None
        found.append((node.type, node.start_byte, node.end_byte, tuple(node.start_point), tuple(node.end_point)))
        if cursor.goto_first_child():
            continue
        while not cursor.goto_next_sibling():
            if not cursor.goto_parent():
                return found  # type: ignore[return-value]
