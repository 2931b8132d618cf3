# expect: vulnerable cookie
from django.http import HttpResponse


def remember(request):
    response = HttpResponse("remembered")
    response.set_cookie("remember_me", "1", max_age=30 * 24 * 3600, httponly=True)
    return response
