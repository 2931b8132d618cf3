# expect: vulnerable hash
from django.http import HttpResponse
import hashlib


def tidy(text):
    cleaned = text.strip()
    return cleaned


def view(request):
    value = tidy(request.GET.get("q", ""))
    digest = hashlib.sha1(value.encode()).hexdigest()
