"""Persistent state in SQLite (stdlib sqlite3): sessions, usage and cost; the audit log beside it."""
