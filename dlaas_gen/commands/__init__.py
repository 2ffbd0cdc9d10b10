"""What each command does, as a library: one module or package per command (the CLI is thin)."""
