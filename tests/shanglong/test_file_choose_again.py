"""A browser cannot refill a file input: a form shown again with errors after a file was sent
says, under that file field, that it must be chosen again (every AttachmentField: a visit's
signature, a unit's signed agreement; PhotosField says it of photos)."""

from __future__ import annotations

from django import forms
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from shanglong.forms import FILE_CHOOSE_AGAIN, PHOTOS_CHOOSE_AGAIN, AttachmentField

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


class AgreementForm(forms.Form):
    title = forms.CharField()
    agreement = AttachmentField(required=False)


def test_a_file_sent_with_a_refused_form_is_said_to_need_choosing_again():
    with translation.override("en"):
        form = AgreementForm(data={"title": ""}, files={"agreement": SimpleUploadedFile("a.pdf", PDF)})
        assert not form.is_valid()
        assert str(FILE_CHOOSE_AGAIN) in form["agreement"].errors
        assert str(PHOTOS_CHOOSE_AGAIN) not in form["agreement"].errors
        # Nothing sent, nothing said; a valid form says nothing either.
        assert not AgreementForm(data={"title": ""}).is_valid()
        assert AgreementForm(data={"title": ""})["agreement"].errors == []
        valid = AgreementForm(data={"title": "共建"}, files={"agreement": SimpleUploadedFile("a.pdf", PDF)})
        assert valid.is_valid(), valid.errors
        assert valid["agreement"].errors == []


def test_in_chinese_it_says_so_in_chinese():
    with translation.override("zh-hans"):
        form = AgreementForm(data={"title": ""}, files={"agreement": SimpleUploadedFile("a.pdf", PDF)})
        form.is_valid()
        assert "所选文件未能保存" in " ".join(form["agreement"].errors)
