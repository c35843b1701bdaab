"""Retention: closed and transferred records are anonymised after YIMI_CARE_RETENTION_DAYS."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from yimi.care.models import Child, ChildEvent, Consent, Document, FamilyMember, Visit
from yimi.care.services import records as services
from yimi.core.models import AuditLog

from .builders_records import child, city_with_b, people


@pytest.fixture
def setup(db, settings):
    settings.YIMI_CARE_RETENTION_DAYS = 30
    city = city_with_b()
    who = people(city)
    d = who["director"]
    old = child(d, city["CA1"], name="旧档童")
    services.family_member_add(actor=d, child=old, relation="father", name="旧档父", phone="139")
    services.document_upload(actor=d, child=old, title="证明", filename="a.txt", content=b"abc")
    services.consent_grant(
        actor=d, child=old, purpose="volunteer", given_by="旧档父", relation="father"
    )
    Visit.objects.create(child=old, visited_on=dt.date(2020, 1, 1), findings={"living": "家中困难"})
    services.child_close(actor=d, child=old, status="closed", reason="已成年")
    Child.objects.filter(pk=old.pk).update(closed_on=timezone.localdate() - dt.timedelta(31))
    recent = child(d, city["CA1"], name="近档童")
    services.child_close(actor=d, child=recent, status="transferred", reason="迁出")
    active = child(d, city["CA1"], name="在册童")
    return who, old, recent, active


def test_dry_run_counts_and_changes_nothing(setup):
    _, old, _, _ = setup
    out = io.StringIO()
    call_command("care_retention", "--dry-run", "--no-progress", stdout=out)
    assert "1" in out.getvalue()
    assert Child.objects.get(pk=old.pk).name == "旧档童"


def test_retention_anonymises_only_old_closed_records(setup):
    _, old, recent, active = setup
    out = io.StringIO()
    call_command("care_retention", "--no-progress", stdout=out)
    assert "1" in out.getvalue()
    c = Child.objects.get(pk=old.pk)
    assert c.anonymised_at is not None
    assert (c.name, c.id_number, c.address, c.name_hash, c.id_hash) == ("", "", "", "", None)
    assert c.health is None and c.close_reason == "" and c.birth_date == dt.date(2015, 1, 1)
    # Kept for statistics.
    assert c.categories == ["left_behind"] and c.status == "closed" and c.file_no
    member = FamilyMember.objects.get(child=c)
    assert (member.name, member.phone) == ("", "")
    assert not Document.objects.filter(child=c).exists()
    assert Visit.objects.get(child=c).findings is None
    assert Consent.objects.get(child=c).given_by == ""
    assert c.events.filter(kind=ChildEvent.Kind.ANONYMISED).exists()
    row = AuditLog.objects.filter(object_type="care.child", object_id=str(c.pk)).latest("id")
    assert row.note.startswith("anonymised")
    for other in (recent, active):
        assert Child.objects.get(pk=other.pk).anonymised_at is None
        assert Child.objects.get(pk=other.pk).name
    # Nothing of the old record is left in the database, even encrypted.
    with connection.cursor() as cur:
        cur.execute("SELECT name, id_number, address FROM care_child WHERE id = %s", [c.pk])
        assert cur.fetchone() == ("", "", "")
    # Run again: nothing more to do, and the anonymised record refuses changes.
    out = io.StringIO()
    call_command("care_retention", "--no-progress", stdout=out)
    assert "0" in out.getvalue()
    with pytest.raises(services.ServiceError):
        services.child_reopen(actor=setup[0]["director"], child=c)
