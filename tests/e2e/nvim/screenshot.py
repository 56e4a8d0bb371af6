"""Screenshots of a Neovim review for the README: a real Neovim in tmux (120x35), the real server, the fake
Messages API proposing 4 changes in 2 files. Not a test; run it by hand:

    .venv/bin/python tests/e2e/nvim/screenshot.py docs/screenshots

Writes neovim-progress.{txt,png} (the float while the agent works) and neovim-review.{txt,png} (the
review, the cursor on change 2 of 2 in calc.py). The .txt files are the ANSI captures (`tmux capture-pane
-e`); the .png files are those rendered to HTML and shot with a headless Chromium, when one is installed.
"""

from __future__ import annotations

import html
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from tests.e2e.harness import server_env  # noqa: E402
from tests.e2e.test_inline_edits import edit  # noqa: E402
from tests.fakes.messages_api import FakeMessagesAPI, Fault, Reply, Text  # noqa: E402

CALC = """def add(a, b):
    return a + b


def sub(a, b):
    return a - b


def mean(values):
    total = 0
    for v in values:
        total += v
    return total / len(values)
"""
UTIL = "def double(x):\n    return x * 2\n\n\ndef triple(x):\n    return x * 3\n"
THINKING = ("The helpers take numbers and return numbers. mean divides by zero on an empty list, "
            "so it should raise a clear error instead.")
INIT = """
vim.opt.runtimepath:prepend({plugin!r})
vim.cmd("runtime plugin/agentls.lua")
vim.o.termguicolors = true
vim.o.number = true
vim.o.signcolumn = "yes"
vim.o.laststatus = 2
vim.o.statusline = " %f %m%=%{{v:lua.require'agentls'.status()}} "
vim.o.shortmess = vim.o.shortmess .. "I"
require("agentls").setup({{ cmd = {{ {python!r}, "-m", "agentls", "serve" }} }})
"""
SESSION = "agentls-screenshot"


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], check=True, capture_output=True, text=True).stdout


def keys(*k: str) -> None:
    tmux("send-keys", "-t", SESSION, *k)
    time.sleep(0.4)


def capture() -> str:
    return tmux("capture-pane", "-p", "-e", "-N", "-t", SESSION)


def wait_for(text: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while text not in re.sub(r"\x1b\[[0-9;]*m", "", capture()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{text!r} never showed")
        time.sleep(0.2)


SGR = re.compile(r"\x1b\[([0-9;]*)m")
BASIC = ["#000000", "#cd3131", "#0dbc79", "#e5e510", "#2472c8", "#bc3fbc", "#11a8cd", "#e5e5e5"]
BRIGHT = ["#666666", "#f14c4c", "#23d18b", "#f5f543", "#3b8eea", "#d670d6", "#29b8db", "#ffffff"]


def _color256(n: int) -> str:
    if n < 8:
        return BASIC[n]
    if n < 16:
        return BRIGHT[n - 8]
    if n < 232:
        n -= 16
        steps = [0, 95, 135, 175, 215, 255]
        return f"#{steps[n // 36]:02x}{steps[(n // 6) % 6]:02x}{steps[n % 6]:02x}"
    level = 8 + (n - 232) * 10
    return f"#{level:02x}{level:02x}{level:02x}"


def to_html(ansi: str, fg0: str = "#e0e2ea", bg0: str = "#14161b") -> str:
    """The capture as HTML: one span per run of the same colours (24-bit, 256 and basic SGR codes)."""
    out: list[str] = []
    fg, bg, bold, ul = fg0, bg0, False, False
    for line in ansi.split("\n"):
        pos = 0
        for match in SGR.finditer(line + "\x1b[m"):
            text = line[pos:match.start()] if match.start() <= len(line) else line[pos:]
            if text:
                style = f"color:{fg};background:{bg}" + (";font-weight:bold" if bold else "") + \
                    (";text-decoration:underline" if ul else "")
                out.append(f'<span style="{style}">{html.escape(text)}</span>')
            pos = match.end()
            codes = [int(c) if c else 0 for c in match.group(1).split(";")] or [0]
            i = 0
            while i < len(codes):
                c = codes[i]
                if c == 0:
                    fg, bg, bold, ul = fg0, bg0, False, False
                elif c == 1:
                    bold = True
                elif c == 4:
                    ul = True
                elif c == 22:
                    bold = False
                elif c == 24:
                    ul = False
                elif c in (38, 48) and i + 1 < len(codes):
                    if codes[i + 1] == 2 and i + 4 < len(codes):
                        color = f"#{codes[i + 2]:02x}{codes[i + 3]:02x}{codes[i + 4]:02x}"
                        i += 4
                    elif codes[i + 1] == 5 and i + 2 < len(codes):
                        color = _color256(codes[i + 2])
                        i += 2
                    else:
                        color = fg0 if c == 38 else bg0
                    fg, bg = (color, bg) if c == 38 else (fg, color)
                elif c == 39:
                    fg = fg0
                elif c == 49:
                    bg = bg0
                elif 30 <= c <= 37:
                    fg = BASIC[c - 30]
                elif 40 <= c <= 47:
                    bg = BASIC[c - 40]
                elif 90 <= c <= 97:
                    fg = BRIGHT[c - 90]
                elif 100 <= c <= 107:
                    bg = BRIGHT[c - 100]
                i += 1
        out.append("\n")
    body = "".join(out)
    return (f'<html><body style="margin:0;background:{bg0}"><pre style="margin:8px;font:14px/1.25 '
            f"'DejaVu Sans Mono',monospace;color:{fg0};background:{bg0}\">{body}</pre></body></html>")


def shoot(ansi: str, out: Path) -> None:
    out.with_suffix(".txt").write_text(ansi)
    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if not browser:
        return
    page = out.with_suffix(".html")
    page.write_text(to_html(ansi))
    subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    f"--screenshot={out.with_suffix('.png')}", "--window-size=1024,650", page.as_uri()],
                   check=True, capture_output=True, timeout=60)
    page.unlink()


