"""Synthetic landing data, written to the landing contract, with the truth beside it.

Everything is generated column-wise with NumPy (no Python loop over rows), so a million
people (tens of millions of rows) take minutes. Output is deterministic for a given seed,
size, number of days and end date.

Layout written:
    <landing>/<source>/<YYYY-MM-DD>.{csv,parquet,jsonl}   one batch per day and source
    <truth>/identifiers.parquet   person_id, identifier_type, identifier_value (canonical)
    <truth>/manifest.json         per source: landed rows, duplicates, quarantined by reason
    <truth>/churn.parquet         person_id, churn_propensity, purchase_rate, churn_at: the planted churn
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from orchestration.ingest.contract import load_contract

FORMATS = ("csv", "parquet", "jsonl")
SHANGHAI = 8 * 3600
DAY = 86400
HEX = np.array(list("0123456789abcdef"))
ALNUM = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"))
JUNK = {
    "imei": "000000000000000",
    "idfa": "00000000-0000-0000-0000-000000000000",
    "mobile": "13800000000",
    "mobile_ones": "11111111111",
    "email": "test@test.com",
    "email_none": "none@none.com",
    "shop_card": "8888888888888",
}
PROVINCES = np.array(["上海", "北京", "广东", "浙江", "江苏", "四川", "湖北"])
CITIES = np.array(["上海", "北京", "广州", "杭州", "南京", "成都", "武汉"])
SURNAMES = np.array(list("王李张刘陈杨赵黄周吴"))
GIVEN = np.array(list("伟芳娜敏静丽强磊洋艳勇军杰娟涛明超秀霞"))
CATEGORIES = np.array(["skincare", "makeup", "fragrance", "haircare", "body", "gift"])


def _log(msg: str, quiet: bool) -> None:
    if not quiet:
        print(f"[generate {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- value helpers


def rand_chars(rng: np.random.Generator, n: int, length: int, alphabet: np.ndarray) -> np.ndarray:
    """n random strings of `length` characters, built as one character matrix."""
    idx = rng.integers(0, len(alphabet), size=(n, length))
    return np.ascontiguousarray(alphabet[idx]).view(f"<U{length}").ravel()


def uuids(rng: np.random.Generator, n: int, upper: bool = False) -> np.ndarray:
    raw = np.ascontiguousarray(HEX[rng.integers(0, 16, size=(n, 32))])
    parts = [raw[:, a:b] for a, b in ((0, 8), (8, 12), (12, 16), (16, 20), (20, 32))]
    dash = np.full((n, 1), "-")
    mat = np.ascontiguousarray(np.hstack([parts[0], dash, parts[1], dash, parts[2], dash,
                                          parts[3], dash, parts[4]]))
    out = mat.view("<U36").ravel()
    return np.char.upper(out) if upper else out


def digits(values: np.ndarray, width: int) -> np.ndarray:
    if not len(values):  # np.char.zfill fails on an empty array (a small population's rare source)
        return np.empty(0, dtype=f"<U{width}")
    return np.char.zfill(values.astype(np.int64).astype(str), width)


def imeis(rng: np.random.Generator, n: int) -> np.ndarray:
    """15-digit IMEIs with a valid Luhn check digit."""
    body = rng.integers(0, 10, size=(n, 14))
    body[:, 0], body[:, 1] = 8, 6
    dbl = body.copy()
    dbl[:, 1::2] *= 2
    dbl[dbl > 9] -= 9
    check = (10 - dbl.sum(axis=1) % 10) % 10
    full = np.hstack([body, check[:, None]]).astype(str)
    return np.ascontiguousarray(full.astype("<U1")).view("<U15").ravel()


def unique_ints(rng: np.random.Generator, n: int, low: int, high: int,
                exclude: tuple[int, ...] = ()) -> np.ndarray:
    out = np.empty(0, dtype=np.int64)
    while len(out) < n:
        extra = rng.integers(low, high, size=int((n - len(out)) * 1.05) + 16)
        out = np.concatenate([out, extra])
        _, first = np.unique(out, return_index=True)
        out = out[np.sort(first)]
        out = out[~np.isin(out, exclude)]
    return out[:n]


def iso(ts: np.ndarray) -> np.ndarray:
    """'YYYY-MM-DDTHH:MM:SS' for epoch seconds."""
    return np.datetime_as_string(ts.astype("datetime64[s]"), unit="s")


def fmt_ts(rng: np.random.Generator, ts: np.ndarray) -> np.ndarray:
    """The same instants spelled the ways upstream systems spell them."""
    kind = rng.choice(4, size=len(ts), p=[0.4, 0.15, 0.3, 0.15])
    out = np.empty(len(ts), dtype=object)
    if not len(ts):
        return out
    spellings = (
        lambda t: np.char.add(iso(t + SHANGHAI), "+08:00"),  # ISO with offset
        lambda t: np.char.add(iso(t), "Z"),  # ISO in UTC
        lambda t: np.char.replace(iso(t + SHANGHAI), "T", " "),  # no offset: Shanghai time
        lambda t: (t * 1000).astype(str),  # epoch milliseconds
    )
    for k, spell in enumerate(spellings):
        m = kind == k
        if m.any():
            out[m] = spell(ts[m])
    return out


def fmt_mobile(rng: np.random.Generator, mobiles: np.ndarray) -> np.ndarray:
    """Mobiles in the spellings of the contract: +86 138-0013-8000, 8613800138000, ..."""
    s = mobiles.astype(str)
    kind = rng.choice(5, size=len(s), p=[0.6, 0.1, 0.1, 0.1, 0.1])
    out = s.astype(object)
    if not len(s):
        return out
    a, b, c = (np.char.ljust(s, 11).astype("<U11").view("<U1").reshape(-1, 11)[:, sl]
               for sl in (slice(0, 3), slice(3, 7), slice(7, 11)))
    a = np.ascontiguousarray(a).view("<U3").ravel()
    b = np.ascontiguousarray(b).view("<U4").ravel()
    c = np.ascontiguousarray(c).view("<U4").ravel()
    for k, parts in ((1, ("+86 ", a, "-", b, "-", c)), (2, ("86", s)), (3, (a, " ", b, " ", c)),
                     (4, ("+86", s))):
        m = kind == k
        acc = np.full(m.sum(), "", dtype=object)
        for p in parts:
            acc = acc + (p if isinstance(p, str) else p[m].astype(object))
        out[m] = acc
    return out


def fmt_email(rng: np.random.Generator, emails: np.ndarray) -> np.ndarray:
    kind = rng.choice(3, size=len(emails), p=[0.8, 0.1, 0.1])
    out = emails.astype(object)
    out[kind == 1] = np.char.upper(emails[kind == 1].astype(str))
    out[kind == 2] = np.char.add(np.char.add("  ", emails[kind == 2].astype(str)), " ")
    return out


def with_nulls(values: np.ndarray, keep: np.ndarray) -> np.ndarray:
    out = values.astype(object)
    out[~keep] = None
    return out


# ---------------------------------------------------------------- the population


@dataclass
class People:
    n: int
    rng: np.random.Generator
    window_start: int  # epoch seconds of the first batch day, 00:00 Asia/Shanghai
    days: int
    truth: list[tuple[np.ndarray, str, np.ndarray]] = field(default_factory=list)

    def __post_init__(self) -> None:
        rng, n = self.rng, self.n
        self.is_anon = rng.random(n) < 0.15
        known = ~self.is_anon
        self.is_member = known & (rng.random(n) < 0.55)
        self.is_churner = rng.random(n) < 0.2
        self.member_id = np.char.add("M", digits(rng.permutation(n) + 100_000_000, 9))
        self.card_no = digits(600_000_000_000 + rng.permutation(n), 12)
        mobiles = unique_ints(rng, 2 * n, 13_000_000_000, 20_000_000_000,
                              exclude=(13_800_000_000,))
        self.mobile1, self.mobile2 = mobiles[:n], mobiles[n:]
        nmob = rng.choice(3, size=n, p=[0.08, 0.72, 0.2])
        self.has_mobile1 = known & (nmob >= 1)
        self.has_mobile2 = known & (nmob == 2)
        self.has_email = known & (rng.random(n) < 0.5)
        domains = np.array(["qq.com", "163.com", "126.com", "gmail.com", "outlook.com"])
        self.email = np.char.add(np.char.add("user", digits(rng.permutation(n), 8)),
                                 np.char.add("@", domains[rng.integers(0, 5, n)]))
        self.n_cookies = rng.integers(1, 4, n)
        self.cookies = uuids(rng, 3 * n).reshape(n, 3)
        self.is_app = known & (rng.random(n) < 0.4)
        self.is_ios = rng.random(n) < 0.45
        self.device_id = uuids(rng, n)
        self.idfa = uuids(rng, n, upper=True)
        self.imei = imeis(rng, n)
        self.oaid = uuids(rng, n)
        self.has_imei = ~self.is_ios & (rng.random(n) < 0.5)
        self.has_oaid = ~self.is_ios & (rng.random(n) < 0.7)
        self.is_wechat = known & (rng.random(n) < 0.35)
        self.openid = np.char.add("o", rand_chars(rng, n, 27, ALNUM))
        self.unionid = np.char.add("oU", rand_chars(rng, n, 26, ALNUM))
        self.gender = rng.choice(np.array(["F", "M"]), size=n, p=[0.7, 0.3])

    def own(self, who: np.ndarray, id_type: str, values: np.ndarray) -> None:
        """Record that the persons `who` hold these canonical identifier values."""
        self.truth.append((who.astype(np.int64), id_type, values.astype(str)))

    def activity_ts(self, who: np.ndarray, history_days: int = 365) -> np.ndarray:
        """A purchase time over the past year; churners only buy before the last 180 days."""
        end = self.window_start + self.days * DAY
        span = np.where(self.is_churner[who], history_days - 180, history_days) * DAY
        offset = np.where(self.is_churner[who], 180 * DAY, 0)
        ts = end - offset - (self.rng.random(len(who)) * span).astype(np.int64)
        return before_planted_stop(self, who, ts, end - history_days * DAY, end)

    def window_ts(self, n: int) -> np.ndarray:
        return self.window_start + self.rng.integers(0, self.days * DAY, n)

    def clip(self, ts: np.ndarray) -> np.ndarray:
        """Nothing happens after the last batch's day."""
        return np.minimum(ts, self.window_start + self.days * DAY - 1)

    def batch_of(self, ts: np.ndarray) -> np.ndarray:
        """Batch index of the day an event happened on; backfilled history lands in batch 0."""
        return np.clip((ts - self.window_start) // DAY, 0, self.days - 1)


# ---------------------------------------------------------------- planted churn (predictive tags)

CHURN_HISTORY_DAYS = 365
NEVER = np.iinfo(np.int64).max


def plant_churn(p: People) -> None:
    """A known churn process for the predictive models to find. Each person has a latent
    loyalty z ~ N(0, 1) and a churn propensity sigmoid(-0.6 - z - 0.8 * is_member). With that
    probability the person stops buying at a moment drawn uniformly over the past year
    (`churn_at`); every purchase of theirs falls before it. Buyers also have a personal rate
    of repeat orders, 2.5 * exp(0.8 z) a year (plant_regular_orders), so loyal people buy often
    and the ones about to churn less. A separate random stream (spawned, not drawn from `p.rng`)
    keeps the values generated before it as they were."""
    p.churn_rng = rng = p.rng.spawn(1)[0]
    loyalty = rng.normal(size=p.n)
    p.churn_propensity = 1.0 / (1.0 + np.exp(-(-0.6 - loyalty - 0.8 * p.is_member)))
    p.purchase_rate = 2.5 * np.exp(0.8 * loyalty)
    end = p.window_start + p.days * DAY
    stops = rng.random(p.n) < p.churn_propensity
    drawn = end - (rng.random(p.n) * CHURN_HISTORY_DAYS * DAY).astype(np.int64)
    p.churn_at = np.where(stops, drawn, NEVER)


def plant_regular_orders(p: People, name: str, cols: dict, batch: np.ndarray):
    """Repeat orders of every shop buyer: Poisson(purchase_rate) a year from a year ago until
    churn_at (or the last batch), each a copy of one of the person's orders with a new id,
    time and amount, paid. Other sources pass through unchanged."""
    if name != "shop_orders" or not hasattr(p, "churn_at"):
        return cols, batch
    rng = p.churn_rng
    end = p.window_start + p.days * DAY
    start = end - CHURN_HISTORY_DAYS * DAY
    buyers, rows = np.unique(p.order_who, return_index=True)  # one template order per buyer
    stop = np.minimum(p.churn_at[buyers], end)
    years = (stop - start) / (CHURN_HISTORY_DAYS * DAY)
    counts = rng.poisson(p.purchase_rate[buyers] * years)
    template = np.repeat(rows, counts)
    ts = np.repeat(start, len(template)) + (rng.random(len(template))
                                            * np.repeat(stop - start, counts)).astype(np.int64)
    extra = {k: v[template].copy() for k, v in cols.items()}
    extra["order_id"] = np.char.add("SO", digits(np.arange(len(template)) + 50_000_000, 10)).astype(object)
    extra["status"] = np.full(len(template), "paid", dtype=object)
    extra["amount"] = np.char.mod("%.2f", np.round(rng.lognormal(5.3, 0.8, len(template)), 2)).astype(object)
    extra["ordered_at"] = fmt_ts(rng, ts)
    extra["updated_at"] = extra["ordered_at"].copy()
    out = {k: np.concatenate([v, extra[k]]) for k, v in cols.items()}
    out_batch = np.concatenate([batch, p.batch_of(ts)])
    p.order_ids, p.order_batch = out["order_id"], out_batch
    return out, out_batch


def before_planted_stop(p: People, who: np.ndarray, ts: np.ndarray, start: int, end: int) -> np.ndarray:
    """Squeeze the purchase times of people who stop buying into [start, churn_at]."""
    stop = getattr(p, "churn_at", None)
    if stop is None:
        return ts
    span = np.clip(np.minimum(stop[who], end) - start, 0, None).astype(np.float64)
    scaled = start + ((ts - start) * (span / (end - start))).astype(np.int64)
    return np.where(stop[who] < end, np.maximum(scaled, start), ts)


def write_churn_truth(p: People, truth: Path, con) -> None:
    """<truth>/churn.parquet: person_id, churn_propensity, purchase_rate (repeat orders a
    year), churn_at (UTC, null = never stops)."""
    churn_at = np.where(p.churn_at == NEVER, np.datetime64("NaT"),
                        p.churn_at.astype("datetime64[s]"))
    con.register("churn_rows", pa.table({
        "person_id": np.arange(p.n, dtype=np.int64),
        "churn_propensity": p.churn_propensity,
        "purchase_rate": p.purchase_rate,
        "churn_at": pa.array(churn_at, type=pa.timestamp("s")),
    }))
    con.execute(f"copy churn_rows to '{truth / 'churn.parquet'}' (format parquet)")
    con.unregister("churn_rows")


def repeat_people(rng: np.random.Generator, who: np.ndarray, lam: float, minimum: int = 0):
    counts = np.maximum(rng.poisson(lam, len(who)), minimum)
    return np.repeat(who, counts)


def late(rng: np.random.Generator, batch: np.ndarray, days: int, share: float = 0.03):
    """Some rows arrive a batch later than the day they happened on."""
    bump = (rng.random(len(batch)) < share) & (batch < days - 1)
    return batch + bump


# ---------------------------------------------------------------- sources, clean rows


def crm_members(p: People):
    rng = p.rng
    who = np.flatnonzero(p.is_member)
    n = len(who)
    registered = p.window_start - (rng.random(n) * 3 * 365 * DAY).astype(np.int64)
    new = rng.random(n) < 0.05  # registered during the window
    registered[new] = p.window_ts(new.sum())
    gender = p.gender[who].astype(object)
    spelled = rng.random(n)
    gender[spelled < 0.2] = np.where(gender[spelled < 0.2] == "F", "女", "男")
    gender[spelled > 0.95] = None
    birth = (np.datetime64("1965-01-01") + rng.integers(0, 40 * 365, n)).astype(str)
    p.own(who, "member_id", p.member_id[who])
    p.own(who, "member_card_no", p.card_no[who])
    mob = p.has_mobile1[who]
    p.own(who[mob], "mobile", p.mobile1[who[mob]])
    em = p.has_email[who]
    p.own(who[em], "email", p.email[who[em]])
    cols = {
        "member_id": p.member_id[who].astype(object),
        "mobile": with_nulls(fmt_mobile(rng, p.mobile1[who]), mob),
        "email": with_nulls(fmt_email(rng, p.email[who]), em),
        "member_card_no": p.card_no[who].astype(object),
        "full_name": np.char.add(SURNAMES[rng.integers(0, 10, n)],
                                 GIVEN[rng.integers(0, 18, n)]).astype(object),
        "gender": gender,
        "birth_date": birth.astype(object),
        "province": PROVINCES[who % 7].astype(object),
        "city": CITIES[who % 7].astype(object),
        "register_channel": rng.choice(["store", "app", "web", "mini_program", "wechat"], n),
        "loyalty_tier": rng.choice(["bronze", "silver", "gold", "platinum"], n,
                                   p=[0.5, 0.3, 0.15, 0.05]),
        "registered_at": fmt_ts(rng, registered),
        "updated_at": fmt_ts(rng, registered),
    }
    batch = p.batch_of(registered)
    # members re-sent later with a change: a new version of the same key
    upd = np.flatnonzero(rng.random(n) < 0.06)
    upd_ts = p.clip(np.maximum(registered[upd] + DAY, p.window_ts(len(upd))))
    versions = {k: v[upd].copy() for k, v in cols.items()}
    versions["loyalty_tier"] = rng.choice(["silver", "gold", "platinum"], len(upd))
    versions["updated_at"] = fmt_ts(rng, upd_ts)
    return cols, batch, [(versions, p.batch_of(upd_ts))]


def shop_orders(p: People):
    rng = p.rng
    buyers = np.flatnonzero(~p.is_anon & (rng.random(p.n) < 0.55))
    who = repeat_people(rng, buyers, 1.6, minimum=1)
    n = len(who)
    ordered = p.activity_ts(who)
    channel = rng.choice(["app", "web", "mini_program"], n, p=[0.5, 0.35, 0.15])
    logged_in = p.is_member[who] & (rng.random(n) < 0.8)
    mob = p.has_mobile1[who] & (rng.random(n) < 0.7)
    em = p.has_email[who] & (rng.random(n) < 0.4)
    dev = (channel == "app") & p.is_app[who]
    for mask, t, vals in ((logged_in, "member_id", p.member_id), (mob, "mobile", p.mobile1),
                          (em, "email", p.email), (dev, "device_id", p.device_id)):
        p.own(who[mask], t, vals[who[mask]])
    email = with_nulls(fmt_email(rng, p.email[who]), em)
    guest_junk = ~logged_in & (rng.random(n) < 0.03)
    email[guest_junk] = rng.choice([JUNK["email"], JUNK["email_none"]], guest_junk.sum())
    amount = np.round(rng.lognormal(5.3, 0.8, n), 2)
    cols = {
        "order_id": np.char.add("SO", digits(np.arange(n) + 10_000_000, 10)).astype(object),
        "member_id": with_nulls(p.member_id[who], logged_in),
        "mobile": with_nulls(fmt_mobile(rng, p.mobile1[who]), mob),
        "email": email,
        "device_id": with_nulls(p.device_id[who], dev),
        "channel": channel.astype(object),
        "status": np.full(n, "paid", dtype=object),
        "amount": np.char.mod("%.2f", amount).astype(object),
        "currency": np.where(rng.random(n) < 0.9, "CNY", None),
        "ordered_at": fmt_ts(rng, ordered),
        "updated_at": fmt_ts(rng, ordered),
    }
    batch = p.batch_of(ordered)
    ref = np.flatnonzero(rng.random(n) < 0.08)  # refunded later: a new version
    ref_ts = p.clip(np.maximum(ordered[ref] + 3600, p.window_ts(len(ref))))
    versions = {k: v[ref].copy() for k, v in cols.items()}
    versions["status"] = np.full(len(ref), "refunded", dtype=object)
    versions["updated_at"] = fmt_ts(rng, ref_ts)
    p.order_ids, p.order_batch = cols["order_id"], batch
    p.order_who = who
    return cols, batch, [(versions, p.batch_of(ref_ts))]


def shop_order_items(p: People):
    rng = p.rng
    lines = rng.integers(1, 4, len(p.order_ids))
    idx = np.repeat(np.arange(len(p.order_ids)), lines)
    line_no = np.arange(len(idx)) - np.repeat(np.cumsum(lines) - lines, lines) + 1
    n = len(idx)
    cols = {
        "order_id": p.order_ids[idx],
        "line_no": line_no.astype(str).astype(object),
        "sku": np.char.add("SKU", digits(rng.integers(0, 5000, n), 5)).astype(object),
        "category": CATEGORIES[rng.integers(0, len(CATEGORIES), n)].astype(object),
        "quantity": rng.integers(1, 4, n).astype(str).astype(object),
        "unit_price": np.char.mod("%.2f", np.round(rng.lognormal(4.5, 0.6, n), 2)).astype(object),
    }
    return cols, p.order_batch[idx], []


def web_events(p: People):
    rng = p.rng
    active = np.flatnonzero(~p.is_churner)
    who = repeat_people(rng, active, 8.0)
    n = len(who)
    ts = p.window_ts(n)
    cookie = p.cookies[who, rng.integers(0, 3, n) % p.n_cookies[who]]
    etype = rng.choice(["page_view", "product_view", "add_to_cart", "signup", "login",
                        "checkout"], n, p=[0.45, 0.3, 0.1, 0.03, 0.07, 0.05])
    logged = p.is_member[who] & (rng.random(n) < 0.35)
    p.own(who, "anonymous_id", cookie)
    p.own(who[logged], "member_id", p.member_id[who[logged]])
    cols = {
        "event_id": uuids(rng, n).astype(object),
        "anonymous_id": cookie.astype(object),
        "member_id": with_nulls(p.member_id[who], logged),
        "event_type": etype.astype(object),
        "page_url": np.char.add("https://shop.example.cn/p/", rng.integers(1, 999, n).astype(str)),
        "referrer": rng.choice(np.array(["", "https://www.baidu.com/", "https://weibo.com/"],
                                        dtype=object), n),
        "utm_source": rng.choice(np.array([None, "baidu", "wechat", "douyin"], dtype=object), n),
        "utm_medium": rng.choice(np.array([None, "cpc", "social"], dtype=object), n),
        "utm_campaign": rng.choice(np.array([None, "d11", "spring"], dtype=object), n),
        "event_at": fmt_ts(rng, ts),
        "received_at": fmt_ts(rng, p.clip(ts + rng.integers(0, 120, n))),
    }
    return cols, late(rng, p.batch_of(ts), p.days), []


def app_events(p: People):
    rng = p.rng
    active = np.flatnonzero(p.is_app & ~p.is_churner)
    who = repeat_people(rng, active, 10.0)
    n = len(who)
    ts = p.window_ts(n)
    ios = p.is_ios[who]
    lat = ios & (rng.random(n) < 0.1)  # limited ad tracking: the all-zero IDFA
    idfa = np.where(rng.random(n) < 0.5, p.idfa[who], np.char.lower(p.idfa[who])).astype(object)
    idfa[lat] = JUNK["idfa"]
    has_imei = p.has_imei[who]
    imei = p.imei[who].astype(object)
    imei[rng.random(n) < 0.06] = JUNK["imei"]
    logged = p.is_member[who] & (rng.random(n) < 0.4)
    sms = p.has_mobile1[who] & (rng.random(n) < 0.1)
    p.own(who, "device_id", p.device_id[who])
    p.own(who[ios & ~lat], "idfa", p.idfa[who[ios & ~lat]])
    keep_imei = has_imei & (imei != JUNK["imei"])
    p.own(who[keep_imei], "imei", p.imei[who[keep_imei]])
    p.own(who[p.has_oaid[who]], "oaid", p.oaid[who[p.has_oaid[who]]])
    p.own(who[logged], "member_id", p.member_id[who[logged]])
    p.own(who[sms], "mobile", p.mobile1[who[sms]])
    cols = {
        "event_id": uuids(rng, n).astype(object),
        "device_id": p.device_id[who].astype(object),
        "idfa": with_nulls(idfa, ios),
        "imei": with_nulls(imei, has_imei),
        "oaid": with_nulls(p.oaid[who], p.has_oaid[who]),
        "member_id": with_nulls(p.member_id[who], logged),
        "mobile": with_nulls(fmt_mobile(rng, p.mobile1[who]), sms),
        "event_type": rng.choice(["app_open", "product_view", "add_to_cart", "login",
                                  "checkout", "push_open"], n).astype(object),
        "os": np.where(ios, "ios", "android").astype(object),
        "app_version": rng.choice(["5.1.0", "5.2.1", "6.0.0"], n).astype(object),
        "event_at": fmt_ts(rng, ts),
        "received_at": fmt_ts(rng, p.clip(ts + rng.integers(0, 600, n))),
    }
    return cols, late(rng, p.batch_of(ts), p.days), []


def wechat_followers(p: People):
    rng = p.rng
    who = np.flatnonzero(p.is_wechat)
    n = len(who)
    subscribed = p.window_start - (rng.random(n) * 2 * 365 * DAY).astype(np.int64)
    auth = p.has_mobile1[who] & (rng.random(n) < 0.3)
    p.own(who, "openid", p.openid[who])
    p.own(who, "unionid", p.unionid[who])
    p.own(who[auth], "mobile", p.mobile1[who[auth]])
    cols = {
        "openid": p.openid[who].astype(object),
        "unionid": p.unionid[who].astype(object),
        "mobile": with_nulls(fmt_mobile(rng, p.mobile1[who]), auth),
        "nickname": np.char.add("微信用户", rng.integers(100, 999, n).astype(str)).astype(object),
        "subscribed": rng.choice(["true", "1", "TRUE"], n).astype(object),
        "subscribed_at": fmt_ts(rng, subscribed),
        "unsubscribed_at": np.full(n, None, dtype=object),
        "updated_at": fmt_ts(rng, subscribed),
    }
    gone = np.flatnonzero(rng.random(n) < 0.05)  # unsubscribed during the window
    gone_ts = p.window_ts(len(gone))
    versions = {k: v[gone].copy() for k, v in cols.items()}
    versions["subscribed"] = rng.choice(["false", "0"], len(gone)).astype(object)
    versions["unsubscribed_at"] = fmt_ts(rng, gone_ts)
    versions["updated_at"] = fmt_ts(rng, gone_ts)
    return cols, np.zeros(n, dtype=np.int64), [(versions, p.batch_of(gone_ts))]


def pos_transactions(p: People):
    rng = p.rng
    shoppers = np.flatnonzero(~p.is_anon & (rng.random(p.n) < 0.3))
    who = repeat_people(rng, shoppers, 1.5, minimum=1)
    n = len(who)
    ts = p.activity_ts(who)
    asked = p.has_mobile1[who] & (rng.random(n) < 0.6)
    mobile = with_nulls(fmt_mobile(rng, p.mobile1[who]), asked)
    placeholder = rng.random(n)
    mobile[placeholder < 0.08] = JUNK["mobile"]
    mobile[(placeholder >= 0.08) & (placeholder < 0.1)] = JUNK["mobile_ones"]
    typo = (placeholder >= 0.1) & (placeholder < 0.13)  # a digit short: malformed
    mobile[typo] = p.mobile1[who[typo]].astype(str).astype("<U10")
    real = asked & (placeholder >= 0.13)
    p.own(who[real], "mobile", p.mobile1[who[real]])
    card = p.is_member[who] & (rng.random(n) < 0.5)
    card_no = with_nulls(p.card_no[who], card)
    walk_in = ~card & (rng.random(n) < 0.15)  # the shop's own card typed in for walk-ins
    card_no[walk_in] = JUNK["shop_card"]
    p.own(who[card], "member_card_no", p.card_no[who[card]])
    cols = {
        "txn_id": np.char.add("T", digits(np.arange(n) + 1, 10)).astype(object),
        "store_id": np.char.add("S", digits(rng.integers(1, 80, n), 3)).astype(object),
        "mobile": mobile,
        "member_card_no": card_no,
        "amount": np.char.mod("%.2f", np.round(rng.lognormal(5.5, 0.7, n), 2)).astype(object),
        "payment_method": rng.choice(["wechat_pay", "alipay", "card", "cash"], n).astype(object),
        "txn_at": fmt_ts(rng, ts),
    }
    return cols, p.batch_of(ts), []


def _identified(p: People, share: float):
    """People with a mobile or e-mail, and which of the two to refer to them by."""
    rng = p.rng
    who = np.flatnonzero((p.has_mobile1 | p.has_email) & (rng.random(p.n) < share))
    use_mobile = p.has_mobile1[who] & (~p.has_email[who] | (rng.random(len(who)) < 0.6))
    id_type = np.where(use_mobile, "mobile", "email").astype(object)
    value = np.where(use_mobile, p.mobile1[who].astype(str), p.email[who]).astype(object)
    return who, id_type, value


def consent_events(p: People):
    rng = p.rng
    who, id_type, value = _identified(p, 0.25)
    n = len(who)
    ts = p.window_ts(n)
    cols = {
        "event_id": np.char.add("CE", digits(np.arange(n) + 1, 9)).astype(object),
        "identifier_type": id_type,
        "identifier_value": value,
        "channel": rng.choice(["email", "sms", "push", "wechat", "ads", "all"], n).astype(object),
        "status": rng.choice(["granted", "revoked"], n, p=[0.8, 0.2]).astype(object),
        "source": rng.choice(["app", "web", "store", "crm"], n).astype(object),
        "event_at": fmt_ts(rng, ts),
    }
    return cols, p.batch_of(ts), []


def erasure_requests(p: People):
    who, id_type, value = _identified(p, 0.004)
    n = len(who)
    ts = p.window_ts(n)
    cols = {
        "request_id": np.char.add("ER", digits(np.arange(n) + 1, 7)).astype(object),
        "identifier_type": id_type,
        "identifier_value": value,
        "requested_at": fmt_ts(p.rng, ts),
    }
    return cols, p.batch_of(ts), []


def channel_engagements(p: People):
    rng = p.rng
    who, id_type, value = _identified(p, 0.3)
    reps = rng.integers(1, 4, len(who))
    idx = np.repeat(np.arange(len(who)), reps)
    n = len(idx)
    ts = p.window_ts(n)
    cols = {
        "event_id": np.char.add("EN", digits(np.arange(n) + 1, 10)).astype(object),
        "channel": rng.choice(["email", "sms", "push", "wechat", "ads"], n).astype(object),
        "campaign_id": rng.choice(["C2026_D11", "C2026_WELCOME", "C2026_WINBACK"], n),
        "identifier_type": id_type[idx],
        "identifier_value": value[idx],
        "event_type": rng.choice(["delivered", "opened", "clicked", "bounced", "unsubscribed"],
                                 n, p=[0.5, 0.25, 0.15, 0.07, 0.03]).astype(object),
        "event_at": fmt_ts(rng, ts),
    }
    return cols, p.batch_of(ts), []


BUILDERS = {
    "crm_members": crm_members,
    "shop_orders": shop_orders,
    "shop_order_items": shop_order_items,
    "web_events": web_events,
    "app_events": app_events,
    "wechat_followers": wechat_followers,
    "pos_transactions": pos_transactions,
    "consent_events": consent_events,
    "erasure_requests": erasure_requests,
    "channel_engagements": channel_engagements,
}

# Rows planted so staging must quarantine them: (reason, column, bad value).
# A planted row is a copy of a clean row under a fresh key, so it never collides with one.
FUTURE = "2099-01-01T00:00:00+08:00"
BAD_ROWS = {
    "crm_members": [("unknown_enum", "gender", "X"), ("future_timestamp", "registered_at", FUTURE),
                    ("invalid_value", "birth_date", "1990-02-31")],
    "shop_orders": [("impossible_value", "amount", "-15.00"),
                    ("impossible_value", "amount", "99999999.00"),
                    ("invalid_value", "amount", "12,5O"), ("unknown_enum", "status", "lost"),
                    ("future_timestamp", "ordered_at", FUTURE)],
    "shop_order_items": [("impossible_value", "quantity", "0"),
                         ("invalid_value", "unit_price", "abc")],
    "web_events": [("unknown_enum", "event_type", "teleport"),
                   ("invalid_value", "event_at", "yesterday")],
    "app_events": [("unknown_enum", "os", "symbian"), ("future_timestamp", "event_at", FUTURE)],
    "wechat_followers": [("invalid_value", "subscribed", "maybe")],
    "pos_transactions": [("impossible_value", "amount", "-3.00"),
                         ("invalid_value", "txn_at", "2026-13-45 10:00:00")],
    "consent_events": [("unknown_enum", "status", "perhaps"), ("unknown_enum", "channel", "fax")],
    "erasure_requests": [("unknown_enum", "identifier_type", "passport")],
    "channel_engagements": [("unknown_enum", "event_type", "exploded")],
}
# Exact re-deliveries (trackers deliver at least once) as a share of rows.
REPEAT_SHARE = {"web_events": 0.03, "app_events": 0.03, "shop_order_items": 0.01,
                "crm_members": 0.01, "pos_transactions": 0.005, "channel_engagements": 0.01}
# Schema drift: a column the contract does not name, from the second batch on.
EXTRA_COLUMNS = {"web_events": "tracker_version", "pos_transactions": "store_region",
                 "crm_members": "wechat_tag"}
# An optional column that a batch leaves out entirely.
DROPPED_COLUMN = {"app_events": "app_version", "web_events": "referrer"}


def _concat(tables: list[dict]) -> dict:
    return {k: np.concatenate([t[k] for t in tables]) for k in tables[0]}


def _take(cols: dict, idx: np.ndarray) -> dict:
    return {k: v[idx].copy() for k, v in cols.items()}


def plant_noise(rng, name: str, cols: dict, batch: np.ndarray, versions: list, days: int):
    """Add re-deliveries, new versions and bad rows; return rows, batches and expectations."""
    spec = load_contract()[name]
    key = spec.primary_key
    n = len(batch)
    tables, batches = [cols], [batch]
    for vcols, vbatch in versions:
        tables.append(vcols)
        batches.append(vbatch)
    rep = np.flatnonzero(rng.random(n) < REPEAT_SHARE.get(name, 0.0))
    tables.append(_take(cols, rep))
    batches.append(np.minimum(batch[rep] + rng.integers(0, 2, len(rep)), days - 1))
    good = _concat(tables)
    good_batch = np.concatenate(batches)
    keys = np.asarray(good[key[0]], dtype=str)
    for extra_key in key[1:]:
        keys = np.char.add(np.char.add(keys, "|"), np.asarray(good[extra_key], dtype=str))
    duplicates = len(keys) - len(np.unique(keys))

    quarantined: Counter = Counter()
    bad_tables, bad_batches = [], []
    per_rule = max(1, n // 400) if n else 0
    for i, (reason, column, value) in enumerate(BAD_ROWS.get(name, [])):
        idx = rng.integers(0, n, per_rule)
        bad = _take(cols, idx)
        bad[key[0]] = np.char.add(np.asarray(bad[key[0]], dtype=str), f"-Q{i}").astype(object)
        bad[column] = np.full(per_rule, value, dtype=object)
        bad_tables.append(bad)
        bad_batches.append(batch[idx])
        quarantined[reason] += per_rule
    if n:  # rows whose key is empty
        idx = rng.integers(0, n, per_rule)
        bad = _take(cols, idx)
        bad[key[0]] = np.full(per_rule, "", dtype=object)
        bad_tables.append(bad)
        bad_batches.append(batch[idx])
        quarantined["missing_key"] += per_rule
    rows = _concat([good, *bad_tables]) if bad_tables else good
    rows_batch = np.concatenate([good_batch, *bad_batches])
    return rows, rows_batch, duplicates, quarantined


def write_batch(con, table: pa.Table, path: Path, fmt: str) -> None:
    con.register("batch_rows", table)
    options = {"csv": "(format csv, header true)", "parquet": "(format parquet)",
               "jsonl": "(format json)"}[fmt]
    con.execute(f"copy batch_rows to '{path}' {options}")
    con.unregister("batch_rows")


MARKER = ".tianwen-generated"  # what the generator wrote into a folder, one path a line


def claim_folder(folder: Path) -> None:
    """Make `folder` empty and ours: create it, or clear it if it holds exactly what an earlier
    run of the generator wrote there. Anything else is someone's data: refuse, never delete."""
    if not folder.exists():
        folder.mkdir(parents=True)
        return
    if not folder.is_dir():
        raise ValueError(f"{folder} is not a folder: choose another --landing/--truth")
    present = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                     if p.name != MARKER and not p.is_dir())  # empty sub-folders are empty
    marker = folder / MARKER
    if not present:  # nothing but empty folders (and our marker): nothing to lose
        shutil.rmtree(folder)
        folder.mkdir(parents=True)
        return
    written = set(json.loads(marker.read_text())) if marker.is_file() else None
    if written is None or not set(present) <= written:
        foreign = present if written is None else sorted(set(present) - written)
        raise ValueError(
            f"{folder} is not empty and was not written by the generator "
            f"({len(foreign)} other entries, e.g. {foreign[0]}): the generator writes only into "
            "a new or empty folder. Point CDP_LANDING_DIR / --landing (and CDP_TRUTH_DIR / "
            "--truth) at one, or empty it yourself")
    shutil.rmtree(folder)
    folder.mkdir(parents=True)


def malformed_lines(fmt: str, ncols: int, k: int) -> list[str]:
    if fmt == "csv":  # alternately too many and too few fields
        return [",".join(["x"] * (ncols + 2)) if i % 2 == 0 else "x" for i in range(k)]
    return ['{"event_id": "broken", ' for _ in range(k)]


def generate(landing: Path, truth: Path, people: int = 10_000, days: int = 3,
             end_date: date | None = None, seed: int = 42, quiet: bool = False) -> dict:
    """Write a landing folder and its truth; return the manifest (also written as JSON)."""
    if people < 1 or days < 1:
        raise ValueError("--people and --days must be at least 1")
    # Default: batches up to yesterday, so no generated time lies after the moment of loading.
    end_date = end_date or datetime.now(UTC).date() - timedelta(days=1)
    start = end_date - timedelta(days=days - 1)
    window_start = int(datetime(start.year, start.month, start.day, tzinfo=UTC).timestamp())
    window_start -= SHANGHAI
    rng = np.random.default_rng(seed)
    landing, truth = Path(landing), Path(truth)
    for folder in (landing, truth):
        claim_folder(folder)
    t0 = time.monotonic()
    pop = People(people, rng, window_start, days)
    plant_churn(pop)
    _log(f"population of {people:,} people ready ({time.monotonic() - t0:.1f}s)", quiet)
    con = duckdb.connect()
    manifest: dict = {"people": people, "days": days, "seed": seed,
                      "end_date": end_date.isoformat(), "sources": {}}
    batch_names = [(start + timedelta(days=k)).isoformat() for k in range(days)]
    for s_idx, (name, build) in enumerate(BUILDERS.items()):
        contract_cols = list(load_contract()[name].columns)
        cols, batch, versions = build(pop)
        cols, batch = plant_regular_orders(pop, name, cols, batch)
        rows, rows_batch, duplicates, quarantined = plant_noise(rng, name, cols, batch,
                                                                versions, days)
        (landing / name).mkdir()
        landed = 0
        for k, batch_name in enumerate(batch_names):
            fmt = FORMATS[(s_idx + k) % len(FORMATS)]
            sel = np.flatnonzero(rows_batch == k)
            order = sel[rng.permutation(len(sel))]
            data = {c: rows[c][order] for c in contract_cols}
            if k >= 1 and name in EXTRA_COLUMNS:
                data[EXTRA_COLUMNS[name]] = np.full(len(order), f"v{k}", dtype=object)
            if k == days - 1 and k > 0 and name in DROPPED_COLUMN:
                del data[DROPPED_COLUMN[name]]
            table = pa.table({c: pa.array(v, type=pa.string()) for c, v in data.items()})
            path = landing / name / f"{batch_name}.{fmt}"
            write_batch(con, table, path, fmt)
            landed += len(order)
            if fmt != "parquet" and len(order) >= 50:
                bad = malformed_lines(fmt, len(data), max(1, len(order) // 1000))
                with path.open("a", encoding="utf-8") as fh:
                    fh.write("\n".join(bad) + "\n")
                landed += len(bad)
                quarantined["malformed_line"] += len(bad)
        q = dict(sorted(quarantined.items()))
        manifest["sources"][name] = {
            "landed": landed,
            "duplicates": int(duplicates),
            "quarantined": q,
            "staged": landed - int(duplicates) - sum(q.values()),
        }
        _log(f"{name}: {landed:,} rows in {days} batches ({time.monotonic() - t0:.1f}s)", quiet)
    who = np.concatenate([w for w, _, _ in pop.truth])
    types = np.concatenate([np.full(len(w), t, dtype=object) for w, t, _ in pop.truth])
    values = np.concatenate([v.astype(object) for _, _, v in pop.truth])
    con.register("truth_rows", pa.table({"person_id": who, "identifier_type": types.astype(str),
                                         "identifier_value": values.astype(str)}))
    con.execute(f"copy (select distinct * from truth_rows order by all) "
                f"to '{truth / 'identifiers.parquet'}' (format parquet)")
    write_churn_truth(pop, truth, con)
    (truth / "manifest.json").write_text(json.dumps(manifest, indent=2))
    for folder in (landing, truth):
        written = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                         if not p.is_dir())
        (folder / MARKER).write_text(json.dumps(written, indent=0))
    _log(f"done in {time.monotonic() - t0:.1f}s: {landing}", quiet)
    return manifest
