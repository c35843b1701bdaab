"""Consent per purpose and department: a department sees a child only with an active referral
consent; withdrawing it revokes the share at once."""

from __future__ import annotations

import pytest
from django.http import Http404

from yimi.care import policy
from yimi.care.models import ChildEvent, Consent
from yimi.care.selectors import records as selectors
from yimi.care.services import records as services
from yimi.core.models import AuditLog
from yimi.core.services import PermissionDenied, ServiceError

from .builders_records import child, city_with_b, order_for, people


@pytest.fixture
def setup(db):
    city = city_with_b()
    who = people(city)
    c = child(who["director"], city["CA1"])
    order_for(c, who["dept"], sections=("health",))
    return city, who, c


def _grant(who, c, **kw):
    fields = {
        "purpose": "referral",
        "department": who["dept"],
        "given_by": "测试母",
        "relation": "mother",
    }
    fields.update(kw)
    return services.consent_grant(actor=who["director"], child=c, **fields)


def test_no_consent_no_share(setup):
    _, who, c = setup
    assert not policy.children_visible_to(who["dept_user"]).filter(pk=c.pk).exists()
    # Consent for another purpose does not open the record either.
    _grant(who, c, purpose="sharing")
    assert not policy.children_visible_to(who["dept_user"]).filter(pk=c.pk).exists()
    with pytest.raises(Http404):
        selectors.child_detail(who["dept_user"], c)


def test_withdrawing_consent_revokes_the_share_at_once(setup):
    _, who, c = setup
    consent = _grant(who, c)
    assert policy.children_visible_to(who["dept_user"]).filter(pk=c.pk).exists()
    assert selectors.child_detail(who["dept_user"], c)["sections"]["health"]
    services.consent_withdraw(actor=who["director"], consent=consent)
    assert not policy.children_visible_to(who["dept_user"]).filter(pk=c.pk).exists()
    assert not policy.orders_visible_to(who["dept_user"]).filter(child=c).exists()
    with pytest.raises(Http404):
        selectors.child_detail(who["dept_user"], c)
    consent.refresh_from_db()
    assert consent.withdrawn_on is not None and not consent.active
    kinds = list(c.events.filter(kind=ChildEvent.Kind.CONSENT).values_list("summary", flat=True))
    assert len(kinds) == 2 and not any("测试母" in s for s in kinds)
    rows = AuditLog.objects.filter(object_type="care.consent", object_id=str(consent.pk))
    assert rows.count() == 2 and "测试母" not in str(list(rows.values("before", "after")))
    with pytest.raises(ServiceError):
        services.consent_withdraw(actor=who["director"], consent=consent)
    # Given again, the share comes back.
    _grant(who, c)
    assert policy.children_visible_to(who["dept_user"]).filter(pk=c.pk).exists()


def test_consent_validation_and_who_may_record_it(setup):
    _, who, c = setup
    with pytest.raises(ServiceError) as err:
        _grant(who, c, department=None, given_by="", relation="neighbour")
    assert {d["field"] for d in err.value.details} == {"department", "given_by", "relation"}
    _grant(who, c)
    with pytest.raises(ServiceError) as err:
        _grant(who, c)
    assert err.value.code == "conflict"
    with pytest.raises(PermissionDenied):
        services.consent_grant(
            actor=who["wcco"], child=c, purpose="volunteer", given_by="x", relation="mother"
        )
    with pytest.raises(ServiceError) as err:
        services.consent_withdraw(actor=who["director_b"], consent=Consent.objects.get())
    assert err.value.code == "not_found"
    # A volunteer-pairing consent has no department.
    v = _grant(who, c, purpose="volunteer")
    assert v.department is None
