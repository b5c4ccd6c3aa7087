"""The agreement's terms in the reader's language: English where the version has it, bokmål
otherwise (AgreementTerms.in_language)."""

from django import template
from django.conf import settings
from django.utils.translation import get_language

from matching.models import AgreementTerms, TermsText

register = template.Library()


@register.simple_tag
def terms_for_reader(terms: AgreementTerms) -> TermsText:
    return terms.in_language(get_language() or settings.LANGUAGE_CODE)
