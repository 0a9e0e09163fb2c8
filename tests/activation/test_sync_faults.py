"""Fault injection: a sync process against a receiver that answers with random 429s, 500s,
slow replies and dropped connections is killed (SIGKILL) twice in the middle of its run,
then restarted; each kill lands after the receiver applied a batch and before the sync heard
back. The destination ends with exactly the intended audience, nothing lost, and
no operation applied twice (every batch the receiver applied carried new ops)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest
from sync_helpers import SECRET, MiniWarehouse

from orchestration.activation.receiver import Receiver
from orchestration.config import PROJECT_DIR

SYNC = """
source: {segment: seg}
destination:
  type: webhook
  url_env: FAULT_HOOK_URL
  secret_env: FAULT_HOOK_SECRET
  rate_limit_per_second: 40
  timeout_seconds: 0.5
  max_attempts: 20
  backoff_seconds: 0.02
  max_backoff_seconds: 0.2
mode: mirror
consent_channel: sms
fields: {tier: loyalty_tier}
batch_size: 10
"""


def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


@pytest.mark.slow
def test_killed_syncs_resume_without_loss_or_double_application(tmp_path):
    mini = MiniWarehouse(tmp_path / "wh.duckdb")
    for i in range(300):
        mini.customer(f"c{i:03d}", granted=i % 7 != 0)  # every 7th has revoked sms consent
    mini.wh.close()
    intended = {f"c{i:03d}" for i in range(300) if i % 7 != 0}

    receiver = Receiver(SECRET.encode(), faults=0.3, seed=11, slow_seconds=0.8)  # slower than the timeout
    # the 6th and 14th batches are applied, then their replies held while the client is killed:
    # the destination has them, the sync's state does not
    receiver.stall_after = {6: 3.0, 14: 3.0}
    url = receiver.start()
    syncs = tmp_path / "syncs"
    syncs.mkdir()
    (syncs / "fault_sync.yml").write_text(SYNC)
    env = {**os.environ, "CDP_DUCKDB_PATH": str(tmp_path / "wh.duckdb"), "CDP_TARGET": "duckdb",
           "CDP_ACTIVATION_SYNCS_DIR": str(syncs), "FAULT_HOOK_URL": url, "FAULT_HOOK_SECRET": SECRET}
    command = [sys.executable, "-m", "orchestration.cli", "sync", "--sync", "fault_sync"]
    try:
        for kill_after in (6, 14):  # batches applied by the receiver before the kill
            proc = subprocess.Popen(command, cwd=PROJECT_DIR, env=env, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT)
            wait_for(lambda n=kill_after, p=proc: len(receiver.applied_keys) >= n or p.poll() is not None,
                     120, f"{kill_after} applied batches")
            time.sleep(0.2)  # inside the held reply
            assert proc.poll() is None, f"the sync ended before it could be killed: {proc.stdout.read()!r}"
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
        done = subprocess.run(command, cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
    finally:
        receiver.stop()

    assert set(receiver.audience) == intended  # nothing lost, nobody without consent
    applied = Counter((op["op"], op["key"]) for body in receiver.bodies for op in body["operations"])
    assert set(applied) == {("add", k) for k in intended}
    assert max(applied.values()) == 1  # no op applied twice: resumed batches were recognised
    assert receiver.replayed >= 2  # both batches in flight at a kill were re-sent with their key
    assert len(set(receiver.applied_keys)) == len(receiver.applied_keys) == len(intended) // 10 + 1
    assert sum(receiver.faults_served.values()) > 0, receiver.faults_served
    mini = MiniWarehouse.__new__(MiniWarehouse)
    from orchestration.ingest.warehouse import DuckDBWarehouse

    mini.wh = DuckDBWarehouse(tmp_path / "wh.duckdb")
    try:
        statuses = Counter(s for (s,) in mini.one("select status from activation.sync_runs"))
        assert statuses == {"abandoned": 2, "succeeded": 1}
        assert set(mini.state("fault_sync")) == intended
    finally:
        mini.wh.close()
