"""Sync files: the repo's own load; a broken one fails naming its file and field."""

from __future__ import annotations

import pytest

from orchestration.activation.config import SyncConfigError, load_file, load_syncs
from orchestration.config import PROJECT_DIR

GOOD = """
source: {segment: lapsed_buyers}
destination: {type: webhook, url_env: HOOK_URL, secret_env: HOOK_KEY}
mode: mirror
consent_channel: sms
fields: {tier: loyalty_tier}
"""


def write(tmp_path, name: str, text: str):
    path = tmp_path / f"{name}.yml"
    path.write_text(text)
    return path


def test_the_repositorys_syncs_load():
    syncs = load_syncs(PROJECT_DIR / "activation" / "syncs")
    assert {s.destination.type for s in syncs} == {"webhook", "file_drop", "ad_audience", "postgres"}


def test_a_good_file_loads_with_its_name_from_the_file(tmp_path):
    sync = load_file(write(tmp_path, "recall_sms", GOOD))
    assert (sync.name, sync.source.segment, sync.mode) == ("recall_sms", "lapsed_buyers", "mirror")
    assert sync.batch_size == 500
    assert sync.trigger.after_segment


@pytest.mark.parametrize(("change", "field", "words"), [
    (("mode: mirror", "mode: replace"), "mode", "mirror"),
    (("secret_env: HOOK_KEY", "secret_env: my key"), "destination.secret_env", "environment variable"),
    (("url_env: HOOK_URL, ", ""), "destination.url_env", "required"),
    (("consent_channel: sms", "consent_channel: fax"), "consent_channel", "sms"),
    (("source: {segment: lapsed_buyers}", "source: {segment: a, model: b}"), "source", "exactly one"),
    (("fields: {tier: loyalty_tier}", "fields: {tier: loyalty_tier}\nbatch_sise: 5"), "batch_sise", "not permitted"),
    (("type: webhook", "type: carrier_pigeon"), "destination", "webhook"),
])
def test_a_broken_file_names_the_file_and_the_field(tmp_path, change, field, words):
    path = write(tmp_path, "broken", GOOD.replace(*change))
    with pytest.raises(SyncConfigError) as err:
        load_file(path)
    message = str(err.value)
    assert f"broken.yml: {field}" in message, message
    assert words.lower() in message.lower(), message


def test_an_ad_audience_takes_only_identifiers_the_platform_accepts(tmp_path):
    text = """
source: {segment: s}
destination: {type: ad_audience, platform: meta, path: ads}
mode: mirror
consent_channel: ads
identifiers: [email, idfa]
"""
    with pytest.raises(SyncConfigError, match=r"meta\.yml: .*meta takes email, mobile, not idfa"):
        load_file(write(tmp_path, "meta", text))


def test_every_broken_file_is_reported_at_once(tmp_path):
    write(tmp_path, "one", "just a string")
    write(tmp_path, "two", GOOD.replace("mode: mirror", ""))
    write(tmp_path, "Bad-Name", GOOD)
    with pytest.raises(SyncConfigError) as err:
        load_syncs(tmp_path)
    text = str(err.value)
    assert "one.yml: expected a mapping" in text
    assert "two.yml: mode: Field required" in text
    assert "Bad-Name.yml: the file name" in text
