# expect: safe redirect
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme


def sso_return(request):
    target = request.GET["return_to"]
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("/")
