"""Portal forms for coordinators."""

from django import forms
from django.utils.translation import gettext_lazy as _

from programmes.models import ProgrammeSite


class MatchRunForm(forms.Form):
    site = forms.ModelChoiceField(queryset=ProgrammeSite.objects, widget=forms.HiddenInput)

    def __init__(self, *args, sites=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = sites


class RejectForm(forms.Form):
    reason = forms.CharField(label=_("Why reject?"), max_length=300)
