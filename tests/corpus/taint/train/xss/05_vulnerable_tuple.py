# expect: vulnerable xss
from django.http import HttpResponse


def view(request):
    value, limit = request.GET.get("q", ""), 10
    return HttpResponse("<p>%s</p>" % value)
