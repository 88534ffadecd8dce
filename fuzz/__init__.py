"""Coverage-guided fuzz harnesses for every dmsniff decoder entry point (see fuzz/README.md)."""
