import { test, describe } from "node:test";
import * as assert from "node:assert/strict";

import { keyHint } from "../src/keys";
import { Hunk, ProposalStore, Range } from "../src/proposals";
import { byFile, countText, hunkLabel, hunkStats, proposedText, spanAt } from "../src/review";
import { cut, endMessage, statusLine } from "../src/status";

function r(sl: number, sc: number, el: number, ec: number): Range {
  return { start: { line: sl, character: sc }, end: { line: el, character: ec } };
}

function hunk(id: string, range: Range, oldText: string, newText: string, extra: Partial<Hunk> = {}): Hunk {
  return { id, proposalId: "p1", state: "pending", oldText, newText, range, ...extra };
}

const BASE = "import os\n\ndef add(a, b):\n    return a + b\n";

describe("the proposed text (the diff editor's right side)", () => {
  test("a 10-line insertion is 10 real lines, and later hunks move down", () => {
    const ten = Array.from({ length: 10 }, (_, i) => `x${i} = ${i}\n`).join("");
    const { text, spans } = proposedText(BASE, [
      hunk("h2", r(2, 0, 3, 0), "def add(a, b):\n", "def add(a: int, b: int) -> int:\n"),
      hunk("h1", r(1, 0, 1, 0), "", ten),
    ]);
    const lines = text.split("\n");
    assert.deepEqual(lines.slice(1, 11), Array.from({ length: 10 }, (_, i) => `x${i} = ${i}`));
    assert.equal(lines[12], "def add(a: int, b: int) -> int:");
    assert.deepEqual(spans.map((s) => [s.hunk.id, s.line, s.added, s.removed]), [["h1", 1, 10, 0], ["h2", 12, 1, 1]]);
    assert.equal(spanAt(spans, 5)?.hunk.id, "h1");
    assert.equal(spanAt(spans, 11)?.hunk.id, "h2");
  });

  test("a new file is the whole text; a deletion leaves no line", () => {
    assert.equal(proposedText("", [hunk("h1", r(0, 0, 0, 0), "", "a\nb\n")]).text, "a\nb\n");
    const { text, spans } = proposedText(BASE, [hunk("h1", r(0, 0, 2, 0), "import os\n\n", "")]);
    assert.equal(text, "def add(a, b):\n    return a + b\n");
    assert.deepEqual([spans[0]!.line, spans[0]!.added, spans[0]!.removed], [0, 0, 2]);
  });

  test("a hunk overlapping an earlier one is left out", () => {
    const { spans } = proposedText(BASE, [hunk("a", r(0, 0, 3, 0), "x", "y\n"), hunk("b", r(2, 0, 3, 0), "x", "z\n")]);
    assert.deepEqual(spans.map((s) => s.hunk.id), ["a"]);
  });
});

describe("names and lists", () => {
  test("the server's label, else one built the same way", () => {
    assert.equal(hunkLabel(hunk("h1", r(24, 0, 25, 0), "", "", { label: "change 2 of 4, line 25" }), 9, 9), "change 2 of 4, line 25");
    assert.equal(hunkLabel(hunk("h1", r(24, 0, 25, 0), "", ""), 2, 4), "change 2 of 4, line 25");
    assert.equal(hunkStats({ oldText: "a\n", newText: "b\nc\n" }), "+2 −1");
    assert.equal(countText(4, 2), "4 changes in 2 files");
    assert.equal(countText(1, 1), "1 change");
  });

  test("pending changes by file: conflicts stay, resolved hunks go, new files marked", () => {
    const store = new ProposalStore();
    store.add({ id: "p1", uri: "file:///w/b.py", path: "/w/b.py", hunks: [
      { id: "h1", state: "pending", oldText: "", newText: "x\n", range: r(3, 0, 3, 0) },
      { id: "h2", state: "conflict", oldText: "a\n", newText: "b\n", currentText: "c\n", range: r(0, 0, 1, 0) },
    ] });
    store.add({ id: "p2", uri: "file:///w/a_test.py", path: "/w/a_test.py", kind: "create", hunks: [
      { id: "h1", state: "pending", oldText: "", newText: "def test():\n    pass\n", range: r(0, 0, 0, 0) },
    ] });
    const files = byFile(store.all());
    assert.deepEqual(files.map((f) => [f.path, f.kind, f.hunks.map((h) => h.id)]),
      [["/w/a_test.py", "create", ["h1"]], ["/w/b.py", "modify", ["h2", "h1"]]]);
    assert.equal(files[1]!.hunks[0]!.currentText, "c\n");
  });
});

describe("session status", () => {
  test("the status line, the end line and cuts at a word", () => {
    assert.equal(statusLine({ sessionId: "s", state: "running", turn: 2, activity: "reading core.py", tokens: 12345, cost: 0.0123 }),
      "turn 2 · reading core.py · 12,345 tokens · $0.0123");
    assert.equal(statusLine({ sessionId: "s", state: "running" }), "starting");
    assert.equal(endMessage({ sessionId: "s", state: "done", message: "4 changes proposed in 2 files", changes: { count: 4, files: 2 } }),
      "4 changes proposed in 2 files: review in Pending Changes");
    assert.equal(endMessage({ sessionId: "s", state: "done", message: "no changes proposed", changes: { count: 0, files: 0 } }),
      "no changes proposed");
    assert.equal(cut("retrying in 8 s: the API is overloaded", 20), "retrying in 8 s:…");
    assert.equal(keyHint("accept", "linux"), " (Ctrl+Alt+Y)");
  });
});
