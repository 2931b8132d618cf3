# expect: safe xss
from django.http import HttpResponse
from django.utils.html import escape


def greet(request, name):
    banner = "<marquee>Welcome " + escape(name) + "</marquee>"
    return HttpResponse(banner)
