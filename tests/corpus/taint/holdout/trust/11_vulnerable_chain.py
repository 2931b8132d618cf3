# expect: vulnerable trust
from django.http import HttpResponse


def first(x):
    return second(x)


def second(y):
    return y


def update_profile(request, user_id):
    value = first(request.POST["field"])
    prefs = {"lang": value}
    request.session["prefs"] = prefs
    return HttpResponse("saved")
