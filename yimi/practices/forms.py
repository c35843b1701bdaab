"""The self-assessment form: one measure, phone-friendly (radio buttons, a date input, one
select for the evidence that lists the Yimi objects the user can see)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from yimi.core.models import Department

from .models import EvidenceKind, ProgressStatus
from .services import MAX_EVIDENCE_BYTES


class ProgressForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"), choices=ProgressStatus.choices, widget=forms.RadioSelect
    )
    department = forms.ModelChoiceField(
        label=_("Responsible department"),
        queryset=Department.objects.order_by("name"),
        required=False,
        empty_label="—",
    )
    target_date = forms.DateField(
        label=_("Target date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    note = forms.CharField(
        label=_("Note"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 4})
    )
    evidence = forms.ChoiceField(label=_("Evidence"), required=False)
    evidence_file = forms.FileField(
        label=_("Upload a file"),
        required=False,
        help_text=_("PDF, PNG, JPEG, Word (.docx) or Excel (.xlsx), at most %(mb)s MB.")
        % {"mb": MAX_EVIDENCE_BYTES // 1024 // 1024},
    )

    def __init__(self, *args, evidence_choices: dict, has_file: bool, **kwargs):
        super().__init__(*args, **kwargs)
        choices: list = [("", _("No evidence linked"))]
        if has_file:
            choices.append(("file", _("Keep the uploaded file")))
        for kind, objects in evidence_choices.items():
            if objects:
                label = EvidenceKind(kind).label
                choices.append((label, [(f"{kind}:{pk}", name) for pk, name in objects]))
        self.fields["evidence"].choices = choices

    def evidence_parts(self) -> tuple[str, int | None]:
        value = self.cleaned_data.get("evidence") or ""
        if value in ("", "file"):
            return value, None
        kind, _sep, pk = value.partition(":")
        return kind, int(pk) if pk.isdigit() else None
