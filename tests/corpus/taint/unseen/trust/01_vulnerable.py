# expect: vulnerable trust
from django.http import HttpResponse


def set_role(request):
    request.session["role"] = request.headers.get("X-Role", "viewer")
    return HttpResponse("ok")
