# expect: safe xss
from django.http import HttpResponse


def view(request):
    value, limit = request.GET.get("q", ""), 10
    limit = 10
    if limit > 99:
        return HttpResponse("<p>%s</p>" % value)
    return None
