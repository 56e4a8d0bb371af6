"""The provider-agnostic agent loop: session, turns, tool dispatch, budget, memory files."""
