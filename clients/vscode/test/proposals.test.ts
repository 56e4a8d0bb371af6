import { test, describe } from "node:test";
import * as assert from "node:assert/strict";

import {
  canTransition,
  ChangeLog,
  classifyChange,
  decorationsFor,
  ProposalStore,
  Range,
  serverSettings,
  shiftPosition,
  TextChange,
  WireProposal,
} from "../src/proposals";

function r(sl: number, sc: number, el: number, ec: number): Range {
  return { start: { line: sl, character: sc }, end: { line: el, character: ec } };
}

function change(range: Range, text: string): TextChange {
  return { range, text };
}

// calc.py: 0 "import os", 1 "", 2 "def add(a, b):", 3 "    return a + b", 4 "", 5 "def sub(a, b):", 6 "    return a - b"
function proposal(): WireProposal {
  return {
    id: "p1",
    uri: "file:///w/calc.py",
    path: "calc.py",
    version: 3,
    summary: "hints",
    validation: [],
    hunks: [
      { id: "h1", state: "pending", oldText: "def add(a, b):\n", newText: "def add(a: int, b: int) -> int:\n", range: r(2, 0, 3, 0) },
      { id: "h2", state: "pending", oldText: "def sub(a, b):\n", newText: "def sub(a: int, b: int) -> int:\n", range: r(5, 0, 6, 0) },
    ],
  };
}

describe("positions under edits", () => {
  test("a line inserted above moves a position down", () => {
    assert.deepEqual(shiftPosition({ line: 5, character: 2 }, change(r(1, 0, 1, 0), "x = 1\n")), { line: 6, character: 2 });
  });
  test("a deleted block above moves it up", () => {
    assert.deepEqual(shiftPosition({ line: 5, character: 0 }, change(r(1, 0, 3, 0), "")), { line: 3, character: 0 });
  });
  test("text typed before it on the same line moves the character", () => {
    assert.deepEqual(shiftPosition({ line: 2, character: 7 }, change(r(2, 3, 2, 5), "abcd")), { line: 2, character: 9 });
  });
  test("a multi-line insertion ending on its line", () => {
    assert.deepEqual(shiftPosition({ line: 2, character: 7 }, change(r(2, 3, 2, 3), "a\nbc")), { line: 3, character: 6 });
  });
});

describe("hunk ranges follow the text", () => {
  test("edits above shift every pending hunk", () => {
    const store = new ProposalStore();
    store.add(proposal());
    const stale = store.applyChanges("file:///w/calc.py", [change(r(1, 0, 1, 0), "import sys\n\n")]);
    assert.equal(stale.length, 0);
    assert.deepEqual(store.pending("file:///w/calc.py").map((h) => h.range), [r(4, 0, 5, 0), r(7, 0, 8, 0)]);
  });

  test("deleting lines above shifts up", () => {
    const store = new ProposalStore();
    store.add(proposal());
    store.applyChanges("file:///w/calc.py", [change(r(0, 0, 2, 0), "")]);
    assert.deepEqual(store.pending("file:///w/calc.py").map((h) => h.range), [r(0, 0, 1, 0), r(3, 0, 4, 0)]);
  });

  test("an edit inside a hunk marks it stale and leaves the others pending", () => {
    const store = new ProposalStore();
    store.add(proposal());
    const stale = store.applyChanges("file:///w/calc.py", [change(r(2, 4, 2, 7), "plus")]);
    assert.deepEqual(stale.map((h) => h.id), ["h1"]);
    assert.equal(store.get("p1")!.hunks[0]!.state, "stale");
    assert.deepEqual(store.pending("file:///w/calc.py").map((h) => [h.id, h.range]), [["h2", r(5, 0, 6, 0)]]);
  });

  test("an edit between hunks moves only the hunks below it", () => {
    const store = new ProposalStore();
    store.add(proposal());
    store.applyChanges("file:///w/calc.py", [change(r(4, 0, 4, 0), "\n\n")]);
    assert.deepEqual(store.pending("file:///w/calc.py").map((h) => h.range), [r(2, 0, 3, 0), r(7, 0, 8, 0)]);
  });

  test("typing at the start of a hunk's first line is an overlap; a whole new line above is not", () => {
    assert.equal(classifyChange(r(2, 0, 3, 0), change(r(2, 0, 2, 0), "x")), "overlap");
    assert.equal(classifyChange(r(2, 0, 3, 0), change(r(2, 0, 2, 0), "x\n")), "before");
    assert.equal(classifyChange(r(2, 0, 3, 0), change(r(3, 0, 3, 0), "x")), "after");
    assert.equal(classifyChange(r(2, 0, 3, 0), change(r(1, 3, 2, 0), "")), "overlap"); // joins line 1 and 2
    assert.equal(classifyChange(r(2, 0, 3, 0), change(r(2, 14, 3, 0), "")), "overlap"); // removes its newline
  });

  test("several content changes apply in order (VS Code sends them bottom-up)", () => {
    const store = new ProposalStore();
    store.add(proposal());
    store.applyChanges("file:///w/calc.py", [change(r(4, 0, 4, 0), "#\n"), change(r(0, 0, 0, 0), "#\n")]);
    assert.deepEqual(store.pending("file:///w/calc.py").map((h) => h.range), [r(3, 0, 4, 0), r(7, 0, 8, 0)]);
  });

  test("a pure insertion hunk moves with edits above and goes stale when its line is typed on", () => {
    const store = new ProposalStore();
    store.add({ ...proposal(), hunks: [{ id: "h1", state: "pending", oldText: "", newText: "x = 1\n", range: r(3, 0, 3, 0) }] });
    store.applyChanges("file:///w/calc.py", [change(r(0, 0, 0, 0), "\n")]);
    assert.deepEqual(store.pending("file:///w/calc.py")[0]!.range, r(4, 0, 4, 0));
    store.applyChanges("file:///w/calc.py", [change(r(4, 0, 4, 0), "y")]);
    assert.equal(store.pending("file:///w/calc.py").length, 0);
  });

  test("other documents are untouched", () => {
    const store = new ProposalStore();
    store.add(proposal());
    store.applyChanges("file:///w/other.py", [change(r(0, 0, 0, 0), "\n\n")]);
    assert.deepEqual(store.pending("file:///w/calc.py")[0]!.range, r(2, 0, 3, 0));
  });
});

