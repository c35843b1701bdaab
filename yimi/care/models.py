"""Children in difficulty (困境儿童关爱): records, one file per child, visits, the aid menu,
政策找人 worklist, orders (点单) with department tasks, consent, volunteers (爱心妈妈).

Protection is in the schema: names, ID numbers, contact details, addresses, schools, health and
disability details are encrypted at rest (:mod:`yimi.core.fields`); ID numbers and names are
matched through keyed hashes; who may read what is decided in :mod:`yimi.care.policy`.
Nothing here is registered in the Django admin: every read of a child goes through Yimi's own
audited pages.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from yimi.core.fields import EncryptedBinaryField, EncryptedJSONField, EncryptedTextField
from yimi.core.models import Area, Department, ScopedQuerySet

# ------------------------------------------------------------------------------ vocabularies


class Category(models.TextChoices):
    ORPHAN = "orphan", _("Orphan")
    UNSUPPORTED = "unsupported", _("De facto unsupported child")
    SERIOUS_ILLNESS = "serious_illness", _("In difficulty: serious illness")
    SEVERE_DISABILITY = "severe_disability", _("In difficulty: severe disability")
    LOW_INCOME = "low_income", _("In difficulty: subsistence or extreme-poverty family")
    OTHER_DIFFICULTY = "other_difficulty", _("In difficulty: other")
    LEFT_BEHIND = "left_behind", _("Left-behind child")
    MIGRANT = "migrant", _("Migrant child")
    OTHER_MINOR = "other_minor", _("Other minor")


class Risk(models.TextChoices):
    HIGH = "high", _("High risk")
    MEDIUM = "medium", _("Medium risk")
    LOW = "low", _("Low risk")


class Status(models.TextChoices):
    ACTIVE = "active", _("On register")
    CLOSED = "closed", _("Case closed")
    TRANSFERRED = "transferred", _("Transferred out")


class Sex(models.TextChoices):
    MALE = "male", _("Male")
    FEMALE = "female", _("Female")


class SchoolStage(models.TextChoices):
    NONE = "none", _("Not in school yet")
    NURSERY = "nursery", _("Nursery (0–3)")
    PRESCHOOL = "preschool", _("Kindergarten")
    PRIMARY = "primary", _("Primary school")
    JUNIOR = "junior", _("Junior secondary")
    SENIOR = "senior", _("Senior secondary")
    VOCATIONAL = "vocational", _("Vocational school")
    OUT_OF_SCHOOL = "out_of_school", _("Out of school")


class Section(models.TextChoices):
    """Parts of a child's record, each readable by different roles and departments."""

    BASIC = "basic", _("Basic information")
    IDENTITY = "identity", _("Identity number")
    CONTACT = "contact", _("Address and contact")
    FAMILY = "family", _("Guardians and family")
    EDUCATION = "education", _("Education")
    HEALTH = "health", _("Health")
    DISABILITY = "disability", _("Disability")
    WELFARE = "welfare", _("Welfare and subsistence")
    VISITS = "visits", _("Visits and assessments")
    ORDERS = "orders", _("Orders and services")
    DOCUMENTS = "documents", _("Documents")


class Aspect(models.TextChoices):
    """The 8 aspects a visit covers."""

    LIVING = "living", _("Daily living")
    MEDICAL = "medical", _("Medical care")
    SCHOOLING = "schooling", _("Schooling")
    GUARDIANSHIP = "guardianship", _("Guardianship")
    PSYCHOLOGICAL = "psychological", _("Psychological")
    SAFETY = "safety", _("Safety")
    FAMILY = "family", _("Family")
    OTHER = "other", _("Other")


class Domain(models.TextChoices):
    """The domains of the aid menu."""

    LIFE = "life", _("Living")
    EDUCATION = "education", _("Education")
    MEDICAL = "medical", _("Medical")
    LEGAL = "legal", _("Legal")
    PSYCHOLOGICAL = "psychological", _("Psychological")


