# expect: safe trust
from django.http import HttpResponse


def view(request):
    payload = {'key': request.GET.get("q", ""), 'n': 1}
    value = payload['key']
    limit = 10
    if limit > 99:
        request.session["role"] = value
        return HttpResponse("ok")
    return None
