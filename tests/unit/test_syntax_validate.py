"""Syntax validation: golden fixtures per language, messages, offsets, and introduced errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentls.syntax.issues import MAX_ISSUES
from agentls.syntax.languages import detect_language
from agentls.syntax.validate import SyntaxIssue, errors, introduced_errors

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "languages"
LANGUAGES = sorted(path.name for path in FIXTURES.iterdir() if path.is_dir())


def _position(text: str, offset: int) -> str:
    """1-based ``line:column`` of a code point offset, as the golden files write it."""
    line_start = text.rfind("\n", 0, offset) + 1
    return f"{text.count(chr(10), 0, offset) + 1}:{offset - line_start + 1}"


def _expected(language: str) -> dict[str, object]:
    return json.loads((FIXTURES / language / "expected.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def test_every_language_has_fixtures() -> None:
    assert len(LANGUAGES) == 21


@pytest.mark.parametrize("language", LANGUAGES)
def test_valid_fixture_has_no_errors(language: str) -> None:
    path = FIXTURES / language / str(_expected(language)["valid"])
    text = path.read_text(encoding="utf-8")
    assert detect_language(str(path), text=text) == language
    assert errors(text, language) == []


# Markdown has no broken fixture: every text is valid Markdown.
@pytest.mark.parametrize("language", [lang for lang in LANGUAGES if _expected(lang)["broken"] is not None])
def test_broken_fixture_gives_the_expected_issues(language: str) -> None:
    expected = _expected(language)
    path = FIXTURES / language / str(expected["broken"])
    text = path.read_text(encoding="utf-8")
    issues = errors(text, language)
    assert issues is not None
    got = [
        {"start": _position(text, i.start), "end": _position(text, i.end), "message": i.message}
        for i in issues
    ]
    assert got == expected["issues"]


@pytest.mark.parametrize(
    ("text", "issue", "marked"),
    [
        ("def f(:\n    pass\n", SyntaxIssue(6, 7, "missing ')'"), ":"),
        ("x = 1\n)\n", SyntaxIssue(6, 7, "unexpected ')'"), ")"),
        ("else:\n    pass\n", SyntaxIssue(0, 5, "unexpected 'else'"), "else:"),
        ("x = [1, 2\n", SyntaxIssue(4, 5, "unclosed '['"), "["),
        ("if x\n    pass\n", SyntaxIssue(0, 4, "unexpected 'if'"), "if x"),
        ("class A:\n    def f(self):\n        pass\n    x = [\n", SyntaxIssue(47, 48, "unclosed '['"), "["),
    ],
)
def test_python_messages_and_ranges(text: str, issue: SyntaxIssue, marked: str) -> None:
    assert errors(text, "python") == [issue]
    assert text[issue.start : issue.end] == marked


def test_missing_node_at_the_end_of_a_line_marks_the_character_before() -> None:
    text = "if (x) { y(); \n"
    assert errors(text, "javascript") == [SyntaxIssue(12, 13, "missing '}'")]


def test_unknown_language_is_not_validated() -> None:
    assert errors("anything", "cobol") is None
    assert introduced_errors("a", "b", "cobol") is None


def _same_length_ascii(text: str) -> str:
    return "".join(c if c.isascii() else "x" for c in text)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ('note = "日本語 🎉 café"\nvalue = (1 +\n', "python"),
        ("s = '🎉'\ndef f(:\n    pass\nelse:\n  pass\n", "python"),
        ("const 名前 = '🎉';\nif (x) { y = 名前 \n", "javascript"),
        ("x = '\ud800'\ny = )\n", "python"),  # a lone surrogate, as an LSP client may send
    ],
)
def test_offsets_are_code_points(text: str, language: str) -> None:
    issues = errors(text, language)
    assert issues
    # The same text with every non-ASCII character replaced by one ASCII character: same code point offsets.
    assert issues == errors(_same_length_ascii(text), language)


def test_a_one_character_range_covers_a_whole_non_ascii_character() -> None:
    text = "if (x) { y = 名前 \n"
    assert errors(text, "javascript") == [SyntaxIssue(14, 15, "missing '}'")]
    assert text[14] == "前"


def test_errors_are_capped() -> None:
    text = "".join(f"def f{i}(:\n    pass\n" for i in range(MAX_ISSUES * 2))
    issues = errors(text, "python")
    assert issues is not None
    assert len(issues) == MAX_ISSUES


def test_nested_errors_are_reported_once() -> None:
    issues = errors("foo(1, ) ) ]\n", "python") or []
    assert len(issues) == 1


BEFORE = """def load(path):
    with open(path) as f:
        return f.read()


def broken(:
    pass


def save(path, data):
    with open(path, "w") as f:
        f.write(data)
"""


def test_preexisting_error_is_not_introduced() -> None:
    after = BEFORE.replace("f.write(data)", "f.write(data.strip())")
    assert errors(after, "python")  # the old error is still there...
    assert introduced_errors(BEFORE, after, "python") == []  # ...but it is not new


def test_new_error_is_introduced_with_its_range_in_after() -> None:
    after = BEFORE.replace("f.write(data)", "f.write(data.strip()")
    introduced = introduced_errors(BEFORE, after, "python")
    assert introduced is not None
    assert len(introduced) == 1
    (issue,) = introduced
    assert issue.message == "unclosed '('"
    assert issue.start == after.index("f.write(") + len("f.write")


def test_moved_preexisting_error_is_not_introduced() -> None:
    header = '"""A module docstring that pushes everything down."""\n\nimport os\nimport sys\n\n\n'
    after = header + BEFORE
    assert errors(after, "python") != errors(BEFORE, "python")  # the old error moved...
    assert introduced_errors(BEFORE, after, "python") == []  # ...and is not reported


def test_error_on_an_edited_line_is_matched_character_by_character() -> None:
    after = BEFORE.replace("def broken(:", "def broken_renamed(:")
    assert introduced_errors(BEFORE, after, "python") == []


def test_fixing_an_error_introduces_nothing() -> None:
    after = BEFORE.replace("def broken(:", "def broken():")
    assert errors(after, "python") == []
    assert introduced_errors(BEFORE, after, "python") == []


def test_a_second_error_next_to_an_old_one_is_reported() -> None:
    # tree-sitter folds both into one ERROR here: what is reported is that one, now different, error.
    after = BEFORE.replace("    pass\n", "    pass\n\nelse:\n    pass\n", 1)
    assert introduced_errors(BEFORE, after, "python")


def test_introduced_errors_in_a_language_with_grammar_false_alarms() -> None:
    # tree-sitter-tsx reads a bare "&" in JSX text as an error: a comparison cancels it out.
    before = "const a = <p>Tom & Jerry</p>;\nconst b = 1;\n"
    after = before.replace("const b = 1;", "const b = 2;")
    assert errors(before, "tsx")
    assert introduced_errors(before, after, "tsx") == []


def test_known_grammar_false_alarms_stay_known() -> None:
    # Each of these is valid code the grammar reports an error in: the reason its language does not publish
    # diagnostics by default (see languages.toml). If one starts passing, the grammar improved: re-measure.
    assert errors("[\\`x\n", "markdown")  # every text is valid Markdown
    assert errors('{"a": [1, 2,],}\n', "jsonc")  # trailing commas are valid JSONC
    assert errors("const a = <p>Q&A</p>;\n", "javascript")  # '&' is valid JSX text
    assert errors('type T = import("./m").Box<string>;\n', "typescript")