describe("decoration ranges", () => {
  test("a replacement strikes the old lines and shows the new text after them", () => {
    const d = decorationsFor({ range: r(2, 0, 3, 0), oldText: "def add(a, b):\n", newText: "def add(a: int, b: int) -> int:\n" });
    assert.deepEqual(d.deleted, { startLine: 2, endLine: 2 });
    assert.deepEqual(d.added, [{ line: 2, at: "end", text: "def add(a: int, b: int) -> int:" }]);
    assert.equal(d.lensLine, 2);
  });

  test("a replacement with more new lines pairs what it can and counts the rest (never joined on one line)", () => {
    const d = decorationsFor({ range: r(2, 0, 4, 0), oldText: "a\nb\n", newText: "A\nB\nC\n" });
    assert.deepEqual(d.deleted, { startLine: 2, endLine: 3 });
    assert.deepEqual(d.added, [
      { line: 2, at: "end", text: "A" },
      { line: 3, at: "end", text: "B" },
    ]);
    assert.equal(d.more, 1);
  });

  test("a replacement with fewer new lines leaves the extra old lines only struck", () => {
    const d = decorationsFor({ range: r(2, 0, 5, 0), oldText: "a\nb\nc\n", newText: "ab\n" });
    assert.deepEqual(d.deleted, { startLine: 2, endLine: 4 });
    assert.deepEqual(d.added, [{ line: 2, at: "end", text: "ab" }]);
  });

  test("an insertion is all real lines for the diff editor: nothing inline, every line counted", () => {
    const d = decorationsFor({ range: r(3, 0, 3, 0), oldText: "", newText: "x = 1\ny = 2\n" });
    assert.equal(d.deleted, null);
    assert.deepEqual(d.added, []);
    assert.equal(d.more, 2);
    assert.equal(d.lensLine, 3);
  });

  test("a deletion only strikes lines", () => {
    const d = decorationsFor({ range: r(4, 0, 6, 0), oldText: "x\ny\n", newText: "" });
    assert.deepEqual(d.deleted, { startLine: 4, endLine: 5 });
    assert.deepEqual(d.added, []);
  });

  test("a last line without a newline", () => {
    const d = decorationsFor({ range: r(6, 0, 6, 16), oldText: "    return a - b", newText: "    return b - a" });
    assert.deepEqual(d.deleted, { startLine: 6, endLine: 6 });
    assert.deepEqual(d.added, [{ line: 6, at: "end", text: "    return b - a" }]);
  });
});

