"""Tree-sitter syntax: which language a file is in, parsing, and syntax errors.

- ``languages``: the language table (``agentls/grammars/languages.toml``) and ``detect_language``;
- ``parser``: grammars loaded lazily from the per-language wheels, ``parse``;
- ``validate``: the ``errors`` of a text, and the errors an edit introduced (matched through ``align``);
- ``document``: ``SyntaxDocument``, a text and its tree kept in step by incremental reparsing;
- ``issues``: how ERROR/MISSING nodes become ``SyntaxIssue`` ranges and messages; ``offsets``: code points
  <-> UTF-8 bytes.

Offsets in this package are Python ``str`` indices (code points); the LSP layer converts to UTF-16. A leaf
layer: stdlib and tree_sitter only.
"""
