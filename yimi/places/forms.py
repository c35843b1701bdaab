"""Forms for the staff pages of the map."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from yimi.analysis.coords import CRS_CHOICES
from yimi.places.models import Place

CRS_FORM_CHOICES = [
    ("wgs84", _("WGS-84 (GPS, 天地图)")),
    ("gcj02", _("GCJ-02 (高德, 腾讯)")),
    ("bd09", _("BD-09 (百度)")),
]
assert [c for c, _l in CRS_FORM_CHOICES] == list(CRS_CHOICES)


class PlaceForm(forms.ModelForm):
    crs = forms.ChoiceField(
        label=_("coordinate system of the numbers above"), choices=CRS_FORM_CHOICES, initial="wgs84"
    )
    website = forms.URLField(label=_("website"), required=False, assume_scheme="https")

    class Meta:
        model = Place
        fields = [
            "name",
            "name_en",
            "category",
            "lon",
            "lat",
            "crs",
            "address",
            "opening_hours",
            "age_min",
            "age_max",
            "capacity",
            "accessible",
            "nursing_room",
            "family_toilet",
            "fee",
            "phone",
            "website",
            "description",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}


class ImportForm(forms.Form):
    file = forms.FileField(label=_("file (.xlsx, .csv or .geojson)"))
    crs = forms.ChoiceField(label=_("coordinate system"), choices=CRS_FORM_CHOICES, initial="wgs84")


class ThemeForm(forms.Form):
    slug = forms.SlugField(label=_("code"), max_length=50)
    name = forms.CharField(label=_("name"), max_length=100)
    name_en = forms.CharField(label=_("English name"), max_length=100, required=False)
    description = forms.CharField(
        label=_("description"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    color = forms.CharField(
        label=_("colour"),
        max_length=7,
        initial="#e4572e",
        widget=forms.TextInput(attrs={"type": "color"}),
    )
    places = forms.ModelMultipleChoiceField(
        label=_("places"),
        required=False,
        queryset=Place.objects.exclude(verification=Place.Verification.RETIRED),
        widget=forms.SelectMultiple(attrs={"size": 12}),
    )


class RouteForm(forms.Form):
    slug = forms.SlugField(label=_("code"), max_length=50)
    name = forms.CharField(label=_("name"), max_length=100)
    description = forms.CharField(
        label=_("description"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    place_ids = forms.CharField(
        label=_("stops (place ids in order, separated by commas)"),
        help_text=_("Tip: plan a trip on the map, then copy its order here."),
    )
    optimise = forms.BooleanField(
        label=_("reorder the stops into the shortest walk"), required=False
    )

    def clean_place_ids(self):
        raw = self.cleaned_data["place_ids"].replace("，", ",")
        try:
            ids = [int(x) for x in raw.split(",") if x.strip()]
        except ValueError as exc:
            raise forms.ValidationError(_("Use place ids separated by commas.")) from exc
        if len(ids) < 2:
            raise forms.ValidationError(_("A route needs at least two places."))
        places = {p.pk: p for p in Place.objects.filter(pk__in=ids)}
        missing = [i for i in ids if i not in places]
        if missing:
            raise forms.ValidationError(
                _("No such place: %(ids)s") % {"ids": ", ".join(str(i) for i in missing)}
            )
        return [places[i] for i in ids]
