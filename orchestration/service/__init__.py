"""The data service: a read-only HTTP API over a serving copy of the profile, tag, segment and
consent marts (docs/data-service.md). `publish` writes the copy after a build; `app` serves it."""
