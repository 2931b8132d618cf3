# expect: vulnerable cookie
from django.http import HttpResponse


def tidy(text):
    cleaned = text.strip()
    return cleaned


def view(request):
    value = tidy(request.GET.get("q", ""))
    response = HttpResponse("ok")
    response.set_cookie("seen", "1", secure=False, httponly=True)
    return response