describe("accept / reject state transitions", () => {
  test("the allowed transitions", () => {
    assert.ok(canTransition("pending", "accepted"));
    assert.ok(canTransition("pending", "rejected"));
    assert.ok(canTransition("pending", "conflict"));
    assert.ok(canTransition("pending", "stale"));
    assert.ok(canTransition("stale", "accepted"), "the server may still rebase a locally stale hunk");
    assert.ok(!canTransition("stale", "pending"));
    assert.ok(!canTransition("accepted", "rejected"));
    assert.ok(!canTransition("rejected", "accepted"));
    assert.ok(!canTransition("conflict", "pending"));
    assert.ok(canTransition("conflict", "accepted"), "force takes the agent's version");
  });

  test("accepting one hunk keeps the proposal; resolving the rest forgets it", () => {
    const store = new ProposalStore();
    store.add(proposal());
    store.applyResult("p1", { applied: ["h1"], rejected: [], conflicts: [] });
    assert.deepEqual(store.pending("file:///w/calc.py").map((h) => h.id), ["h2"]);
    store.applyResult("p1", { applied: [], rejected: ["h2"], conflicts: [] });
    assert.equal(store.get("p1"), undefined);
    assert.deepEqual(store.pending("file:///w/calc.py"), []);
  });

  test("a conflict stays visible until the user resolves it (take the agent's version or reject)", () => {
    const store = new ProposalStore();
    store.add(proposal());
    store.applyResult("p1", { applied: [], rejected: ["h2"], conflicts: ["h1"] });
    assert.equal(store.get("p1")!.hunks[0]!.state, "conflict");
    assert.deepEqual(store.unresolved("file:///w/calc.py").map((h) => h.id), ["h1"]);
    assert.ok(!canTransition("conflict", "pending"));
    store.applyResult("p1", { applied: ["h1"], rejected: [], conflicts: [] });
    assert.equal(store.get("p1"), undefined);
  });

  test("agentls/proposalResolved updates states and clears a resolved proposal", () => {
    const store = new ProposalStore();
    store.add(proposal());
    assert.equal(store.resolve({ proposalId: "p1", uri: "file:///w/calc.py", resolved: false, hunks: [{ id: "h2", state: "stale" }] }),
      "file:///w/calc.py");
    assert.deepEqual(store.pending("file:///w/calc.py").map((h) => h.id), ["h1"]);
    store.resolve({ proposalId: "p1", uri: "file:///w/calc.py", resolved: true, hunks: [{ id: "h1", state: "accepted" }] });
    assert.equal(store.get("p1"), undefined);
    assert.equal(store.resolve({ proposalId: "p1", uri: "file:///w/calc.py", resolved: true, hunks: [] }), undefined);
  });

  test("navigation: hunk at a line, next and previous wrap around", () => {
    const store = new ProposalStore();
    store.add(proposal());
    const uri = "file:///w/calc.py";
    assert.equal(store.hunkAt(uri, 2)?.id, "h1");
    assert.equal(store.hunkAt(uri, 4)?.id, "h2");
    assert.equal(store.hunkAt(uri, 9)?.id, "h2");
    assert.equal(store.next(uri, 2)?.id, "h2");
    assert.equal(store.next(uri, 5)?.id, "h1");
    assert.equal(store.previous(uri, 5)?.id, "h1");
    assert.equal(store.previous(uri, 2)?.id, "h2");
  });
});

describe("settings sent to the server", () => {
  test("client-only keys and unset values are left out, nesting kept", () => {
    assert.deepEqual(
      serverSettings({
        serverCommand: ["agentls", "serve"],
        model: { name: null, maxTokens: 4096 },
        review: "inline",
        diagnostics: { enabled: true, debounceMs: null },
        checkpoints: {},
      }),
      { model: { maxTokens: 4096 }, review: "inline", diagnostics: { enabled: true } },
    );
  });
});

describe("a proposal that arrives after the user typed", () => {
  test("the changes since its version move its hunks", () => {
    const log = new ChangeLog();
    const uri = "file:///w/calc.py";
    log.record(uri, 4, [change(r(0, 0, 0, 0), "# a\n")]);
    log.record(uri, 5, [change(r(0, 0, 0, 0), "# b\n")]);
    const store = new ProposalStore();
    store.add(proposal()); // computed for version 3
    store.applyChanges(uri, log.since(uri, 3, 5)!);
    assert.deepEqual(store.pending(uri).map((h) => h.range), [r(4, 0, 5, 0), r(7, 0, 8, 0)]);
    assert.deepEqual(log.since(uri, 4, 5), [change(r(0, 0, 0, 0), "# b\n")]);
    assert.deepEqual(log.since(uri, 5, 5), []);
  });

  test("a gap in the log is reported, not guessed", () => {
    const log = new ChangeLog(1);
    log.record("u", 4, []);
    log.record("u", 5, []);
    assert.equal(log.since("u", 3, 5), undefined);
    assert.deepEqual(log.since("u", 4, 5), []);
  });
});
