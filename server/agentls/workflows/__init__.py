"""What a command does, independent of who asked: the CLI and the language server share these."""
