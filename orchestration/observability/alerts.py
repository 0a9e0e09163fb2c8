"""Alerts: failed runs and failed checks go to a webhook (CDP_ALERT_WEBHOOK_URL, a JSON
POST) when one is configured, and to the log always."""


import json
import logging
import os
import urllib.request

import dagster as dg

log = logging.getLogger("tianwen.alerts")


def send_alert(title: str, details: list[str] | str, logger=None) -> bool:
    """Log the alert; POST it to CDP_ALERT_WEBHOOK_URL if set. True if the webhook took it."""
    (logger or log).error(f"ALERT {title}: {details}")
    url = os.environ.get("CDP_ALERT_WEBHOOK_URL")
    if not url:
        return False
    body = json.dumps({"title": title, "details": details, "source": "tianwen"}).encode()
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return 200 <= response.status < 300
    except OSError as exc:  # an alert must never break the pipeline
        (logger or log).error(f"alert webhook {url} failed: {exc}")
        return False


@dg.run_failure_sensor(name="alert_on_run_failure", default_status=dg.DefaultSensorStatus.RUNNING)
def alert_on_run_failure(context: dg.RunFailureSensorContext):
    """Every failed run raises an alert."""
    send_alert(f"Dagster run {context.dagster_run.run_id} of {context.dagster_run.job_name} failed",
               context.failure_event.message or "", logger=context.log)
