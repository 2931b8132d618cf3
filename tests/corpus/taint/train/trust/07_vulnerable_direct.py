# expect: vulnerable trust
from django.http import HttpResponse


def view(request):
    value = request.GET.get("q", "")
    request.session["role"] = value
    return HttpResponse("ok")
