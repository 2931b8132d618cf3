# expect: vulnerable xss
from django.http import HttpResponse
from django.utils.safestring import mark_safe


def greet(request, name):
    banner = mark_safe("<marquee>Welcome " + name + "</marquee>")
    return HttpResponse(banner)