class Purpose(models.TextChoices):
    """What a guardian consents to, each per receiving department."""

    REFERRAL = "referral", _("Referral for aid (the department handles an order)")
    SHARING = "sharing", _("Sharing record sections with the department")
    VOLUNTEER = "volunteer", _("Pairing with a volunteer")


# ------------------------------------------------------------------------------ records


class Child(models.Model):
    """A child on the register: one file per child (一人一档)."""

    file_no = models.CharField(_("file number"), max_length=40, unique=True)
    area = models.ForeignKey(
        Area, verbose_name=_("community or grid"), on_delete=models.PROTECT, related_name="+"
    )
    name = EncryptedTextField(_("name"))
    name_hash = models.CharField(max_length=64, db_index=True, editable=False)
    id_number = EncryptedTextField(_("identity number"), blank=True)
    # Keyed hash of the normalised ID number: duplicates are found without decrypting.
    id_hash = models.CharField(max_length=64, null=True, unique=True, editable=False)  # noqa: DJ001 (NULL: no number; unique when set)
    birth_date = models.DateField(_("date of birth"))
    sex = models.CharField(_("sex"), max_length=10, choices=Sex.choices)
    categories = models.JSONField(_("categories"), default=list)
    risk_level = models.CharField(
        _("risk level"), max_length=10, choices=Risk.choices, default=Risk.LOW
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.ACTIVE, db_index=True
    )
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    close_reason = models.CharField(_("reason for closing"), max_length=200, blank=True)
    # Eligibility inputs kept in the clear (no identity in them); details are encrypted below.
    low_income = models.BooleanField(_("subsistence or extreme-poverty household"), default=False)
    school_stage = models.CharField(
        _("school stage"), max_length=20, choices=SchoolStage.choices, default=SchoolStage.NONE
    )
    address = EncryptedTextField(_("address"), blank=True)
    phone = EncryptedTextField(_("contact phone"), blank=True)
    school = EncryptedTextField(_("school"), blank=True)
    # {"grade": "三年级", "notes": …}
    education = EncryptedJSONField(_("education details"), null=True, blank=True)
    # {"conditions": "…", "insurance": "…", "notes": "…"}
    health = EncryptedJSONField(_("health details"), null=True, blank=True)
    # {"type": "肢体", "grade": 2, "certificate": "…"}
    disability = EncryptedJSONField(_("disability details"), null=True, blank=True)
    # {"subsidies": […], "notes": "…"}
    welfare = EncryptedJSONField(_("welfare details"), null=True, blank=True)
    notes = EncryptedTextField(_("notes"), blank=True)
    next_visit_due = models.DateField(_("next visit due"), null=True, blank=True, db_index=True)
    anonymised_at = models.DateTimeField(_("anonymised at"), null=True, blank=True)
    is_demo = models.BooleanField(_("demo data"), default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = ScopedQuerySet.as_manager()
    scope_area_field = "area"

    class Meta:
        verbose_name = _("child")
        verbose_name_plural = _("children")
        ordering = ["file_no"]
        permissions = [
            ("export_unmasked", _("Can export the ledger with names and ID numbers unmasked")),
        ]

    def __str__(self) -> str:
        # Never the name: reprs end up in logs and in the audit log.
        return self.file_no

    @property
    def disability_grade(self) -> int | None:
        grade = (self.disability or {}).get("grade")
        return int(grade) if isinstance(grade, int | str) and str(grade).isdigit() else None


class FamilyMember(models.Model):
    """A guardian or family member of a child."""

    class Relation(models.TextChoices):
        FATHER = "father", _("Father")
        MOTHER = "mother", _("Mother")
        GRANDPARENT = "grandparent", _("Grandparent")
        SIBLING = "sibling", _("Sibling")
        RELATIVE = "relative", _("Other relative")
        FOSTER = "foster", _("Foster family")
        INSTITUTION = "institution", _("Welfare institution")
        OTHER = "other", _("Other")

    class Situation(models.TextChoices):
        PRESENT = "present", _("Present and caring")
        AWAY = "away", _("Working away")
        DECEASED = "deceased", _("Deceased")
        MISSING = "missing", _("Missing")
        DETAINED = "detained", _("Serving a sentence or detained")
        ILL_DISABLED = "ill_disabled", _("Seriously ill or disabled")
        OTHER = "other", _("Other")

    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="family")
    relation = models.CharField(_("relation"), max_length=20, choices=Relation.choices)
    is_guardian = models.BooleanField(_("guardian"), default=False)
    situation = models.CharField(
        _("situation"), max_length=20, choices=Situation.choices, default=Situation.PRESENT
    )
    name = EncryptedTextField(_("name"))
    phone = EncryptedTextField(_("phone"), blank=True)
    id_number = EncryptedTextField(_("identity number"), blank=True)
    notes = EncryptedTextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("family member")
        verbose_name_plural = _("family members")
        ordering = ["child", "-is_guardian", "id"]

    def __str__(self) -> str:
        return f"{self.child.file_no} {self.get_relation_display()}"


