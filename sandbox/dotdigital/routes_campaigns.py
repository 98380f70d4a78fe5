"""Campaigns and their engagement reads; everything is filtered to the emulator clock's now."""

from __future__ import annotations

from fastapi import APIRouter, Request

from sandbox.dotdigital.contacts import v2_contact
from sandbox.dotdigital.engagement import contact_summary
from sandbox.dotdigital.errors import v2_error
from sandbox.dotdigital.http_utils import emu, paging, path_date, path_int
from sandbox.dotdigital.store import iso

router = APIRouter()
EPOCH = "0000"


def campaign_json(row) -> dict:
    return {"id": row["id"], "name": row["name"], "subject": row["subject"], "fromName": row["from_name"],
            "fromAddress": {"id": 1, "email": row["from_email"]}, "htmlContent": "<html></html>",
            "plainTextContent": "", "replyAction": "Unset", "replyToAddress": "", "isSplitTest": False,
            "status": row["status"]}


def _campaign(db, campaign_id: str):
    row = db.execute("SELECT * FROM campaigns WHERE id = ?", (path_int(campaign_id),)).fetchone()
    if row is None:
        raise v2_error(404, "ERROR_CAMPAIGN_NOT_FOUND")
    return row


@router.get("/v2/campaigns")
async def list_campaigns(request: Request):
    select, skip = paging(request)
    rows = emu(request).store.query("SELECT * FROM campaigns ORDER BY id LIMIT ? OFFSET ?", (select, skip))
    return [campaign_json(r) for r in rows]


@router.get("/v2/campaigns/with-activity-since/{date}")
async def with_activity_since(request: Request, date: str):
    select, skip = paging(request)
    store = emu(request).store
    since = iso(path_date(date))
    rows = store.query(
        "SELECT * FROM campaigns c WHERE EXISTS (SELECT 1 FROM campaign_events e WHERE e.campaign_id = c.id "
        "AND e.at > ? AND e.at <= ?) ORDER BY id LIMIT ? OFFSET ?", (since, store.now_iso(), select, skip))
    return [campaign_json(r) for r in rows]


@router.get("/v2/campaigns/{campaign_id}")
async def read_campaign(request: Request, campaign_id: str):
    store = emu(request).store
    with store.lock:
        return campaign_json(_campaign(store.db, campaign_id))


def _activities(request: Request, campaign_id: str, since: str | None):
    select, skip = paging(request)
    store = emu(request).store
    now = store.now_iso()
    with store.lock:
        campaign = _campaign(store.db, campaign_id)
        if since is None:
            rows = store.db.execute("SELECT * FROM campaign_contacts WHERE campaign_id = ? AND date_sent <= ? "
                                    "ORDER BY contact_id LIMIT ? OFFSET ?",
                                    (campaign["id"], now, select, skip)).fetchall()
        else:
            rows = store.db.execute(
                "SELECT * FROM campaign_contacts cc WHERE campaign_id = ? AND date_sent <= ? AND ("
                "(date_sent > ?) OR (bounce_at > ? AND bounce_at <= ?) OR (unsubscribed_at > ? AND unsubscribed_at <= ?)"
                " OR EXISTS (SELECT 1 FROM campaign_events e WHERE e.campaign_id = cc.campaign_id "
                "AND e.contact_id = cc.contact_id AND e.at > ? AND e.at <= ?)) ORDER BY contact_id LIMIT ? OFFSET ?",
                (campaign["id"], now, since, since, now, since, now, since, now, select, skip)).fetchall()
        return [contact_summary(store.db, campaign["id"], r, now) for r in rows]


@router.get("/v2/campaigns/{campaign_id}/activities")
async def activities(request: Request, campaign_id: str):
    return _activities(request, campaign_id, None)


@router.get("/v2/campaigns/{campaign_id}/activities/since-date/{date}")
async def activities_since(request: Request, campaign_id: str, date: str):
    return _activities(request, campaign_id, iso(path_date(date)))


def _events(request: Request, campaign_id: str, kind: str, since: str | None):
    select, skip = paging(request)
    store = emu(request).store
    now = store.now_iso()
    with store.lock:
        campaign = _campaign(store.db, campaign_id)
        rows = store.db.execute(
            "SELECT e.*, cc.email FROM campaign_events e JOIN campaign_contacts cc ON cc.campaign_id = e.campaign_id "
            "AND cc.contact_id = e.contact_id WHERE e.campaign_id = ? AND e.kind = ? AND e.at > ? AND e.at <= ? "
            "ORDER BY e.at, e.seq LIMIT ? OFFSET ?",
            (campaign["id"], kind, since or EPOCH, now, select, skip)).fetchall()
    if kind == "open":
        return [{"contactId": r["contact_id"], "email": r["email"], "mailClient": r["mail_client"].split("|")[0],
                 "mailClientVersion": r["mail_client"].split("|")[1], "ipAddress": r["ip"],
                 "userAgent": r["user_agent"], "isHtml": True, "isForward": False, "dateOpened": r["at"]}
                for r in rows]
    return [{"contactId": r["contact_id"], "email": r["email"], "url": r["url"], "ipAddress": r["ip"],
             "userAgent": r["user_agent"], "dateClicked": r["at"], "keyword": ""} for r in rows]


