"""Children's voice: the mailbox (儿童信箱). A suggestion is kept encrypted; only its status,
topic and place are in the clear, and the receipt code is all a child needs to follow it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from yimi.core.fields import EncryptedBinaryField, EncryptedTextField


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


class Suggestion(models.Model):
    class Status(models.TextChoices):
        RECEIVED = "received", _("Received")
        REVIEWING = "reviewing", _("Under review")
        PUBLISHED = "published", _("Published")
        HANDLING = "handling", _("Being handled")
        ANSWERED = "answered", _("Answered")
        HIDDEN = "hidden", _("Hidden")

    class Source(models.TextChoices):
        ONLINE = "online", _("Online")
        PAPER = "paper", _("Paper letter")

    receipt_code = models.CharField(_("receipt code"), max_length=16, unique=True)
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
    # Filled in by moderation and handling (later); the receipt lookup shows them as they are.
    public_reply = models.TextField(_("public reply"), blank=True)
    adoption = models.CharField(_("adoption decision"), max_length=20, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("suggestion")
        verbose_name_plural = _("suggestions")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        # Never the text: this string lands in the audit log.
        return f"{self.get_topic_display()} · {self.receipt_code}"
