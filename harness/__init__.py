"""symmio-harness."""
