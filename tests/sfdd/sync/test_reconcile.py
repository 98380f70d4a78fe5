from sfdd.sync.contact_sync import format_summary, summarise


def _t(read, valid, rejected, skipped, deleted, codes=None, rules=None):
    return {"counts": {"read": read, "valid": valid, "rejected": rejected, "skipped": skipped, "deleted": deleted},
            "rejected_by_code": codes or {}, "skipped_by_rule": rules or {}}


def _l(created, updated, failed=0, kept=0, codes=None):
    return {"created": created, "updated": updated, "failed": failed, "kept_suppressed": kept,
            "failed_by_code": codes or {}, "deleted_removed": 0, "deleted_not_found": 0}


def test_counts_that_add_up_balance():
    s = summarise([_t(10, 7, 2, 1, 0, {"INVALID_EMAIL": 2}, {"converted_lead": 1}), _t(5, 5, 0, 0, 0)],
                  [_l(4, 2, 1, codes={"DOTDIGITAL_invalidEmail": 1}), _l(5, 0)])
    assert s["balanced"] is True
    assert s["read"] == 15 and s["rejected"] == 3
    assert s["rejected_by_code"] == {"INVALID_EMAIL": 2, "DOTDIGITAL_invalidEmail": 1}


def test_a_lost_record_unbalances_the_run():
    s = summarise([_t(10, 10, 0, 0, 0)], [_l(6, 3)])
    assert s["balanced"] is False and s["accounted"] == 9


def test_dry_run_counts_would_import():
    s = summarise([_t(4, 3, 1, 0, 0)], [{"dry_run": True, "would_import": 3}])
    assert s["balanced"] and s["dry_run"] and s["would_import"] == 3


def test_summary_table_names_codes_and_rules():
    s = summarise([_t(3, 1, 1, 1, 0, {"INVALID_EMAIL": 1}, {"converted_lead": 1})], [_l(1, 0)])
    text = format_summary("lead", {"mode": "delta", "start": None, "end": "2026-01-01T00:00:00+00:00"}, s)
    assert "rejected INVALID_EMAIL" in text and "skipped converted_lead" in text and "balanced" in text
