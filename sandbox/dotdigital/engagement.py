"""Simulated campaign sends: deterministic, realistic engagement from a seed, revealed by the clock.

"Send campaign C to address book B at time T" writes every event at once with its own timestamp over
the following days; reads only show events at or before the emulator's now, so moving the clock
makes opens, clicks, bounces and unsubscribes appear as they would in a real account. Unsubscribes and
hard bounces also change the contact's consent when their time comes.
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta

from sandbox.dotdigital.contacts import MARKETABLE
from sandbox.dotdigital.store import Store, iso
from sandbox.dotdigital.writer import suppress

MAIL_CLIENTS = [("Gmail", "2024"), ("Apple Mail", "17"), ("Outlook", "16.0"), ("Yahoo Mail", "1")]
USER_AGENTS = ["Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)", "Mozilla/5.0 (Windows NT 10.0; Win64)",
               "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0)"]
# .NET writes an unset DateTime as its minimum value; the documents allow no null here.
NEVER = "0001-01-01T00:00:00Z"
DEFAULT_URLS = ["https://example.com/offers", "https://example.com/new-in", "https://example.com/account"]


def simulate_send(store: Store, seed: int, campaign_id: int, book_id: int, send_time: datetime) -> dict:
    with store.transaction() as db:
        campaign = db.execute("SELECT * FROM campaigns WHERE id = ?", (campaign_id,)).fetchone()
        if campaign is None:
            raise KeyError("campaign")
        if db.execute("SELECT 1 FROM address_books WHERE id = ?", (book_id,)).fetchone() is None:
            raise KeyError("address book")
        urls = json.loads(campaign["urls"]) or DEFAULT_URLS
        members = db.execute(
            "SELECT c.id, c.email, c.email_status FROM book_members m JOIN contacts c ON c.id = m.contact_id "
            "WHERE m.book_id = ? AND m.status = 'subscribed' AND c.email IS NOT NULL ORDER BY c.id",
            (book_id,)).fetchall()
        counts = {"sent": 0, "opens": 0, "clicks": 0, "softBounces": 0, "hardBounces": 0, "unsubscribes": 0}
        for contact_id, email, status in members:
            if status not in MARKETABLE or status == "pendingOptIn":
                continue
            rng = random.Random(f"{seed}:{campaign_id}:{contact_id}")
            sent = send_time + timedelta(seconds=rng.randint(0, 600))
            counts["sent"] += 1
            roll = rng.random()
            bounce = bounce_at = unsub_at = None
            if roll < 0.01:
                bounce, bounce_at = "hard", sent + timedelta(minutes=rng.randint(1, 30))
                counts["hardBounces"] += 1
                db.execute("INSERT INTO pending_consent (contact_id, email_status, reason, at) VALUES (?, ?, ?, ?)",
                           (contact_id, "hardBounced", "HardBounced", iso(bounce_at)))
            elif roll < 0.03:
                bounce, bounce_at = "soft", sent + timedelta(minutes=rng.randint(1, 60))
                counts["softBounces"] += 1
            else:
                _engage(db, rng, campaign_id, contact_id, sent, urls, counts)
                if rng.random() < 0.02:
                    unsub_at = sent + timedelta(hours=rng.uniform(1, 72))
                    counts["unsubscribes"] += 1
                    db.execute("INSERT INTO pending_consent (contact_id, email_status, reason, at) "
                               "VALUES (?, 'unsubscribed', 'Unsubscribed', ?)", (contact_id, iso(unsub_at)))
            db.execute("INSERT OR REPLACE INTO campaign_contacts VALUES (?, ?, ?, ?, ?, ?, ?)",
                       (campaign_id, contact_id, email, iso(sent), bounce, iso(bounce_at) if bounce_at else None,
                        iso(unsub_at) if unsub_at else None))
        db.execute("UPDATE campaigns SET status = 'Sent' WHERE id = ?", (campaign_id,))
    return counts


def _engage(db, rng: random.Random, campaign_id: int, contact_id: int, sent: datetime, urls, counts) -> None:
    if rng.random() >= 0.4:
        return
    ip = f"203.0.113.{rng.randint(1, 254)}"
    client, version = rng.choice(MAIL_CLIENTS)
    agent = rng.choice(USER_AGENTS)
    when = sent
    for _ in range(rng.choice([1, 1, 1, 2, 3])):
        when = when + timedelta(hours=rng.expovariate(1 / 10))
        counts["opens"] += 1
        db.execute("INSERT INTO campaign_events (campaign_id, contact_id, kind, at, ip, user_agent, mail_client) "
                   "VALUES (?, ?, 'open', ?, ?, ?, ?)", (campaign_id, contact_id, iso(when), ip, agent,
                                                         f"{client}|{version}"))
        if rng.random() < 0.3:
            clicked = when + timedelta(seconds=rng.randint(5, 300))
            counts["clicks"] += 1
            db.execute("INSERT INTO campaign_events (campaign_id, contact_id, kind, at, url, ip, user_agent) "
                       "VALUES (?, ?, 'click', ?, ?, ?, ?)",
                       (campaign_id, contact_id, iso(clicked), rng.choice(urls), ip, agent))


def apply_due_consent(store: Store) -> int:
    """Turn simulated unsubscribes and hard bounces whose time has come into real consent changes."""
    now = store.now_iso()
    with store.transaction() as db:
        due = db.execute("SELECT seq, contact_id, email_status, at FROM pending_consent WHERE at <= ? ORDER BY at",
                         (now,)).fetchall()
        for _seq, contact_id, status, at in due:
            row = db.execute("SELECT email_status FROM contacts WHERE id = ?", (contact_id,)).fetchone()
            if row is not None and row[0] in MARKETABLE:
                suppress(db, contact_id, status, at)
        if due:
            db.execute("DELETE FROM pending_consent WHERE at <= ?", (now,))
    return len(due)


def contact_summary(db, campaign_id: int, row, now: str) -> dict:
    opens = db.execute("SELECT COUNT(*), MIN(at), MAX(at), MIN(ip) FROM campaign_events WHERE campaign_id = ? "
                       "AND contact_id = ? AND kind = 'open' AND at <= ?", (campaign_id, row["contact_id"], now)
                       ).fetchone()
    clicks = db.execute("SELECT COUNT(*) FROM campaign_events WHERE campaign_id = ? AND contact_id = ? "
                        "AND kind = 'click' AND at <= ?", (campaign_id, row["contact_id"], now)).fetchone()[0]
    bounced = row["bounce_at"] is not None and row["bounce_at"] <= now
    return {
        "contactId": row["contact_id"], "email": row["email"], "numOpens": opens[0], "numPageViews": 0,
        "numClicks": clicks, "numForwards": 0, "numEstimatedForwards": 0, "numReplies": 0,
        "dateSent": row["date_sent"], "dateFirstOpened": opens[1] or NEVER, "dateLastOpened": opens[2] or NEVER,
        "firstOpenIp": opens[3] or "",
        "unsubscribed": row["unsubscribed_at"] is not None and row["unsubscribed_at"] <= now,
        "softBounced": bounced and row["bounce"] == "soft", "hardBounced": bounced and row["bounce"] == "hard",
    }
