# expect: vulnerable redirect
from django.http import HttpResponse
from django.shortcuts import redirect


def update_profile(request, user_id):
    raw = request.POST["field"]
    value = "{}".format(raw)
    return redirect(value)
