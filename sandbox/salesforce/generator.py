"""Deterministic seed data: realistic records with deliberately dirty ones, fast enough for 1,000,000.

Names, companies and cities come from small Faker pools built once; each record combines pool entries
through a seeded NumPy generator, column by column, and rows go to SQLite with ``executemany`` in
chunks of 100,000 (memory stays bounded). The same ``--seed`` gives the same ids, names, emails, flags
and dirty records; timestamps are relative to the emulated clock's "now".

Dirty records are disjoint per kind within an object and listed in ``salesforce-dirty.csv``
(``object,id,kind,field,detail``), also served by ``GET /__sandbox__/dirty``. Rates are in DIRTY_RATES;
each kind gets at least one record when the object has 20 or more records.
"""

from __future__ import annotations

import csv
from datetime import datetime, timedelta
from pathlib import Path

from sandbox.salesforce.schema import INDUSTRIES, INTERESTS, LEAD_SOURCES, LEAD_STATUSES, STAGES, TIERS
from sandbox.salesforce.store import Store

DIRTY_MANIFEST = "salesforce-dirty.csv"
CHUNK = 100_000
DIRTY_RATES = {
    "Contact": {"invalid_email": 0.01, "duplicate_email": 0.01, "bad_phone": 0.01, "too_long": 0.005,
                "unicode_name": 0.02, "csv_hostile_value": 0.01, "opted_out_email": 0.05, "opted_out_sms": 0.03},
    "Lead": {"invalid_email": 0.01, "bad_phone": 0.01, "unicode_name": 0.02, "csv_hostile_value": 0.01,
             "opted_out_email": 0.05, "opted_out_sms": 0.03, "lead_contact_shared_email": 0.05,
             "converted_lead": 0.05},
    "Membership__c": {"invalid_email": 0.01, "bad_phone": 0.01, "opted_out_email": 0.05, "opted_out_sms": 0.03},
}
INVALID_EMAILS = ["{l}@example", "{l}@@example.com", "{f} {l}@example.com", "{l}.example.com", "{l}@exa_mple.com",
                  "{l}..{f}@example.org", "{l}@example.com.", "@example.net"]
BAD_PHONES = ["12345", "call me after 6", "+44 (0) 7700 9", "000-000-0000 ext. 5", "07700 900 12a", "n/a", "+1"]
UNICODE_FIRST = ["Zoë", "José", "Łukasz", "Søren", "Ægir", "François", "Ñuño", "Björk", "Đorđe", "Aoife", "Ása",
                 "Ольга", "Γιώργος", "美咲", "Ngọc", "Şule", "Ümit", "Renée"]
UNICODE_LAST = ["Müller", "Nguyễn", "Łódź-Wiśniewska", "García Márquez", "Ødegård", "Çelik", "Đoković",
                "Иванова", "Παπαδόπουλος", "山田", "Dvořák", "Þórsdóttir", "Le Tréhour", "Ó Súilleabháin"]
CSV_HOSTILE = ['=HYPERLINK("http://example.com","click")', 'Director, Sales & "Growth"', "VP\nEngineering",
               "+44 Sales Lead", "-Head of Operations", "@Marketing", "Manager,\r\nEMEA", "=1+2"]
DOMAINS = ["example.com", "example.org", "example.net", "mail.example.com", "example.co.uk"]
BOUNCE_REASONS = ["550 5.1.1 The email account that you tried to reach does not exist",
                  "552 5.2.2 Mailbox full", "554 5.7.1 Message rejected as spam"]


def _pools(seed: int) -> dict[str, list[str]]:
    from faker import Faker

    fake = Faker(["en_GB", "en_US", "en_IE"])
    fake.seed_instance(seed)
    firsts = sorted({fake.first_name() for _ in range(1500)})
    lasts = sorted({fake.last_name() for _ in range(1500)})
    return {"first": firsts, "last": lasts,
            "company": sorted({fake.company() for _ in range(800)}),
            "city": sorted({fake.city() for _ in range(300)}),
            "title": sorted({t for t in (fake.job() for _ in range(600)) if len(t) <= 128}),
            "street": sorted({fake.street_name() for _ in range(100)})}


