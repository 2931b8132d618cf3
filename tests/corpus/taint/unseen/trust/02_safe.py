# expect: safe trust
from django.http import HttpResponse


def set_theme(request):
    theme = request.headers.get("X-Theme", "light")
    request.session["theme"] = "dark" if theme == "dark" else "light"
    return HttpResponse("ok")
