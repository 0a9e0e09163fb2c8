from orchestration.observability.alerts import send_alert


def test_alert_posts_to_the_configured_webhook(webhook, monkeypatch):
    url, received = webhook
    monkeypatch.setenv("CDP_ALERT_WEBHOOK_URL", url)
    assert send_alert("run failed", ["step x"]) is True
    assert received == [{"title": "run failed", "details": ["step x"], "source": "tianwen"}]


def test_without_a_webhook_the_alert_is_logged(monkeypatch, caplog):
    monkeypatch.delenv("CDP_ALERT_WEBHOOK_URL", raising=False)
    assert send_alert("check failed", "gx_raw_crm_members") is False
    assert "ALERT check failed" in caplog.text


def test_an_unreachable_webhook_does_not_raise(monkeypatch, caplog):
    monkeypatch.setenv("CDP_ALERT_WEBHOOK_URL", "http://127.0.0.1:9/nowhere")
    assert send_alert("run failed", []) is False
    assert "alert webhook" in caplog.text
