"""Children's voice: the mailbox (儿童信箱), moderation, handling by departments, adoption and the
actions that follow, observer groups (观察团) and co-building (alliance, service items, events).

A letter is kept encrypted; only its status, topic and place are in the clear, and the receipt
code is all a child needs to follow it. What is published is a separate, moderated text."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from yimi.core.fields import EncryptedBinaryField, EncryptedTextField
from yimi.core.models import ScopedQuerySet


class AgeGroup(models.TextChoices):
    UNDER_6 = "u6", _("Under 6")
    AGE_6_9 = "6-9", _("6–9")
    AGE_9_12 = "9-12", _("9–12")
    AGE_12_15 = "12-15", _("12–15")
    AGE_15_18 = "15-18", _("15–18")


# Groups that may hold a child under 14: a guardian's consent is required for them.
CONSENT_AGE_GROUPS = frozenset(
    {AgeGroup.UNDER_6, AgeGroup.AGE_6_9, AgeGroup.AGE_9_12, AgeGroup.AGE_12_15}
)


class Topic(models.TextChoices):
    PLAY = "play", _("Playgrounds and parks")
    SCHOOL_WAY = "school_way", _("The way to school")
    TRAFFIC = "traffic", _("Traffic and safety")
    SCHOOL = "school", _("School and learning")
    HEALTH = "health", _("Health and sport")
    NATURE = "nature", _("Nature and environment")
    CULTURE = "culture", _("Reading and culture")
    COMMUNITY = "community", _("My community")
    OTHER = "other", _("Something else")


class Adoption(models.TextChoices):
    """The adoption scale a department answers with."""

    ADOPTED = "adopted", _("Adopted")
    PARTLY = "partly", _("Partly adopted")
    PLANNED = "planned", _("Put in the plan")
    NOT_NOW = "not_now", _("Not adopted for now")


class Suggestion(models.Model):
    # Handling: where the letter is in its way through the departments.
    class Status(models.TextChoices):
        RECEIVED = "received", _("Received")
        ASSIGNED = "assigned", _("Being handled")
        ANSWERED = "answered", _("Answered")

    # Publication: moderation decides independently of the handling.
    class Visibility(models.TextChoices):
        PENDING = "pending", _("Awaiting review")
        PUBLISHED = "published", _("Published")
        HIDDEN = "hidden", _("Hidden")

    class Source(models.TextChoices):
        ONLINE = "online", _("Online")
        PAPER = "paper", _("Paper letter")
        ACTIVITY = "activity", _("Observer group activity")

    receipt_code = models.CharField(_("receipt code"), max_length=16, unique=True)
    # The child's own words, never changed (moderation edits `published_text`).
    text = EncryptedTextField(_("suggestion"))
    image = EncryptedBinaryField(_("drawing or photo"), null=True, blank=True)
    image_type = models.CharField(_("image type"), max_length=20, blank=True)
    age_group = models.CharField(_("age group"), max_length=8, choices=AgeGroup.choices)
    topic = models.CharField(_("topic"), max_length=20, choices=Topic.choices)
    place = models.ForeignKey(
        "places.Place",
        verbose_name=_("place"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="suggestions",
    )
    area = models.ForeignKey(
        "core.Area",
        verbose_name=_("area"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="suggestions",
    )
    guardian_consent = models.BooleanField(_("guardian consent"), default=False)
    guardian_contact = EncryptedTextField(_("guardian contact"), blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.RECEIVED
    )
    visibility = models.CharField(
        _("publication"),
        max_length=12,
        choices=Visibility.choices,
        default=Visibility.PENDING,
        db_index=True,
    )
    source = models.CharField(
        _("source"), max_length=8, choices=Source.choices, default=Source.ONLINE
    )
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("entered by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    activity = models.ForeignKey(
        "voice.Activity",
        verbose_name=_("observer group activity"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="suggestions",
    )

    # Moderation. The published text is the child's text with personal data masked and, where
    # needed, edited by a moderator; it is public once published and so kept in the clear.
    published_text = models.TextField(_("published text"), blank=True)
    publish_image = models.BooleanField(_("publish the picture"), default=False)
    # What the text rules found: {"pii": ["phone", …], "screening": ["…"], "disclosure": […]}
    # — kinds and rule names only, never the matched words.
    flags = models.JSONField(_("rule findings"), default=dict, blank=True)
    moderated_at = models.DateTimeField(_("moderated at"), null=True, blank=True)
    moderated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("moderated by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    # Routing: suggested by the rules, confirmed by the 妇儿工委办.
    suggested_topic = models.CharField(_("suggested topic"), max_length=20, blank=True)
    suggested_department_kind = models.CharField(
        _("suggested department kind"), max_length=40, blank=True
    )
    department = models.ForeignKey(
        "core.Department",
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="voice_suggestions",
    )
    assigned_at = models.DateTimeField(_("assigned at"), null=True, blank=True)
    due_on = models.DateField(_("handling deadline"), null=True, blank=True, db_index=True)
    # 0 none, 1 reminded (催办), 2 supervised (督办): raised by `yimi voice-escalate`.
    escalation_level = models.PositiveSmallIntegerField(_("escalation"), default=0)

    # The answer.
    adoption = models.CharField(
        _("adoption decision"), max_length=20, choices=Adoption.choices, blank=True
    )
    adoption_reason = models.TextField(_("reasons"), blank=True)
    # Written for children, public (shown by receipt code and on the public pages).
    public_reply = models.TextField(_("public reply"), blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("answered by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    objects = ScopedQuerySet.as_manager()
    scope_area_field = "area"
    scope_department_field = "department"
    # A department handles the letters given to it wherever they are about (a letter without an
    # area, routed by the city to a district's department, is still that department's).
    scope_department_alone = True

    class Meta:
        verbose_name = _("suggestion")
        verbose_name_plural = _("suggestions")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        # Never the text: this string lands in the audit log.
        return f"{self.get_topic_display()} · {self.receipt_code}"

    @classmethod
    def scope_public_q(cls) -> Q:
        return Q(visibility=cls.Visibility.PUBLISHED)


class ModerationEvent(models.Model):
    """One moderation step: publish, edit (the text before and after kept), hide, unhide."""

    class Kind(models.TextChoices):
        PUBLISH = "publish", _("Published")
        EDIT = "edit", _("Edited")
        HIDE = "hide", _("Hidden")
        UNHIDE = "unhide", _("Shown again")
        AUTO_HIDE = "auto_hide", _("Hidden by the rules")

    suggestion = models.ForeignKey(
        Suggestion, on_delete=models.CASCADE, related_name="moderation_events"
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    text_before = EncryptedTextField(_("text before"), blank=True)
    text_after = EncryptedTextField(_("text after"), blank=True)
    reason = models.TextField(_("reason"), blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · #{self.suggestion_id}"


class Disclosure(models.Model):
    """A letter that may tell of abuse, neglect, bullying or self-harm, flagged to the care staff
    (directors and supervisors) of the child's area, and what they did about it."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        ACKNOWLEDGED = "acknowledged", _("Being followed up")
        CLOSED = "closed", _("Closed")

    suggestion = models.OneToOneField(
        Suggestion, on_delete=models.CASCADE, related_name="disclosure"
    )
    area = models.ForeignKey(
        "core.Area", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    kinds = models.JSONField(_("kinds"), default=list)  # e.g. ["abuse", "self_harm"]
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.OPEN
    )
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = EncryptedTextField(_("follow-up note"), blank=True)
    created_at = models.DateTimeField(_("flagged at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ScopedQuerySet.as_manager()
    scope_area_field = "area"

    class Meta:
        verbose_name = _("disclosure")
        verbose_name_plural = _("disclosures")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_status_display()} · #{self.suggestion_id}"


class DepartmentSetting(models.Model):
    """How a department takes part in handling letters: the department kind the routing rules
    name (edu, transport, parks …) and its handling deadline (办理时限) in days."""

    department = models.OneToOneField(
        "core.Department", on_delete=models.CASCADE, related_name="voice_setting"
    )
    kind = models.CharField(_("department kind"), max_length=40, db_index=True)
    deadline_days = models.PositiveSmallIntegerField(_("handling deadline (days)"), default=15)

    class Meta:
        verbose_name = _("department handling setting")
        verbose_name_plural = _("department handling settings")

    def __str__(self) -> str:
        return f"{self.department} · {self.kind}"


class Assignment(models.Model):
    """Each time a letter is given to a department (the first time and every reassignment)."""

    suggestion = models.ForeignKey(Suggestion, on_delete=models.CASCADE, related_name="assignments")
    department = models.ForeignKey("core.Department", on_delete=models.PROTECT, related_name="+")
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    due_on = models.DateField(_("handling deadline"))
    reason = models.TextField(_("reason"), blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"#{self.suggestion_id} → {self.department}"


class Escalation(models.Model):
    """A reminder (催办) or supervision (督办) of an overdue letter, by the system or a person."""

    class Level(models.IntegerChoices):
        REMIND = 1, _("Reminder (催办)")
        SUPERVISE = 2, _("Supervision (督办)")

    suggestion = models.ForeignKey(Suggestion, on_delete=models.CASCADE, related_name="escalations")
    department = models.ForeignKey("core.Department", on_delete=models.PROTECT, related_name="+")
    level = models.PositiveSmallIntegerField(_("level"), choices=Level.choices)
    days_overdue = models.IntegerField(_("days overdue"), default=0)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_level_display()} · #{self.suggestion_id}"


class Action(models.Model):
    """What a department does because children spoke: public, with milestones and progress, and
    later linkable to a 民生实事 project."""

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        IN_PROGRESS = "in_progress", _("In progress")
        DONE = "done", _("Done")

    title = models.CharField(_("title"), max_length=120)
    description = models.TextField(_("what will change"), blank=True)  # public, for children
    department = models.ForeignKey(
        "core.Department", verbose_name=_("department"), on_delete=models.PROTECT, related_name="+"
    )
    area = models.ForeignKey(
        "core.Area",
        verbose_name=_("area"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    place = models.ForeignKey(
        "places.Place",
        verbose_name=_("place"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    suggestions = models.ManyToManyField(Suggestion, related_name="actions", blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.PLANNED
    )
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    due_on = models.DateField(_("planned completion"), null=True, blank=True)
    # A 民生实事 project's code once that part exists (free text until then).
    project_ref = models.CharField(_("民生实事 project"), max_length=60, blank=True)
    is_public = models.BooleanField(_("public"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ScopedQuerySet.as_manager()
    scope_area_field = "area"
    scope_department_field = "department"
    scope_department_alone = True  # its department's, wherever it is (as its letters)

    class Meta:
        verbose_name = _("action")
        verbose_name_plural = _("actions")
        ordering = ["-updated_at", "-id"]

    def __str__(self) -> str:
        return self.title

    @classmethod
    def scope_public_q(cls) -> Q:
        return Q(is_public=True)


class Milestone(models.Model):
    action = models.ForeignKey(Action, on_delete=models.CASCADE, related_name="milestones")
    title = models.CharField(_("title"), max_length=120)
    due_on = models.DateField(_("due"), null=True, blank=True)
    done_on = models.DateField(_("done"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.title


class ActionPhoto(models.Model):
    """A public photo of what changed (re-encoded, metadata stripped, like the mailbox's)."""

    action = models.ForeignKey(Action, on_delete=models.CASCADE, related_name="photos")
    image = models.BinaryField()
    image_type = models.CharField(max_length=20)
    caption = models.CharField(_("caption"), max_length=120, blank=True)
    taken_on = models.DateField(_("taken on"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.caption or f"#{self.pk}"


class ObserverGroup(models.Model):
    """A children's observer group (观察团): trained child observers of an area."""

    name = models.CharField(_("name"), max_length=100)
    area = models.ForeignKey(
        "core.Area", verbose_name=_("area"), on_delete=models.PROTECT, related_name="+"
    )
    description = models.TextField(_("description"), blank=True)
    terms = models.TextField(_("terms (章程)"), blank=True)
    # Raised whenever the terms change; a member records the version the guardian agreed to.
    terms_version = models.CharField(_("terms version"), max_length=40, default="1")
    term_months = models.PositiveSmallIntegerField(_("term of membership (months)"), default=12)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    scope_area_field = "area"

    class Meta:
        verbose_name = _("observer group")
        verbose_name_plural = _("observer groups")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class GroupMember(models.Model):
    """A child member: personal data encrypted; only with a guardian's consent to the terms."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        ENDED = "ended", _("Ended")

    group = models.ForeignKey(ObserverGroup, on_delete=models.CASCADE, related_name="members")
    name = EncryptedTextField(_("name"))
    age_group = models.CharField(_("age group"), max_length=8, choices=AgeGroup.choices)
    guardian_name = EncryptedTextField(_("guardian"))
    guardian_contact = EncryptedTextField(_("guardian contact"))
    guardian_consent_on = models.DateField(_("guardian consented on"))
    terms_version = models.CharField(_("terms accepted"), max_length=40, blank=True)
    term_start = models.DateField(_("term starts"))
    term_end = models.DateField(_("term ends"))
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.ACTIVE
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.group} · #{self.pk}"


class Activity(models.Model):
    """A site visit, training or deliberation of an observer group, with its record."""

    class Kind(models.TextChoices):
        SITE_VISIT = "site_visit", _("Site visit")
        TRAINING = "training", _("Training")
        DELIBERATION = "deliberation", _("Deliberation")
        OTHER = "other", _("Other")

    group = models.ForeignKey(ObserverGroup, on_delete=models.CASCADE, related_name="activities")
    kind = models.CharField(_("kind"), max_length=14, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=120)
    held_on = models.DateField(_("date"))
    place = models.ForeignKey(
        "places.Place",
        verbose_name=_("place"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    minutes = models.TextField(_("minutes"), blank=True)
    # Adults present: their roles and organisations, e.g. "社区儿童主任 1 人、社工 2 人".
    accompanying_adults = models.TextField(_("accompanying adults"), blank=True)
    outcomes = models.TextField(_("outcomes"), blank=True)
    attendees = models.ManyToManyField(GroupMember, related_name="activities", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        ordering = ["-held_on", "-id"]

    def __str__(self) -> str:
        return self.title


class AllianceMember(models.Model):
    """An organisation of the co-building alliance (共建联盟): a company, school, social
    organisation or unit that opens space and offers services to children."""

    class Kind(models.TextChoices):
        GOVERNMENT = "government", _("Government unit")
        SCHOOL = "school", _("School")
        COMPANY = "company", _("Company")
        SOCIAL = "social", _("Social organisation")
        CULTURE = "culture", _("Cultural or sports venue")
        OTHER = "other", _("Other")

    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    area = models.ForeignKey(
        "core.Area", verbose_name=_("area"), on_delete=models.PROTECT, related_name="+"
    )
    contact = models.CharField(_("organisation contact"), max_length=120, blank=True)
    joined_on = models.DateField(_("joined on"))
    open_space_m2 = models.PositiveIntegerField(_("space opened to children (m²)"), default=0)
    description = models.TextField(_("description"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    objects = ScopedQuerySet.as_manager()
    scope_area_field = "area"

    class Meta:
        verbose_name = _("alliance member")
        verbose_name_plural = _("alliance members")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def scope_public_q(cls) -> Q:
        return Q(is_active=True)


class ServiceItem(models.Model):
    """A service an alliance member offers to children, where it happens."""

    member = models.ForeignKey(AllianceMember, on_delete=models.CASCADE, related_name="services")
    title = models.CharField(_("title"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    place = models.ForeignKey(
        "places.Place",
        verbose_name=_("place"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    lon = models.FloatField(_("longitude"), null=True, blank=True)
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    age_from = models.PositiveSmallIntegerField(_("from age"), default=0)
    age_to = models.PositiveSmallIntegerField(_("to age"), default=18)
    is_free = models.BooleanField(_("free of charge"), default=True)
    schedule = models.CharField(_("when"), max_length=120, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("service item")
        verbose_name_plural = _("service items")
        ordering = ["member__name", "title"]

    def __str__(self) -> str:
        return self.title


class Event(models.Model):
    """A co-building event such as the monthly 儿童友好日, with places to register for."""

    class Kind(models.TextChoices):
        FRIENDLY_DAY = "friendly_day", _("Child-friendly day")
        WORKSHOP = "workshop", _("Workshop")
        VISIT = "visit", _("Open day")
        OTHER = "other", _("Other")

    title = models.CharField(_("title"), max_length=120)
    kind = models.CharField(_("kind"), max_length=14, choices=Kind.choices)
    organiser = models.ForeignKey(
        AllianceMember,
        verbose_name=_("organiser"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="events",
    )
    area = models.ForeignKey(
        "core.Area", verbose_name=_("area"), on_delete=models.PROTECT, related_name="+"
    )
    place = models.ForeignKey(
        "places.Place",
        verbose_name=_("place"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    capacity = models.PositiveIntegerField(_("capacity (children)"))
    registration_open = models.BooleanField(_("registration open"), default=True)
    description = models.TextField(_("description"), blank=True)
    walk_ins = models.PositiveIntegerField(_("walk-in participants"), default=0)
    is_public = models.BooleanField(_("public"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    scope_area_field = "area"

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        ordering = ["-starts_at"]

    def __str__(self) -> str:
        return self.title

    @classmethod
    def scope_public_q(cls) -> Q:
        return Q(is_public=True)


class Registration(models.Model):
    """A family's registration for an event: the guardian's contact encrypted, a check-in code."""

    class Status(models.TextChoices):
        REGISTERED = "registered", _("Registered")
        CANCELLED = "cancelled", _("Cancelled")
        CHECKED_IN = "checked_in", _("Checked in")

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="registrations")
    guardian_name = EncryptedTextField(_("guardian"))
    guardian_contact = EncryptedTextField(_("guardian contact"))
    children = models.PositiveSmallIntegerField(_("children"), default=1)
    age_group = models.CharField(_("age group"), max_length=8, choices=AgeGroup.choices)
    code = models.CharField(_("check-in code"), max_length=16, unique=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.REGISTERED
    )
    checked_in_at = models.DateTimeField(_("checked in at"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.event} · #{self.pk}"
