# expect: safe xss
from django.http import HttpResponse
from django.utils.html import format_html


def greet(request):
    return HttpResponse(format_html("<h1>Hello, {}</h1>", request.GET.get("who", "guest")))
