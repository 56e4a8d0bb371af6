"""Fake-model scripts shared by the plan tests: a three-step change to a small Python project.

``routed`` answers each request by the session it belongs to (the architect, or the step named in
the first user message) and by how many assistant turns the conversation already has, so steps
that run at the same time each get their own script.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from tests.fakes.messages_api import Reply, Text, ToolUse
from tests.fakes.messages_api.script import Fault, RecordedRequest

EDITOR = "str_replace_based_edit_tool"
CALC = "def add(a, b):\n    return a + b\n"
CALC_1 = CALC + "\n\ndef sub(a, b):\n    return a - b\n"
CALC_2 = "from util import clamp\n\n\n" + CALC_1 + "\n\ndef bounded_add(a, b):\n    return clamp(add(a, b))\n"
UTIL = "def clamp(x, low=0, high=100):\n    return max(low, min(high, x))\n"
TEST = ("from calc import add, bounded_add, sub\n\n\ndef test_calc():\n    assert add(2, 3) == 5\n"
        "    assert sub(5, 3) == 2\n    assert bounded_add(99, 5) == 100\n")


def edit(command: str, **params: object) -> ToolUse:
    return ToolUse(EDITOR, {"command": command, **params})


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True).stdout


def make_project(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "dev@example.com")
    git(root, "config", "user.name", "Dev")
    (root / "calc.py").write_text(CALC)
    (root / "README.md").write_text("calc\n")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "initial")
    return root


def three_steps(verify: str | None = None) -> list[dict[str, Any]]:
    return [
        {"id": "1", "title": "Add sub()", "description": "Add sub(a, b) to calc.py.", "files": ["calc.py"],
         "depends_on": [], "verify": None},
        {"id": "2", "title": "Add bounded_add() with a clamp helper",
         "description": "Create util.py with clamp(); add bounded_add() to calc.py.",
         "files": ["util.py", "calc.py"], "depends_on": ["1"], "verify": None},
        {"id": "3", "title": "Test the calculator", "description": "Add tests/test_calc.py.", "role": "tester",
         "files": ["tests/test_calc.py"], "depends_on": ["2"], "verify": verify},
    ]


def architect_script(steps: list[dict[str, Any]],
                     summary: str = "Three steps: sub, bounded_add, tests.") -> list[Reply]:
    return [
        Reply([Text("Let me look."), edit("view", path="calc.py")]),
        Reply([ToolUse("submit_plan", {"summary": summary, "steps": steps})]),
        Reply.text("Planned in three steps."),
    ]


def step_scripts() -> dict[str, list[Reply]]:
    return {
        "1": [Reply([edit("str_replace", path="calc.py", old_str="    return a + b\n",
                          new_str="    return a + b\n\n\ndef sub(a, b):\n    return a - b\n")]),
              Reply.text("Added sub().")],
        "2": [Reply([edit("create", path="util.py", file_text=UTIL)]),
              Reply([edit("str_replace", path="calc.py", old_str="def add(a, b):\n",
                          new_str="from util import clamp\n\n\ndef add(a, b):\n")]),
              Reply([edit("str_replace", path="calc.py", old_str="    return a - b\n",
                          new_str="    return a - b\n\n\ndef bounded_add(a, b):\n    return clamp(add(a, b))\n")]),
              Reply.text("Added bounded_add().")],
        "3": [Reply([edit("create", path="tests/test_calc.py", file_text=TEST)]),
              Reply.text("Added tests.")],
    }


def first_text(request: RecordedRequest) -> str:
    content = request.body["messages"][0]["content"]
    if isinstance(content, str):
        return content
    return "".join(block.get("text", "") for block in content if isinstance(block, dict))


def session_key(request: RecordedRequest) -> str:
    match = re.search(r"^Your step: (\S+?)\. ", first_text(request), re.MULTILINE)
    return match.group(1) if match else "architect"


def routed(scripts: Mapping[str, Sequence[Reply | Fault]]) -> Any:
    """A responder: the reply for (session, turn)."""
    def respond(request: RecordedRequest) -> Reply | Fault:
        key = session_key(request)
        turn = sum(1 for m in request.body["messages"] if m["role"] == "assistant")
        script = scripts.get(key)
        if script is None or turn >= len(script):
            return Fault.error(400, f"no scripted reply for {key} turn {turn}", should_retry=False)
        return script[turn]
    return respond
