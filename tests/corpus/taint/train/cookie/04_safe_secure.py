# expect: safe cookie
from django.http import HttpResponse


def view(request):
    value, limit = request.GET.get("q", ""), 10
    response = HttpResponse(str(len(value)))
    response.set_cookie("seen", "1", secure=True, httponly=True, samesite="Lax")
    return response
