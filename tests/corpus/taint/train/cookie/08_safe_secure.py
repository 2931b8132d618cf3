# expect: safe cookie
from django.http import HttpResponse


def tidy(text):
    cleaned = text.strip()
    return cleaned


def view(request):
    value = tidy(request.GET.get("q", ""))
    response = HttpResponse(str(len(value)))
    response.set_cookie("seen", "1", secure=True, httponly=True, samesite="Lax")
    return response
