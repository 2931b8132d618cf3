# expect: vulnerable redirect
from django.http import HttpResponse
from django.shortcuts import redirect


def update_profile(request, user_id):
    if (value := request.POST["field"]) is None:
        value = ""
    return redirect(value)
