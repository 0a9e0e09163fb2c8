"""`tianwen sync`: dry run, one sync by name, exit codes, a wrong name or file fails early."""

from __future__ import annotations

import pytest

from orchestration.cli import main

SYNC = """
source: {segment: seg}
destination: {type: webhook, url_env: TEST_HOOK_URL, secret_env: TEST_HOOK_SECRET, backoff_seconds: 0.01}
mode: mirror
consent_channel: sms
fields: {tier: loyalty_tier}
"""


@pytest.fixture()
def cli_env(mini, receiver, monkeypatch, tmp_path):
    for i in range(3):
        mini.customer(f"c{i}")
    mini.customer("c_revoked", granted=False)
    mini.wh.close()
    syncs = tmp_path / "syncs"
    syncs.mkdir()
    (syncs / "sms.yml").write_text(SYNC)
    monkeypatch.setenv("CDP_ACTIVATION_SYNCS_DIR", str(syncs))
    monkeypatch.setenv("CDP_TARGET", "duckdb")
    monkeypatch.setenv("CDP_DUCKDB_PATH", str(mini.wh.path))
    return syncs


def test_dry_run_prints_the_diff_and_sends_nothing(cli_env, receiver, capsys):
    assert main(["sync", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "sms -> webhook: 4 members, 1 suppressed, 0 held out, 3 to hold; would add 3" in out
    assert "sample: add c0, add c1, add c2" in out
    assert receiver.requests == 0


def test_sync_sends_then_reports_rejections_with_exit_code_3(cli_env, receiver, capsys):
    receiver.reject = {"c1"}
    assert main(["sync", "--sync", "sms"]) == 3
    assert "added 2" in capsys.readouterr().out
    receiver.reject = set()
    assert main(["sync"]) == 0
    assert set(receiver.audience) == {"c0", "c1", "c2"}


def test_an_unknown_sync_or_a_broken_file_fails_early_naming_it(cli_env, capsys):
    assert main(["sync", "--sync", "nope"]) == 2
    assert "no sync named nope" in capsys.readouterr().err
    (cli_env / "broken.yml").write_text(SYNC.replace("mode: mirror", "mode: sometimes"))
    assert main(["sync", "--dry-run"]) == 2
    assert "broken.yml: mode" in capsys.readouterr().err


def test_a_failed_sync_exits_2_and_raises_the_alert(cli_env, webhook, monkeypatch, capsys):
    url, alerts = webhook
    monkeypatch.setenv("CDP_ALERT_WEBHOOK_URL", url)
    monkeypatch.setenv("TEST_HOOK_SECRET", "wrong")
    assert main(["sync"]) == 2
    assert "sms: FAILED" in capsys.readouterr().out
    assert alerts and alerts[0]["title"] == "activation sync sms failed"
