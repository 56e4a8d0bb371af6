"""Tree-sitter syntax: which language a file is in, parsing, and syntax errors.

- ``languages``: the language table (``agentls/grammars/languages.toml``) and ``detect_language``;
- ``parser``: grammars loaded lazily from the per-language wheels, ``parse``;
- ``validate``: the ``errors`` of a text, and the errors an edit introduced (matched through ``align``);
- ``bases``: texts parsed once (a session's bases), their later versions reparsed incrementally from their
  trees, told where the bytes changed by ``byte_diff``;
- ``document``: ``SyntaxDocument``, a text and its tree kept in step by incremental reparsing;
- ``issues``: how ERROR/MISSING nodes become ``SyntaxIssue`` ranges and messages; ``offsets``: code points
  <-> UTF-8 bytes.

Offsets in this package are Python ``str`` indices (code points); the LSP layer converts to UTF-16. A leaf
layer: stdlib, tree_sitter and the line diff of ``edits.lines`` (for ``align``).
"""
