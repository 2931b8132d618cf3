# expect: vulnerable xss
from django.http import HttpResponse


def greet(request):
    parts = ["<h1>Hello, ", request.GET.get("who", "guest"), "</h1>"]
    return HttpResponse("".join(parts))