class ChildEvent(models.Model):
    """One entry of a child's timeline (visits, assessments, services, orders, documents, changes).

    ``summary`` is written by Yimi (e.g. "风险等级 中 → 高") and never holds a name or an ID number.
    """

    class Kind(models.TextChoices):
        CREATED = "created", _("Registered")
        UPDATED = "updated", _("Record changed")
        STATUS = "status", _("Status changed")
        VISIT = "visit", _("Visit")
        ASSESSMENT = "assessment", _("Assessment")
        SERVICE = "service", _("Service")
        ORDER = "order", _("Order")
        DOCUMENT = "document", _("Document")
        CONSENT = "consent", _("Consent")
        PAIRING = "pairing", _("Volunteer pairing")
        MATCH = "match", _("Policy match")
        IMPORT = "import", _("Ledger import")
        ANONYMISED = "anonymised", _("Anonymised")

    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(_("by"), max_length=150, blank=True)
    summary = models.CharField(_("summary"), max_length=500)
    # The record sections the entry belongs to: readers see only entries of sections they may read.
    section = models.CharField(max_length=20, choices=Section.choices, default=Section.BASIC)
    object_type = models.CharField(max_length=60, blank=True)
    object_id = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("timeline entry")
        verbose_name_plural = _("timeline")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.child.file_no} {self.kind} {self.at:%Y-%m-%d}"