@router.get("/v2/campaigns/{campaign_id}/opens")
async def opens(request: Request, campaign_id: str):
    return _events(request, campaign_id, "open", None)


@router.get("/v2/campaigns/{campaign_id}/opens/since-date/{date}")
async def opens_since(request: Request, campaign_id: str, date: str):
    return _events(request, campaign_id, "open", iso(path_date(date)))


@router.get("/v2/campaigns/{campaign_id}/clicks")
async def clicks(request: Request, campaign_id: str):
    return _events(request, campaign_id, "click", None)


@router.get("/v2/campaigns/{campaign_id}/clicks/since-date/{date}")
async def clicks_since(request: Request, campaign_id: str, date: str):
    return _events(request, campaign_id, "click", iso(path_date(date)))


@router.get("/v2/campaigns/{campaign_id}/hard-bouncing-contacts")
async def hard_bouncing(request: Request, campaign_id: str):
    select, skip = paging(request)
    full = request.query_params.get("withFullData", "false").lower() == "true"
    store = emu(request).store
    with store.lock:
        campaign = _campaign(store.db, campaign_id)
        rows = store.db.execute(
            "SELECT c.* FROM campaign_contacts cc JOIN contacts c ON c.id = cc.contact_id WHERE cc.campaign_id = ? "
            "AND cc.bounce = 'hard' AND cc.bounce_at <= ? ORDER BY c.id LIMIT ? OFFSET ?",
            (campaign["id"], store.now_iso(), select, skip)).fetchall()
    return [v2_contact(r, full) for r in rows]


@router.get("/v2/campaigns/{campaign_id}/summary")
async def summary(request: Request, campaign_id: str):
    store = emu(request).store
    now = store.now_iso()
    with store.lock:
        campaign = _campaign(store.db, campaign_id)
        cid = campaign["id"]
        sent, first_sent = store.db.execute("SELECT COUNT(*), MIN(date_sent) FROM campaign_contacts "
                                            "WHERE campaign_id = ? AND date_sent <= ?", (cid, now)).fetchone()
        hard, soft = store.db.execute(
            "SELECT SUM(bounce = 'hard'), SUM(bounce = 'soft') FROM campaign_contacts WHERE campaign_id = ? "
            "AND bounce_at <= ?", (cid, now)).fetchone()
        unsubs = store.db.execute("SELECT COUNT(*) FROM campaign_contacts WHERE campaign_id = ? "
                                  "AND unsubscribed_at <= ?", (cid, now)).fetchone()[0]
        opens_total, unique_opens = store.db.execute(
            "SELECT COUNT(*), COUNT(DISTINCT contact_id) FROM campaign_events WHERE campaign_id = ? AND kind = 'open' "
            "AND at <= ?", (cid, now)).fetchone()
        clicks_total, unique_clicks = store.db.execute(
            "SELECT COUNT(*), COUNT(DISTINCT contact_id) FROM campaign_events WHERE campaign_id = ? "
            "AND kind = 'click' AND at <= ?", (cid, now)).fetchone()
    hard, soft = hard or 0, soft or 0
    delivered = sent - hard - soft

    def pct(n: int, d: int) -> float:
        return round(100.0 * n / d, 2) if d else 0.0

    return {
        "dateSent": first_sent or "0001-01-01T00:00:00Z", "numUniqueOpens": unique_opens, "numOpens": unique_opens,
        "numTotalOpens": opens_total, "numClicks": unique_clicks, "numTotalClicks": clicks_total,
        "numHardBounces": hard, "numSoftBounces": soft, "numUnsubscribes": unsubs, "numTotalUnsubscribes": unsubs,
        "numIspComplaints": 0, "numMailBlocks": 0, "numSent": sent, "numTotalSent": sent,
        "numDelivered": delivered, "numTotalDelivered": delivered,
        "percentageDelivered": pct(delivered, sent), "percentageUniqueOpens": pct(unique_opens, delivered),
        "percentageOpens": pct(unique_opens, delivered), "percentageUnsubscribes": pct(unsubs, delivered),
        "percentageHardBounces": pct(hard, sent), "percentageSoftBounces": pct(soft, sent),
        "percentageUsersClicked": pct(unique_clicks, delivered),
        "percentageClicksToOpens": pct(unique_clicks, unique_opens), "revenue": "0", "conversionRate": 0.0,
        "assistedRevenue": "0", "numOrders": 0, "numAssistedOrders": 0,
    }
