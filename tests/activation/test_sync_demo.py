"""`make demo`'s activation step: the example syncs against a local webhook and file drops,
printing what was sent, suppressed and held out."""

from __future__ import annotations

import re


def test_the_demo_syncs_to_a_local_webhook_and_file_drops(mini, monkeypatch, tmp_path, capsys):
    from orchestration.activation import demo

    for i in range(40):
        for segment in ("lapsed_buyers", "browsed_never_bought", "high_value_at_risk"):
            mini.customer(f"{segment[:3]}{i}", segment=segment, mobile=f"138000000{i:02d}",
                          granted=i % 4 != 0, channels=("sms", "push", "ads"))
    mini.wh.close()
    monkeypatch.setenv("CDP_TARGET", "duckdb")
    monkeypatch.setenv("CDP_DUCKDB_PATH", str(mini.wh.path))
    monkeypatch.setenv("CDP_ACTIVATION_DIR", str(tmp_path / "out"))
    monkeypatch.delenv("CDP_SYNC_CRM_DSN", raising=False)
    assert demo.main() == 0
    text = capsys.readouterr().out
    lapsed = re.search(r"40 in segment lapsed_buyers: 10 suppressed .*?, (\d+) held out .*?; sent (\d+) added", text)
    assert lapsed, text
    held, sent = int(lapsed.group(1)), int(lapsed.group(2))
    assert held + sent == 30
    assert re.search(r"holds (\d+) recipients", text).group(1) == str(sent)
    assert "browsed_never_bought_push" in text and "new_members_crm (PostgreSQL upsert) skipped" in text
    assert list((tmp_path / "out" / "push" / "browsed_never_bought_push").glob("*.manifest.json"))
    assert list((tmp_path / "out" / "ads" / "high_value_at_risk_tencent").glob("*-add-mobile.txt"))
