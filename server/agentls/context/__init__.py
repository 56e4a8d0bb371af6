"""The context engine: what the model is shown besides the user's instruction.

- ``tags``: definitions, references and enclosing scopes per file, from tree-sitter queries.
- ``index_db`` / ``build``: the symbol index, one SQLite file per workspace, built in the background
  (a separate process with worker processes) and kept current file by file.
- ``graph`` / ``repomap``: the reference graph between files, ranked by personalised PageRank towards
  what is in play, rendered as a repo map fitted to a token budget.
- ``assemble``: the context of one edit, part by part, each with its budget.
- ``engine``: the facade the language server and the CLI use.
"""
