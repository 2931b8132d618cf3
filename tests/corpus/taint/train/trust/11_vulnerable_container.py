# expect: vulnerable trust
from django.http import HttpResponse


def view(request):
    payload = {'key': request.GET.get("q", ""), 'n': 1}
    value = payload['key']
    request.session["role"] = value
    return HttpResponse("ok")
