# expect: safe trust
from django.http import HttpResponse


def view(request):
    value = request.GET.get("q", "")
    request.session["role"] = "guest"
    return HttpResponse(value and "ok")
