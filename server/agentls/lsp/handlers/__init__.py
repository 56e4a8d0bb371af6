"""lsp/handlers."""
