"""Records pages: lists identified or de-identified, the file, 404 for other areas, reveal,
consent withdrawal, documents, forms naming bad fields."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from yimi.care.models import Child, Consent
from yimi.care.services import records as services
from yimi.core.models import AuditLog

from .builders_records import child, city_with_b, id_number, order_for, people


@pytest.fixture
def setup(db):
    city = city_with_b()
    who = people(city)
    c = child(who["director"], city["CA1"], name="张小明")
    return city, who, c


def _as(client, user):
    client.force_login(user)
    return client


def test_list_is_identified_for_directors_and_deidentified_for_wcco(client, setup):
    _, who, c = setup
    page = _as(client, who["director"]).get(reverse("care:children")).content.decode()
    assert "张小明" in page and c.file_no in page and c.id_number not in page
    client.logout()
    page = _as(client, who["wcco"]).get(reverse("care:children")).content.decode()
    assert "张小明" not in page and "张**" in page and "deidentified-note" in page
    # Searching a name as the wcco finds nothing.
    page = client.get(reverse("care:children"), {"q": "张小明"}).content.decode()
    assert c.file_no not in page


def test_other_area_gets_404_on_every_child_page(client, setup):
    _, who, c = setup
    _as(client, who["director_b"])
    consent = services.consent_grant(
        actor=who["director"], child=c, purpose="volunteer", given_by="母", relation="mother"
    )
    doc = services.document_upload(
        actor=who["director"], child=c, title="t", filename="t.txt", content=b"x"
    )
    gets = [
        reverse("care:child", args=[c.pk]),
        reverse("care:child_edit", args=[c.pk]),
        reverse("care:family_add", args=[c.pk]),
        reverse("care:consent_add", args=[c.pk]),
        reverse("care:document_upload", args=[c.pk]),
        reverse("care:document_download", args=[c.pk, doc.pk]),
        reverse("care:assessment_new", args=[c.pk]),
    ]
    posts = [
        reverse("care:child_reveal_id", args=[c.pk]),
        reverse("care:child_close", args=[c.pk]),
        reverse("care:consent_withdraw", args=[c.pk, consent.pk]),
        reverse("care:document_delete", args=[c.pk, doc.pk]),
    ]
    for url in gets:
        assert client.get(url).status_code == 404, url
    for url in posts:
        assert client.post(url, {"status": "closed", "reason": "x"}).status_code == 404, url
    assert (
        reverse("care:children")
        and "张小明" not in client.get(reverse("care:children")).content.decode()
    )
    c.refresh_from_db()
    assert c.status == "active" and Consent.objects.get().active
    # The public sees no care page at all.
    client.force_login(who["public"])
    assert client.get(reverse("care:child", args=[c.pk])).status_code in (403, 404)


def test_the_file_page_audits_and_reveal_is_audited_and_refused_for_wcco(client, setup):
    _, who, c = setup
    _as(client, who["director"])
    page = client.get(reverse("care:child", args=[c.pk])).content.decode()
    assert "张小明" in page and c.id_number not in page and "哮喘" in page
    read = AuditLog.objects.filter(action="read", object_id=str(c.pk)).latest("id")
    assert read.actor == who["director"] and "health" in read.after["sections"]
    r = client.post(reverse("care:child_reveal_id", args=[c.pk]))
    assert r.status_code == 200 and c.id_number in r.content.decode()
    assert AuditLog.objects.filter(action="read", after__what="reveal_id").count() == 1
    client.logout()
    _as(client, who["wcco"])
    page = client.get(reverse("care:child", args=[c.pk])).content.decode()
    assert "张小明" not in page and "哮喘" not in page and c.file_no in page
    assert client.post(reverse("care:child_reveal_id", args=[c.pk])).status_code == 403
    assert client.get(reverse("care:child_edit", args=[c.pk])).status_code == 403
    assert AuditLog.objects.filter(action="read", after__what="reveal_id").count() == 1


def test_department_sees_the_child_only_while_consent_is_active(client, setup):
    _, who, c = setup
    order_for(c, who["dept"], sections=("health",))
    consent = services.consent_grant(
        actor=who["director"],
        child=c,
        purpose="referral",
        department=who["dept"],
        given_by="母",
        relation="mother",
    )
    _as(client, who["dept_user"])
    page = client.get(reverse("care:child", args=[c.pk])).content.decode()
    assert "哮喘" in page and "测试路" not in page  # health yes, contact no
    client.logout()
    _as(client, who["director"])
    r = client.post(reverse("care:consent_withdraw", args=[c.pk, consent.pk]))
    assert r.status_code == 302
    client.logout()
    _as(client, who["dept_user"])
    assert client.get(reverse("care:child", args=[c.pk])).status_code == 404


def test_register_edit_and_form_errors_name_the_field(client, setup):
    city, who, _ = setup
    _as(client, who["director"])
    assert client.get(reverse("care:child_new")).status_code == 200
    r = client.post(
        reverse("care:child_new"),
        {
            "name": "李四",
            "id_number": "110108201503079910",
            "categories": ["orphan"],
            "risk_level": "low",
            "area": city["CA1"].pk,
            "school_stage": "primary",
        },
    )
    assert r.status_code == 200 and "校验码" in r.content.decode()
    number = id_number()
    r = client.post(
        reverse("care:child_new"),
        {
            "name": "李四",
            "id_number": number,
            "categories": ["orphan"],
            "risk_level": "low",
            "area": city["CA1"].pk,
            "school_stage": "primary",
        },
    )
    assert r.status_code == 302
    new = Child.objects.get(id_hash__isnull=False, file_no__endswith="00002")
    assert new.name == "李四" and new.school_stage == "primary"
    edit = client.get(reverse("care:child_edit", args=[new.pk]))
    assert edit.status_code == 200 and number not in edit.content.decode()
    data = {
        "name": "李四",
        "categories": ["orphan", "migrant"],
        "risk_level": "high",
        "area": city["CA1"].pk,
        "school_stage": "primary",
        "birth_date": new.birth_date,
        "sex": new.sex,
        "disability_grade": "2",
        "disability_type": "肢体",
    }
    assert client.post(reverse("care:child_edit", args=[new.pk]), data).status_code == 302
    new.refresh_from_db()
    assert new.risk_level == "high" and new.disability_grade == 2 and new.id_number == number
    assert new.categories == ["migrant", "orphan"] or set(new.categories) == {"orphan", "migrant"}


def test_documents_upload_download_audited(client, setup):
    _, who, c = setup
    _as(client, who["director"])
    r = client.post(
        reverse("care:document_upload", args=[c.pk]),
        {
            "title": "证明",
            "section": "documents",
            "file": SimpleUploadedFile("证明.pdf", b"%PDF data", content_type="application/pdf"),
        },
    )
    assert r.status_code == 302
    doc = c.documents.get()
    r = client.get(reverse("care:document_download", args=[c.pk, doc.pk]))
    assert r.content == b"%PDF data" and "attachment" in r["Content-Disposition"]
    assert AuditLog.objects.filter(action="read", note__startswith="document").exists()


def test_family_consent_assessment_close_forms(client, setup):
    _, who, c = setup
    _as(client, who["director"])
    r = client.post(
        reverse("care:family_add", args=[c.pk]),
        {"relation": "mother", "situation": "away", "name": "张母", "is_guardian": "on"},
    )
    assert r.status_code == 302 and c.family.get().is_guardian
    r = client.post(
        reverse("care:consent_add", args=[c.pk]),
        {"purpose": "referral", "given_by": "张母", "relation": "mother", "given_on": "2026-01-05"},
    )
    assert r.status_code == 200 and "department" in r.content.decode()  # names the field
    r = client.post(
        reverse("care:assessment_new", args=[c.pk]),
        {"assessed_on": "2026-01-05", "risk_level": "high", "summary": "x"},
    )
    assert r.status_code == 302
    r = client.post(
        reverse("care:child_close", args=[c.pk]), {"status": "transferred", "reason": "迁出"}
    )
    assert r.status_code == 302
    c.refresh_from_db()
    assert c.risk_level == "high" and c.status == "transferred"
    page = client.get(reverse("care:child", args=[c.pk])).content.decode()
    assert "张母" in page


def test_every_page_of_the_register_is_audited_with_the_files_shown(client, setup):
    city, who, c = setup
    _as(client, who["director"])
    assert client.get(reverse("care:children")).status_code == 200
    row = AuditLog.objects.filter(action="read", after__what="register").latest("id")
    assert row.after["file_nos"] == [c.file_no] and row.actor == who["director"]
    assert row.area_path == who["director"].area.path
    assert "张小明" not in str(row.after) + row.note + row.object_repr
    client.get("/api/v1/care/children")
    assert AuditLog.objects.filter(action="read", after__what="register (API)").exists()
