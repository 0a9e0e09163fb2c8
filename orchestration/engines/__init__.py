"""Engine-specific plumbing that dbt does not provide (docs/engines.md)."""
