"""agent/tools."""
