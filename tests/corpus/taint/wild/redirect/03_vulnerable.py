# expect: vulnerable redirect
from django.shortcuts import redirect


def sso_return(request):
    target = request.GET["return_to"]
    response = redirect(target)
    response["Cache-Control"] = "no-store"
    return response
