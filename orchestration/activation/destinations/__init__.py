"""Destinations behind one interface (base.Destination); `build(sync)` picks the module."""

from __future__ import annotations

from orchestration.activation.config import AdAudience, FileDrop, Postgres, Sync, Webhook
from orchestration.activation.destinations.base import Batch, Destination, DestinationError


def build(sync: Sync) -> Destination:
    from orchestration.activation.destinations import ad_audience, file_drop, postgres, webhook

    kinds = {Webhook: webhook.WebhookDestination, FileDrop: file_drop.FileDropDestination,
             AdAudience: ad_audience.AdAudienceDestination, Postgres: postgres.PostgresDestination}
    return kinds[type(sync.destination)](sync)


__all__ = ["Batch", "Destination", "DestinationError", "build"]