def main(dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, FakeMessagesAPI() as fake:
        work = Path(tmp) / "project"
        work.mkdir()
        (work / "calc.py").write_text(CALC)
        (work / "util.py").write_text(UTIL)
        subprocess.run(["git", "init", "-q"], cwd=work, check=True)
        fake.add(
            Reply([Text("I'll type the helpers and make mean safe."),
                   edit("str_replace", path="calc.py", old_str="def add(a, b):",
                        new_str="def add(a: int, b: int) -> int:"),
                   edit("str_replace", path="calc.py",
                        old_str="    total = 0\n    for v in values:\n        total += v\n"
                                "    return total / len(values)",
                        new_str="    if not values:\n        raise ValueError(\"mean of no values\")\n"
                                "    return sum(values) / len(values)"),
                   edit("str_replace", path="util.py", old_str="def double(x):", new_str="def double(x: int) -> int:"),
                   edit("str_replace", path="util.py", old_str="def triple(x):", new_str="def triple(x: int) -> int:")],
                  thinking=THINKING),
            Fault.delay(5.0, then=Reply.text("Typed the helpers; mean raises on an empty list.")),
        )
        init = Path(tmp) / "init.lua"
        init.write_text(INIT.format(plugin=str(ROOT / "clients" / "neovim"), python=sys.executable))
        home = Path(tmp) / "home"
        env = server_env(home, **fake.env(), AGENTLS_DATA_DIR=str(home / "agentls"))
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items()
                           if k.startswith(("ANTHROPIC", "AGENTLS", "XDG")))
        nvim = shutil.which("nvim", path=f"{Path(sys.executable).parent}:/usr/bin:/bin")
        cmd = (f"cd {shlex.quote(str(work))} && env TERM=tmux-256color COLORTERM=truecolor {exports} "
               f"{nvim} -u {init} calc.py")
        subprocess.run(["tmux", "kill-session", "-t", SESSION], capture_output=True)
        sock = Path(tmp) / "nvim.sock"
        tmux("new-session", "-d", "-s", SESSION, "-x", "120", "-y", "35", f"{cmd} --listen {sock}")
        try:
            ready = ("luaeval('#vim.lsp.get_clients({bufnr = 0}) > 0 "
                     "and vim.lsp.get_clients({bufnr = 0})[1].initialized')")
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                if sock.exists() and subprocess.run([str(nvim), "--server", str(sock), "--remote-expr", ready],
                                                    capture_output=True, text=True).stdout.strip() == "v:true":
                    break
                time.sleep(0.5)
            time.sleep(1)
            keys(":AgentTask type the helpers and make mean safe", "Enter")
            wait_for("turn 2")
            time.sleep(1)
            shoot(capture(), dest / "neovim-progress")
            wait_for("to review")
            time.sleep(1)
            keys(":AgentChanges", "Enter")
            time.sleep(1)
            keys(":wincmd p", "Enter")
            keys("gg")
            keys("]a")
            keys(":echo ''", "Enter")
            time.sleep(0.5)
            shoot(capture(), dest / "neovim-review")
        finally:
            subprocess.run(["tmux", "kill-session", "-t", SESSION], capture_output=True)


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "docs" / "screenshots"))
