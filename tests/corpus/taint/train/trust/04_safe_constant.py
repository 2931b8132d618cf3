# expect: safe trust
from django.http import HttpResponse


def tidy(text):
    cleaned = text.strip()
    return cleaned


def view(request):
    value = tidy(request.GET.get("q", ""))
    value = "report.txt"
    request.session["role"] = value
    return HttpResponse("ok")