class Assessment(models.Model):
    """A structured assessment of a child's situation, setting the risk level."""

    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="assessments")
    assessed_on = models.DateField(_("assessed on"))
    assessor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    risk_level = models.CharField(_("risk level"), max_length=10, choices=Risk.choices)
    # {aspect: {"level": "ok|concern|urgent", "note": "…"}}
    aspects = EncryptedJSONField(_("aspects"), null=True, blank=True)
    summary = EncryptedTextField(_("summary"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("assessment")
        verbose_name_plural = _("assessments")
        ordering = ["-assessed_on", "-id"]

    def __str__(self) -> str:
        return f"{self.child.file_no} {self.assessed_on}"


class Document(models.Model):
    """A document in a child's file; the content is encrypted in the database."""

    MAX_BYTES = 10 * 1024 * 1024

    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="documents")
    title = models.CharField(_("title"), max_length=200)
    section = models.CharField(
        _("section"), max_length=20, choices=Section.choices, default=Section.DOCUMENTS
    )
    filename = EncryptedTextField(_("file name"))
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    content = EncryptedBinaryField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        ordering = ["-uploaded_at", "-id"]

    def __str__(self) -> str:
        return f"{self.child.file_no} {self.title}"


class Consent(models.Model):
    """A guardian's consent for one purpose and one receiving department (or a volunteer pairing).

    Sharing with a department needs an active consent for that purpose and department;
    withdrawing (``withdrawn_on``) revokes the share at once.
    """

    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="consents")
    purpose = models.CharField(_("purpose"), max_length=20, choices=Purpose.choices)
    department = models.ForeignKey(
        Department,
        verbose_name=_("receiving department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    given_by = EncryptedTextField(_("given by (guardian)"))
    relation = models.CharField(_("relation"), max_length=20, choices=FamilyMember.Relation.choices)
    given_on = models.DateField(_("given on"))
    evidence = models.CharField(_("evidence"), max_length=200, blank=True)
    withdrawn_on = models.DateField(_("withdrawn on"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        ordering = ["-given_on", "-id"]

    def __str__(self) -> str:
        return f"{self.child.file_no} {self.purpose} {self.department_id or ''}"

    @property
    def active(self) -> bool:
        return self.withdrawn_on is None


# ------------------------------------------------------------------------------ visits


class Visit(models.Model):
    """A visit by a child director or supervisor, covering the 8 aspects, with follow-ups."""

    class Kind(models.TextChoices):
        HOME = "home", _("Home visit")
        PHONE = "phone", _("Phone call")
        SCHOOL = "school", _("School visit")
        OTHER = "other", _("Other")

    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="visits")
    visited_on = models.DateField(_("visited on"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.HOME)
    visitor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # {aspect: "what was found"} for the 8 aspects
    findings = EncryptedJSONField(_("findings"), null=True, blank=True)
    # Aspects with a concern (codes only, for counts without decrypting)
    concerns = models.JSONField(_("aspects of concern"), default=list, blank=True)
    # [{"action": "…", "due": "YYYY-MM-DD", "done": false}]
    follow_ups = EncryptedJSONField(_("follow-up actions"), null=True, blank=True)
    risk_after = models.CharField(
        _("risk level after the visit"), max_length=10, choices=Risk.choices, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        ordering = ["-visited_on", "-id"]

    def __str__(self) -> str:
        return f"{self.child.file_no} {self.visited_on}"


# ------------------------------------------------------------------------------ the menu


class Policy(models.Model):
    """An aid policy on the menu (菜单): what it gives, who leads, deadlines, who qualifies."""

    # Steps of an order with a deadline each (days); see :class:`Order.State`.
    STEPS = ("confirm", "handle", "follow_up")

    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    domain = models.CharField(_("domain"), max_length=20, choices=Domain.choices)
    benefit = models.TextField(_("what it gives"))
    basis = models.CharField(_("policy basis"), max_length=300, blank=True)
    lead_department = models.ForeignKey(
        Department,
        verbose_name=_("lead department"),
        on_delete=models.PROTECT,
        related_name="led_policies",
    )
    cooperating = models.ManyToManyField(
        Department,
        verbose_name=_("cooperating units"),
        blank=True,
        related_name="cooperating_policies",
    )
    # {"confirm": 3, "handle": 15, "follow_up": 30}: days allowed for each step
    step_days = models.JSONField(_("time limits (days)"), default=dict)
    # A rule over a child's record (yimi.care.eligibility), kept as data staff edit.
    eligibility = models.JSONField(_("eligibility rule"), default=dict)
    # The record sections the handling departments need to see.
    sections = models.JSONField(_("record sections shared"), default=list)
    area = models.ForeignKey(
        Area, verbose_name=_("area"), on_delete=models.PROTECT, related_name="+"
    )
    active = models.BooleanField(_("active"), default=True)
    is_demo = models.BooleanField(_("demo data"), default=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet.as_manager()
    scope_area_field = "area"

    class Meta:
        verbose_name = _("aid policy")
        verbose_name_plural = _("aid menu")
        ordering = ["domain", "code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @classmethod
    def scope_public_q(cls) -> Q:
        # The menu itself is public information: what aid exists and who gives it.
        return Q(active=True)


class Benefit(models.Model):
    """A child receives a policy (from an order that was done, or from the ledger)."""

    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="benefits")
    policy = models.ForeignKey(Policy, on_delete=models.PROTECT, related_name="benefits")
    since = models.DateField(_("since"))
    until = models.DateField(_("until"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=20, default="order")

    class Meta:
        verbose_name = _("benefit received")
        verbose_name_plural = _("benefits received")
        ordering = ["-since"]

    def __str__(self) -> str:
        return f"{self.child.file_no} {self.policy.code}"


class WorklistItem(models.Model):
    """政策找人: a child who qualifies for a policy and does not receive it, with the reasons."""

    class State(models.TextChoices):
        OPEN = "open", _("To offer")
        ORDERED = "ordered", _("Ordered")
        DISMISSED = "dismissed", _("Dismissed")
        LAPSED = "lapsed", _("No longer qualifies")

    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="worklist")
    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="worklist")
    reasons = models.JSONField(_("reasons"), default=list)
    state = models.CharField(
        _("state"), max_length=20, choices=State.choices, default=State.OPEN, db_index=True
    )
    found_at = models.DateTimeField(_("found"), auto_now_add=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(_("note"), max_length=300, blank=True)

    objects = ScopedQuerySet.as_manager()
    scope_area_field = "child__area"

    class Meta:
        verbose_name = _("worklist item")
        verbose_name_plural = _("worklist")
        ordering = ["-found_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["child", "policy"],
                condition=Q(state="open"),
                name="care_one_open_match_per_child_policy",
            )
        ]

    def __str__(self) -> str:
        return f"{self.child.file_no} {self.policy.code} {self.state}"


# ------------------------------------------------------------------------------ orders


class Order(models.Model):
    """点单: an application for a policy, confirmed by the child director, worked by departments."""

    class State(models.TextChoices):
        APPLIED = "applied", _("Applied")
        CONFIRMED = "confirmed", _("Confirmed by the child director")
        HANDLING = "handling", _("Being handled")
        DONE = "done", _("Completed")
        FOLLOWED_UP = "followed_up", _("Followed up")
        REJECTED = "rejected", _("Rejected")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    class Channel(models.TextChoices):
        GUARDIAN = "guardian", _("Guardian or child")
        DIRECTOR = "director", _("Child director")
        WORKLIST = "worklist", _("Policy finds the child")
        OTHER = "other", _("Other")

    number = models.CharField(_("order number"), max_length=40, unique=True)
    child = models.ForeignKey(Child, on_delete=models.PROTECT, related_name="orders")
    policy = models.ForeignKey(Policy, on_delete=models.PROTECT, related_name="orders")
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(
        _("state"), max_length=20, choices=State.choices, default=State.APPLIED, db_index=True
    )
    channel = models.CharField(
        _("channel"), max_length=20, choices=Channel.choices, default=Channel.DIRECTOR
    )
    applicant = EncryptedTextField(_("applicant"), blank=True)
    request = EncryptedTextField(_("what is asked for"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("applied at"), auto_now_add=True)
    # Deadline of the current step; null once the order is finished.
    step_due = models.DateTimeField(_("step deadline"), null=True, blank=True, db_index=True)
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    escalations = models.PositiveSmallIntegerField(_("times escalated"), default=0)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    is_demo = models.BooleanField(_("demo data"), default=False)

    objects = ScopedQuerySet.as_manager()
    scope_area_field = "area"

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.number


class OrderTask(models.Model):
    """One department's task within an order: the lead department's or a cooperating unit's."""

    class Role(models.TextChoices):
        LEAD = "lead", _("Lead department")
        COOPERATING = "cooperating", _("Cooperating unit")

    class State(models.TextChoices):
        WAITING = "waiting", _("Waiting for confirmation")
        OPEN = "open", _("To handle")
        DONE = "done", _("Done")
        DECLINED = "declined", _("Declined")
        CANCELLED = "cancelled", _("Cancelled")

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="tasks")
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    state = models.CharField(
        _("state"), max_length=20, choices=State.choices, default=State.WAITING, db_index=True
    )
    due = models.DateTimeField(_("deadline"), null=True, blank=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    result = EncryptedTextField(_("result"), blank=True)

    objects = ScopedQuerySet.as_manager()
    scope_area_field = "order__area"
    scope_department_field = "department"

    class Meta:
        verbose_name = _("department task")
        verbose_name_plural = _("department tasks")
        ordering = ["due", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "department"], name="care_one_task_per_department"
            )
        ]

    def __str__(self) -> str:
        return f"{self.order.number} {self.department_id} {self.state}"


class OrderStep(models.Model):
    """The log of an order: every step's actor, time, note and evidence."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="steps")
    step = models.CharField(_("step"), max_length=30)
    at = models.DateTimeField(_("time"), auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(_("by"), max_length=150, blank=True)
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = EncryptedTextField(_("note"), blank=True)
    evidence = models.ForeignKey(
        Document, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("order step")
        verbose_name_plural = _("order steps")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.order.number} {self.step}"


# ------------------------------------------------------------------------------ volunteers


class Volunteer(models.Model):
    """A volunteer (爱心妈妈) with the state of the background check (入职查询)."""

    class Check(models.TextChoices):
        PENDING = "pending", _("Check pending")
        PASSED = "passed", _("Check passed")
        FAILED = "failed", _("Check failed")
        EXPIRED = "expired", _("Check expired")

    area = models.ForeignKey(Area, verbose_name=_("area"), on_delete=models.PROTECT)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="volunteer",
    )
    name = EncryptedTextField(_("name"))
    phone = EncryptedTextField(_("phone"), blank=True)
    id_number = EncryptedTextField(_("identity number"), blank=True)
    id_hash = models.CharField(max_length=64, null=True, unique=True, editable=False)  # noqa: DJ001 (NULL: no number; unique when set)
    organisation = models.CharField(_("organisation"), max_length=200, blank=True)
    check_state = models.CharField(
        _("background check"), max_length=20, choices=Check.choices, default=Check.PENDING
    )
    checked_on = models.DateField(_("checked on"), null=True, blank=True)
    check_reference = models.CharField(_("check reference"), max_length=100, blank=True)
    check_valid_until = models.DateField(_("check valid until"), null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)
    is_demo = models.BooleanField(_("demo data"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    scope_area_field = "area"

    class Meta:
        verbose_name = _("volunteer")
        verbose_name_plural = _("volunteers")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"V{self.pk:05d}" if self.pk else "V-new"


class Pairing(models.Model):
    """A 1+1 pairing of a volunteer with a child."""

    volunteer = models.ForeignKey(Volunteer, on_delete=models.PROTECT, related_name="pairings")
    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="pairings")
    started_on = models.DateField(_("started on"))
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    end_reason = models.CharField(_("reason for ending"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("pairing")
        verbose_name_plural = _("pairings")
        ordering = ["-started_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["child"], condition=Q(ended_on=None), name="care_one_active_pairing_child"
            ),
            models.UniqueConstraint(
                fields=["volunteer"],
                condition=Q(ended_on=None),
                name="care_one_active_pairing_volunteer",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.volunteer} ↔ {self.child.file_no}"


class VolunteerLog(models.Model):
    """A volunteer's log of time spent with the paired child."""

    pairing = models.ForeignKey(Pairing, on_delete=models.CASCADE, related_name="logs")
    date = models.DateField(_("date"))
    activity = models.CharField(_("activity"), max_length=200)
    notes = EncryptedTextField(_("notes"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("volunteer log entry")
        verbose_name_plural = _("volunteer log")
        ordering = ["-date", "-id"]

    def __str__(self) -> str:
        return f"{self.pairing} {self.date}"
