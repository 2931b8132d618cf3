# expect: vulnerable cookie
from django.http import HttpResponse


def view(request):
    value, limit = request.GET.get("q", ""), 10
    response = HttpResponse("ok")
    response.set_cookie("seen", "1", secure=False, httponly=True)
    return response
