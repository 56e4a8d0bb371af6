"""The War Room: a local web dashboard over the store (``docs/dashboard.md``); the only importer of Starlette."""
