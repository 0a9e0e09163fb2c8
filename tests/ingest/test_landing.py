"""Every entry under the landing folder is a candidate or rejected with a reason; files still
being written wait; done markers are honoured; the sensor sees only settled files."""

import os
import time

from orchestration.ingest import landing

HEADER = "member_id,mobile\n"


def _tree(root):
    (root / "crm_members" / "2025" / "11").mkdir(parents=True)
    (root / "crm_members" / "2025" / "11" / "21.csv").write_text(HEADER + "M1,\n")
    (root / "crm_members" / "a.csv").write_text(HEADER + "M2,\n")
    (root / "crm_members" / ".upload.tmp").write_text("partial")  # hidden: an uploader's
    (root / "crm_members" / "notes.txt").write_text("hi")
    (root / "crm_members" / "_SUCCESS").write_text("")
    os.mkfifo(root / "crm_members" / "pipe.csv")
    (root / "crm_members" / "dangling.csv").symlink_to(root / "nowhere.csv")
    (root / "ftp_dump" / "x").mkdir(parents=True)
    (root / "ftp_dump" / "x" / "y.csv").write_text("a\n1\n")
    (root / "empty_unknown").mkdir()
    (root / "stray.csv").write_text("a\n1\n")
    return root


def test_scan_finds_nested_files_and_gives_every_other_entry_a_reason(tmp_path):
    candidates, rejected = landing.scan(_tree(tmp_path))
    assert [(e.rel, e.source.name, e.fmt) for e in candidates] == [
        ("crm_members/2025/11/21.csv", "crm_members", "csv"),
        ("crm_members/a.csv", "crm_members", "csv")]
    reasons = {e.rel: e.reason for e in rejected}
    assert reasons["crm_members/pipe.csv"].startswith("not a regular file (a FIFO)")
    assert "broken link" in reasons["crm_members/dangling.csv"]
    assert reasons["crm_members/notes.txt"].startswith("unsupported type")
    assert reasons["ftp_dump/x/y.csv"].startswith("unknown source")
    assert reasons["empty_unknown/"].startswith("unknown source")
    assert reasons["stray.csv"].startswith("outside a source folder")
    assert len(reasons) == 6  # hidden files and the done marker are not reported


def test_a_file_that_keeps_changing_waits_and_a_settled_one_loads(tmp_path, monkeypatch):
    monkeypatch.setenv("CDP_LANDING_STABLE_SECONDS", "0.6")
    (tmp_path / "crm_members").mkdir()
    old, growing = tmp_path / "crm_members" / "old.csv", tmp_path / "crm_members" / "new.csv"
    old.write_text(HEADER + "M1,\n")
    os.utime(old, (time.time() - 60, time.time() - 60))
    growing.write_text(HEADER)
    candidates, _ = landing.scan(tmp_path)
    # the sensor does not wait: only the settled file counts
    assert list(landing.ready_snapshot(tmp_path)) == ["crm_members/old.csv"]

    import threading

    def keep_writing():
        for i in range(6):
            time.sleep(0.15)
            with growing.open("a") as fh:
                fh.write(f"M{i},\n")

    writer = threading.Thread(target=keep_writing)
    writer.start()
    ready, pending = landing.ready(candidates)
    writer.join()
    assert [e.rel for e in ready] == ["crm_members/old.csv"]
    assert [e.rel for e in pending] == ["crm_members/new.csv"]
    assert "still being written" in pending[0].reason
    # once it stops changing for the window, it is ready
    ready, pending = landing.ready(candidates)
    assert sorted(e.rel for e in ready) == ["crm_members/new.csv", "crm_members/old.csv"]


def test_with_a_done_marker_required_only_marked_folders_are_ready(tmp_path, monkeypatch):
    monkeypatch.setenv("CDP_LANDING_DONE_MARKER", "_SUCCESS")
    monkeypatch.setenv("CDP_LANDING_STABLE_SECONDS", "3600")  # the marker replaces the wait
    for part in ("d=1", "d=2"):
        (tmp_path / "crm_members" / part).mkdir(parents=True)
        (tmp_path / "crm_members" / part / "x.csv").write_text(HEADER + "M1,\n")
    (tmp_path / "crm_members" / "d=1" / "_SUCCESS").write_text("")
    candidates, rejected = landing.scan(tmp_path)
    assert rejected == []
    ready, pending = landing.ready(candidates)
    assert [e.rel for e in ready] == ["crm_members/d=1/x.csv"]
    assert [e.rel for e in pending] == ["crm_members/d=2/x.csv"]
    assert "done marker _SUCCESS" in pending[0].reason
