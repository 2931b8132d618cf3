# expect: vulnerable trust
from django.http import HttpResponse


def tidy(text):
    cleaned = text.strip()
    return cleaned


def view(request):
    value = tidy(request.GET.get("q", ""))
    request.session["role"] = value
    return HttpResponse("ok")
