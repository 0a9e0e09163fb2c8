"""Profiles, tags and segments: the demo summary and the Dagster metadata they publish."""
