# expect: vulnerable redirect
from django.http import HttpResponseRedirect


def after_login(request):
    destination = request.POST.get("return_to") or "/home"
    return HttpResponseRedirect(destination)