class Generator:
    def __init__(self, store: Store, seed: int, now: datetime):
        import numpy as np

        self.np = np
        self.store = store
        self.seed = seed
        self.now = now
        self.pools = _pools(seed)
        self.manifest: list[tuple] = []
        self._ordinals: dict[tuple[str, str], int] = {}
        self._local_parts: dict[str, str] = {}
        self._mobiles = [form.format(d) for form in ("+44 7700 900{:03d}", "07700 900{:03d}", "+447700900{:03d}")
                         for d in range(1000)]
        self._landlines = [form.format(d) for form in ("+44 20 7946 0{:03d}", "020 7946 0{:03d}") for d in range(1000)]
        self.interest_sets = [";".join(v for i, v in enumerate(INTERESTS) if mask >> i & 1) or None
                              for mask in range(32)]

    def rng(self, *salt: int):
        return self.np.random.default_rng([self.seed, *salt])

    # -- helpers ------------------------------------------------------------------------------------
    def _stamps(self, rng, n: int, max_age_days: int = 730) -> tuple[list[str], list[str]]:
        np = self.np
        now_ms = int(self.now.timestamp() * 1000)
        created = now_ms - rng.integers(60_000, max_age_days * 86_400_000, n)
        modified = created + (rng.random(n) * (now_ms - created)).astype(np.int64)
        fmt = np.datetime_as_string
        return ([s + "+0000" for s in fmt(created.astype("datetime64[ms]"), unit="ms").tolist()],
                [s + "+0000" for s in fmt(modified.astype("datetime64[ms]"), unit="ms").tolist()])

    def _dates(self, rng, n: int, start: str, end: str) -> list[str]:
        np = self.np
        lo, hi = np.datetime64(start), np.datetime64(end)
        days = rng.integers(0, int((hi - lo).astype(int)), n)
        return np.datetime_as_string(lo + days.astype("timedelta64[D]"), unit="D").tolist()

    def _pick(self, rng, pool: list, n: int) -> list:
        return [pool[i] for i in rng.integers(0, len(pool), n).tolist()]

    def _dirty_plan(self, obj: str, n: int) -> dict[int, str]:
        rates = DIRTY_RATES.get(obj, {})
        order = self.rng(99, len(obj), n).permutation(n)
        plan: dict[int, str] = {}
        pos = 0
        for kind, rate in rates.items():
            count = max(1, round(n * rate)) if n >= 20 else 0
            for idx in order[pos:pos + count].tolist():
                if kind == "duplicate_email" and idx == 0:
                    continue
                plan[idx] = kind
            pos += count
        return plan

    def _mobile(self, rng, n: int) -> list[str]:
        """UK-format mobile numbers (07 + 9 digits), in three common spellings.

        Drawn from a billion numbers rather than Ofcom's 1,000-number drama range, so two people share a
        mobile only as rarely as in a real org (a shared number is a deliberate dirty record, not noise).
        """
        digits = rng.integers(0, 10**9, n).tolist()
        forms = rng.integers(0, 3, n).tolist()
        spell = ("+44 7{} {}".format, "07{} {}".format, "+447{}{}".format)
        return [spell[f](f"{d:09d}"[:3], f"{d:09d}"[3:]) for d, f in zip(digits, forms, strict=True)]

    def _landline(self, rng, n: int) -> list[str]:
        """London numbers from Ofcom's drama range (020 7946 0000-0999)."""
        pool = self._landlines
        return [pool[i] for i in rng.integers(0, len(pool), n).tolist()]

    def _emails(self, firsts, lasts, tags, domains) -> list[str]:
        local = self._local_parts
        out = []
        for f, last, tag, d in zip(firsts, lasts, tags, domains, strict=True):
            a = local.get(f)
            if a is None:
                a = local[f] = "".join(ch for ch in f.lower() if ch.isascii() and ch.isalnum())
            b = local.get(last)
            if b is None:
                b = local[last] = "".join(ch for ch in last.lower() if ch.isascii() and ch.isalnum())
            out.append(f"{a}.{b}{tag}@{d}")
        return out

    def _ordinal(self, obj: str, kind: str) -> int:
        """How many records of this kind came before: cycles through each list of dirty values in order."""
        key = (obj, kind)
        self._ordinals[key] = self._ordinals.get(key, -1) + 1
        return self._ordinals[key]

    def _note(self, obj: str, record_id: str, kind: str, field: str, detail: str = "") -> None:
        self.manifest.append((obj, record_id, kind, field, detail))

    # -- objects ------------------------------------------------------------------------------------
    def accounts(self, n: int) -> list[str]:
        obj = self.store.objects["Account"]
        rng = self.rng(1)
        ids = self.store.new_ids(obj, n)
        created, modified = self._stamps(rng, n, 1500)
        names = [f"{c} {i}" if i >= len(self.pools["company"]) else c
                 for i, c in enumerate(self._pick(rng, self.pools["company"], n))]
        rows = zip(ids, [0] * n, created, modified, modified, names, self._pick(rng, INDUSTRIES, n),
                   self._pick(rng, ["Prospect", "Customer - Direct", "Partner"], n),
                   self._pick(rng, self.pools["city"], n), self._pick(rng, ["United Kingdom", "Ireland",
                                                                            "United States"], n), strict=True)
        self.store.load_rows(obj, ["Id", "IsDeleted", "CreatedDate", "LastModifiedDate", "SystemModstamp", "Name",
                                   "Industry", "Type", "BillingCity", "BillingCountry"], rows)
        return ids

    def people(self, obj_name: str, n: int, account_ids: list[str]) -> list[str]:
        """Contacts or Leads, in chunks; returns all ids (strings only, ~25 MB per million)."""
        obj = self.store.objects[obj_name]
        plan = self._dirty_plan(obj_name, n)
        all_ids = self.store.new_ids(obj, n)
        is_lead = obj_name == "Lead"
        columns = ["Id", "IsDeleted", "CreatedDate", "LastModifiedDate", "SystemModstamp", "FirstName", "LastName",
                   "Name", "Email", "Phone", "MobilePhone", "Title", "LeadSource", "HasOptedOutOfEmail", "DoNotCall",
                   "EmailBouncedDate", "EmailBouncedReason", "Description", "SMS_Opt_Out__c", "Interests__c",
                   "Email_Consent_Date__c"]
        columns += (["Company", "Status", "Industry", "Rating", "IsConverted", "City", "Country"] if is_lead else
                    ["AccountId", "Birthdate", "MailingCity", "MailingCountry", "Level__c", "Loyalty_Points__c"])
        for start in range(0, n, CHUNK):
            size = min(CHUNK, n - start)
            rng = self.rng(2 if is_lead else 3, start)
            ids = all_ids[start:start + size]
            created, modified = self._stamps(rng, size)
            firsts = self._pick(rng, self.pools["first"], size)
            lasts = self._pick(rng, self.pools["last"], size)
            tags = [f".{t}" if t >= 100 else "" for t in rng.integers(0, 100000, size).tolist()]
            tags = [f"{tag}{start + i}" if not tag else tag for i, tag in enumerate(tags)]
            emails = self._emails(firsts, lasts, tags, self._pick(rng, DOMAINS, size))
            mobiles = self._mobile(rng, size)
            phones = self._landline(rng, size)
            titles = self._pick(rng, self.pools["title"], size)
            sources = self._pick(rng, LEAD_SOURCES + [None], size)
            email_out = [0] * size
            sms_out = [0] * size
            dnc = (rng.random(size) < 0.02).astype(int).tolist()
            bounced = (rng.random(size) < 0.01).tolist()
            bounce_dates = [m if b else None for m, b in zip(modified, bounced, strict=True)]
            bounce_reasons = [BOUNCE_REASONS[i % 3] if b else None for i, b in enumerate(bounced)]
            descriptions = [None] * size
            weights = self.np.array([8] + [3] * 5 + [1] * 26, dtype=float)
            interests = [self.interest_sets[i] for i in
                         rng.choice(32, size, p=weights / weights.sum()).tolist()]
            consent_dates = [c if r < 0.7 else None for c, r in zip(created, rng.random(size).tolist(), strict=True)]
            for i in range(size):
                kind = plan.get(start + i)
                if kind is None:
                    continue
                rid, field, detail = ids[i], "Email", ""
                nth = self._ordinal(obj_name, kind)
                if kind == "invalid_email":
                    form = INVALID_EMAILS[nth % len(INVALID_EMAILS)]
                    emails[i] = form.format(f=firsts[i].lower(), l=lasts[i].lower())
                elif kind == "bad_phone":
                    field, mobiles[i] = "MobilePhone", BAD_PHONES[nth % len(BAD_PHONES)]
                elif kind == "too_long":
                    field = "Description"
                    descriptions[i] = ("Long free-text note. " * 60)[:1001 + nth % 200]
                    detail = f"{len(descriptions[i])} chars"
                elif kind == "unicode_name":
                    field = "FirstName,LastName"
                    firsts[i] = UNICODE_FIRST[nth % len(UNICODE_FIRST)]
                    lasts[i] = UNICODE_LAST[nth % len(UNICODE_LAST)]
                elif kind == "csv_hostile_value":
                    field = "Title"
                    titles[i] = CSV_HOSTILE[nth % len(CSV_HOSTILE)]
                    detail = repr(titles[i])
                elif kind == "opted_out_email":
                    field, email_out[i] = "HasOptedOutOfEmail", 1
                elif kind == "opted_out_sms":
                    field, sms_out[i] = "SMS_Opt_Out__c", 1
                elif kind in ("duplicate_email", "lead_contact_shared_email", "converted_lead"):
                    continue  # filled in after loading, from other rows (see _link_emails)
                self._note(obj_name, rid, kind, field, detail)
            names = [f"{f} {last}" for f, last in zip(firsts, lasts, strict=True)]
            base = [ids, [0] * size, created, modified, modified, firsts, lasts, names, emails, phones, mobiles,
                    titles, sources, email_out, dnc, bounce_dates, bounce_reasons, descriptions, sms_out, interests,
                    consent_dates]
            if is_lead:
                statuses = self._pick(rng, LEAD_STATUSES[:2] + [LEAD_STATUSES[3]], size)
                extra = [self._pick(rng, self.pools["company"], size), statuses, self._pick(rng, INDUSTRIES, size),
                         self._pick(rng, ["Hot", "Warm", "Cold", None], size), [0] * size,
                         self._pick(rng, self.pools["city"], size), self._pick(rng, ["United Kingdom", "Ireland"], size)]
            else:
                extra = [self._pick(rng, account_ids, size) if account_ids else [None] * size,
                         self._dates(rng, size, "1950-01-01", "2005-12-31"), self._pick(rng, self.pools["city"], size),
                         self._pick(rng, ["United Kingdom", "Ireland", "United States"], size),
                         self._pick(rng, ["Primary", "Secondary", "Tertiary", None], size),
                         rng.integers(0, 5000, size).astype(float).tolist()]
            self.store.load_rows(obj, columns, zip(*base, *extra, strict=True))
        self._link_emails(obj_name, plan, all_ids)
        return all_ids

    def _link_emails(self, obj_name: str, plan: dict[int, str], ids: list[str]) -> None:
        """Dirty kinds that copy another record's email: duplicates, Lead/Contact sharing, conversions."""
        w = self.store.writer
        contact_n = w.execute("SELECT COUNT(*) FROM Contact").fetchone()[0]

        def clean_contact_row(idx: int) -> int:
            """A deterministic Contact row (1-based) that is not itself dirty."""
            row = (idx * 7919) % contact_n
            while row in self._contact_plan:
                row = (row + 1) % contact_n
            return row + 1
        w.execute("BEGIN")
        for idx, kind in sorted(plan.items()):
            rowid = idx + 1
            if kind == "duplicate_email":
                original = rowid - 1 - (idx % 50) if rowid - 1 - (idx % 50) >= 1 else 1
                while original - 1 in plan and original > 1:
                    original -= 1
                w.execute(f'UPDATE "{obj_name}" SET Email = (SELECT Email FROM "{obj_name}" WHERE rowid = ?) '
                          "WHERE rowid = ?", (original, rowid))
                self._note(obj_name, ids[idx], kind, "Email", f"same Email as {ids[original - 1]}")
            elif kind in ("lead_contact_shared_email", "converted_lead") and contact_n > len(self._contact_plan):
                contact_row = clean_contact_row(idx)
                contact_id, email, account_id, stamp = w.execute(
                    "SELECT Id, Email, AccountId, SystemModstamp FROM Contact WHERE rowid = ?",
                    (contact_row,)).fetchone()
                if kind == "lead_contact_shared_email":
                    w.execute("UPDATE Lead SET Email = ? WHERE rowid = ?", (email, rowid))
                    self._note("Lead", ids[idx], kind, "Email", f"same Email as Contact {contact_id}")
                else:
                    w.execute("UPDATE Lead SET Email = ?, IsConverted = 1, Status = 'Closed - Converted', "
                              "ConvertedContactId = ?, ConvertedAccountId = ?, ConvertedDate = ? WHERE rowid = ?",
                              (email, contact_id, account_id, stamp[:10], rowid))
                    self._note("Lead", ids[idx], kind, "ConvertedContactId", contact_id)
        w.execute("COMMIT")

    def memberships(self, n: int, contact_ids: list[str]) -> None:
        obj = self.store.objects["Membership__c"]
        plan = self._dirty_plan("Membership__c", n)
        rng = self.rng(4)
        ids = self.store.new_ids(obj, n)
        created, modified = self._stamps(rng, n)
        firsts = self._pick(rng, self.pools["first"], n)
        lasts = self._pick(rng, self.pools["last"], n)
        numbers = [f"M{10000000 + i}" for i in range(n)]
        emails = self._emails(firsts, lasts, [f".m{i}" for i in range(n)], self._pick(rng, DOMAINS, n))
        mobiles = self._mobile(rng, n)
        email_out, sms_out = [0] * n, [0] * n
        for idx, kind in sorted(plan.items()):
            field = {"invalid_email": "Email__c", "bad_phone": "Mobile__c", "opted_out_email": "Email_Opt_Out__c",
                     "opted_out_sms": "SMS_Opt_Out__c"}[kind]
            if kind == "invalid_email":
                emails[idx] = INVALID_EMAILS[self._ordinal("Membership__c", kind) % len(INVALID_EMAILS)].format(f=firsts[idx].lower(),
                                                                               l=lasts[idx].lower())
            elif kind == "bad_phone":
                mobiles[idx] = BAD_PHONES[self._ordinal("Membership__c", kind) % len(BAD_PHONES)]
            elif kind == "opted_out_email":
                email_out[idx] = 1
            else:
                sms_out[idx] = 1
            self._note("Membership__c", ids[idx], kind, field)
        interests = [self.interest_sets[i] for i in rng.integers(0, 32, n).tolist()]
        links = [contact_ids[i] if contact_ids and r < 0.5 else None
                 for i, r in zip(rng.integers(0, max(1, len(contact_ids)), n).tolist(), rng.random(n).tolist(),
                                 strict=True)]
        rows = zip(ids, [0] * n, created, modified, modified, [f"{f} {last}" for f, last in zip(firsts, lasts,
                                                                                                    strict=True)],
                   emails, mobiles, self._pick(rng, TIERS, n), interests,
                   self._dates(rng, n, "2015-01-01", self.now.date().isoformat()),
                   rng.integers(0, 20000, n).astype(float).tolist(), email_out, sms_out, numbers, links, strict=True)
        self.store.load_rows(obj, ["Id", "IsDeleted", "CreatedDate", "LastModifiedDate", "SystemModstamp", "Name",
                                   "Email__c", "Mobile__c", "Tier__c", "Interests__c", "Joined__c", "Points__c",
                                   "Email_Opt_Out__c", "SMS_Opt_Out__c", "Member_Number__c", "Contact__c"], rows)

    def activity(self, contact_ids: list[str], lead_ids: list[str], account_ids: list[str]) -> None:
        """Campaigns, members, opportunities, email tasks and history rows."""
        s = self.store
        rng = self.rng(5)
        n_campaigns = 5
        camp_ids = s.new_ids(s.objects["Campaign"], n_campaigns)
        created, modified = self._stamps(rng, n_campaigns, 365)
        s.load_rows(s.objects["Campaign"], ["Id", "IsDeleted", "CreatedDate", "LastModifiedDate", "SystemModstamp",
                                            "Name", "Type", "Status", "IsActive"],
                    [(camp_ids[i], 0, created[i], modified[i], modified[i], f"Spring Newsletter {2020 + i}", "Email",
                      "In Progress" if i % 2 else "Completed", i % 2) for i in range(n_campaigns)])
        n_members = len(contact_ids) // 50
        if n_members:
            member_ids = s.new_ids(s.objects["CampaignMember"], n_members)
            created, modified = self._stamps(rng, n_members, 365)
            status = self._pick(rng, ["Sent", "Responded", "Received"], n_members)
            s.load_rows(s.objects["CampaignMember"], ["Id", "IsDeleted", "CreatedDate", "LastModifiedDate",
                                                      "SystemModstamp", "CampaignId", "ContactId", "Status",
                                                      "HasResponded"],
                        zip(member_ids, [0] * n_members, created, modified, modified,
                            self._pick(rng, camp_ids, n_members), contact_ids[::50][:n_members], status,
                            [1 if x == "Responded" else 0 for x in status], strict=True))
            task_ids = s.new_ids(s.objects["Task"], n_members)
            s.load_rows(s.objects["Task"], ["Id", "IsDeleted", "CreatedDate", "LastModifiedDate", "SystemModstamp",
                                            "Subject", "ActivityDate", "Status", "Priority", "WhoId", "WhatId",
                                            "TaskSubtype", "Type"],
                        zip(task_ids, [0] * n_members, created, modified, modified,
                            [f"Email: Spring Newsletter {2020 + i % 5}" for i in range(n_members)],
                            [c[:10] for c in created], ["Completed"] * n_members, ["Normal"] * n_members,
                            contact_ids[::50][:n_members], self._pick(rng, camp_ids, n_members),
                            ["Email"] * n_members, ["Email"] * n_members, strict=True))
        n_opps = max(1, len(contact_ids) // 50) if account_ids else 0
        if n_opps:
            opp_ids = s.new_ids(s.objects["Opportunity"], n_opps)
            created, modified = self._stamps(rng, n_opps, 365)
            stages = self._pick(rng, STAGES, n_opps)
            s.load_rows(s.objects["Opportunity"], ["Id", "IsDeleted", "CreatedDate", "LastModifiedDate",
                                                   "SystemModstamp", "Name", "StageName", "CloseDate", "Amount",
                                                   "AccountId", "ContactId"],
                        zip(opp_ids, [0] * n_opps, created, modified, modified,
                            [f"Renewal {i}" for i in range(n_opps)], stages,
                            self._dates(rng, n_opps, self.now.date().isoformat(),
                                        (self.now + timedelta(days=180)).date().isoformat()),
                            (rng.integers(10, 5000, n_opps) * 10).astype(float).tolist(),
                            self._pick(rng, account_ids, n_opps), contact_ids[1::50][:n_opps], strict=True))
            hist_ids = s.new_ids(s.objects["OpportunityFieldHistory"], n_opps)
            s.load_rows(s.objects["OpportunityFieldHistory"],
                        ["Id", "IsDeleted", "CreatedDate", "OpportunityId", "Field", "DataType", "OldValue",
                         "NewValue"],
                        zip(hist_ids, [0] * n_opps, modified, opp_ids, ["StageName"] * n_opps,
                            ["Picklist"] * n_opps, ["Prospecting"] * n_opps, stages, strict=True))
        if lead_ids:
            rows = s.writer.execute("SELECT Id, CreatedDate, SystemModstamp, Status FROM Lead").fetchall()
            hist_ids = s.new_ids(s.objects["LeadHistory"], 2 * len(rows))
            history = []
            for i, (lead_id, lead_created, lead_mod, status) in enumerate(rows):
                history.append((hist_ids[2 * i], 0, lead_created, lead_id, "created", None, None))
                if status != LEAD_STATUSES[0]:
                    history.append((hist_ids[2 * i + 1], 0, lead_mod, lead_id, "Status", LEAD_STATUSES[0], status))
            s.load_rows(s.objects["LeadHistory"], ["Id", "IsDeleted", "CreatedDate", "LeadId", "Field", "OldValue",
                                                   "NewValue"], history)

    def run(self, contacts: int, leads: int, memberships: int) -> dict:
        objects = self.store.objects
        for obj in objects.values():
            self.store.drop_indexes(obj)
        account_ids = self.accounts(max(1, contacts // 20)) if contacts else []
        self._contact_plan = self._dirty_plan("Contact", contacts)
        contact_ids = self.people("Contact", contacts, account_ids) if contacts else []
        lead_ids = self.people("Lead", leads, account_ids) if leads else []
        if memberships:
            self.memberships(memberships, contact_ids)
        self.activity(contact_ids, lead_ids, account_ids)
        for obj in objects.values():
            self.store.create_indexes(obj)
        self.write_manifest()
        return {"Account": len(account_ids), "Contact": contacts, "Lead": leads, "Membership__c": memberships,
                "dirty": len(self.manifest)}

    def write_manifest(self) -> None:
        path = Path(self.store.path).parent / DIRTY_MANIFEST
        with open(path, "w", newline="", encoding="utf-8") as handle:
            out = csv.writer(handle)
            out.writerow(["object", "id", "kind", "field", "detail"])
            out.writerows(sorted(self.manifest, key=lambda r: (r[0], r[2], r[1])))


def generate(store: Store, seed: int, contacts: int, leads: int | None = None,
             memberships: int | None = None) -> dict:
    """Replace the store's data. The journal is off while loading (nobody else is connected yet), which
    halves the write volume compared with WAL, and back to WAL before the server starts."""
    store.drop_all()
    store.writer.execute("PRAGMA journal_mode=OFF")
    try:
        gen = Generator(store, seed, store.clock.now())
        return gen.run(contacts, contacts // 4 if leads is None else leads,
                       contacts // 10 if memberships is None else memberships)
    finally:
        store.writer.execute("PRAGMA journal_mode=WAL")
