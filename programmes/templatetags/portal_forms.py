"""Tags for the portal's form markup (config/templates/portal/): Designsystemet's input class on
every control, the "Required" or "Optional" tag beside a label, and the error summary's links."""

from django import forms, template
from django.forms.boundfield import BoundField, BoundWidget

register = template.Library()

DS_INPUT = "ds-input"


def _with_ds_input(attrs: dict) -> str:
    return " ".join(filter(None, [attrs.get("class", ""), DS_INPUT]))


@register.filter
def ds_input(field: BoundField) -> str:
    """The field's control with Designsystemet's ``ds-input`` class: text inputs, selects,
    textareas and single checkboxes alike. Django adds ``aria-invalid`` and
    ``aria-describedby`` (the ``_helptext`` and ``_error`` ids the templates give)."""
    return field.as_widget(attrs={"class": _with_ds_input(field.field.widget.attrs)})


@register.filter
def ds_choices(field: BoundField) -> list[BoundWidget]:
    """The radios or checkboxes of a group, each with the ``ds-input`` class."""
    widget = field.field.widget
    attrs = {"id": widget.attrs.get("id") or field.auto_id, "class": _with_ds_input(widget.attrs)}
    return [
        BoundWidget(widget, option, field.form.renderer)
        for option in widget.subwidgets(
            field.html_name, field.value(), attrs=field.build_widget_attrs(attrs)
        )
    ]


def _is_single_checkbox(field: forms.Field) -> bool:
    # A box to tick is never marked: unticked is an answer too, and one that must be ticked says
    # so in its label ("The participant has told us ...").
    return isinstance(field.widget, forms.CheckboxInput)


@register.simple_tag
def field_mark(form: forms.BaseForm, required: bool) -> str:
    """Which tag a field (or group) that is ``required`` gets: "required", "optional" or "".

    Designsystemet's pattern (designsystemet.no, "Obligatoriske og valgfrie skjemafelt"): a form
    that mixes both marks them with "Må fylles ut" or "Valgfritt". Kobling marks the less common
    kind on each form (optional on a tie), and nothing on a form where every field is of one
    kind. A form may choose with ``marked_kind``."""
    kind = getattr(form, "marked_kind", None)
    if kind is None:
        kind = _less_common_kind(form)
    wanted = "required" if required else "optional"
    return wanted if kind == wanted else ""


def _less_common_kind(form: forms.BaseForm) -> str:
    fields = [
        bound.field for bound in form.visible_fields() if not _is_single_checkbox(bound.field)
    ]
    required = sum(1 for field in fields if field.required)
    optional = len(fields) - required
    if not required or not optional:
        return ""
    return "optional" if optional <= required else "required"


def _target_id(field: BoundField) -> str:
    """The id a summary link points at: the control itself, or a group's first option."""
    if isinstance(field.field.widget, forms.RadioSelect | forms.CheckboxSelectMultiple):
        return f"{field.auto_id}_0"
    return field.id_for_label or field.auto_id


@register.simple_tag
def error_summary_items(form: forms.BaseForm) -> list[tuple[str, str]]:
    """The error summary's lines as (id to link to, or "", text), in the order of the page:
    errors of the form as a whole, then each field's, then those of a group the form keeps
    apart (``extra_error_links()``). A field's errors start with its label, unless the form
    lists it in ``self_named_fields`` because its messages name it already ("Time slot 2: ...")."""
    items = [("", str(error)) for error in form.non_field_errors()]
    self_named = getattr(form, "self_named_fields", ())
    for field in form:
        for error in field.errors:
            if field.is_hidden:
                items.append(("", str(error)))
            elif field.name in self_named:
                items.append((_target_id(field), str(error)))
            else:
                items.append((_target_id(field), f"{field.label}: {error}"))
    extra = getattr(form, "extra_error_links", None)
    return items + (list(extra()) if extra else [])
