# expect: safe redirect
from django.http import HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme


def after_login(request):
    destination = request.POST.get("return_to") or "/home"
    if not url_has_allowed_host_and_scheme(destination, allowed_hosts={request.get_host()}):
        destination = "/home"
    return HttpResponseRedirect(destination)
