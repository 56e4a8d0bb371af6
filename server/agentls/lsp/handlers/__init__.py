"""LSP handlers, one module per feature. Each parses its params, calls the core, converts back."""
