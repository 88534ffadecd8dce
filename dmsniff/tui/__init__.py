"""Terminal UI for dmsniff (Textual)."""
