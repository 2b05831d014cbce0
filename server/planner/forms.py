from django import forms

from server.territory.models import AreaLevel


class CampaignForm(forms.Form):
    name = forms.CharField(label="名称 Name", max_length=120)
    description = forms.CharField(label="说明 Description", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    starts_on = forms.DateField(label="开始 Start", widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(label="结束 End", widget=forms.DateInput(attrs={"type": "date"}))
    areas = forms.ModelMultipleChoiceField(label="范围 Scope", queryset=None,
                                           widget=forms.SelectMultiple(attrs={"size": 8}))

    def __init__(self, *args, areas_qs, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["areas"].queryset = areas_qs.exclude(level=AreaLevel.CITY).order_by("code")


class RoundForm(forms.Form):
    starts_on = forms.DateField(label="开始 Start", widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(label="结束 End", widget=forms.DateInput(attrs={"type": "date"}))
