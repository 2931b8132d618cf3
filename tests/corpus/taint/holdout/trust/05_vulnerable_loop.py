# expect: vulnerable trust
from django.http import HttpResponse


def update_profile(request, user_id):
    value = ""
    for ch in request.POST["field"]:
        value += ch
    prefs = {"lang": value}
    request.session["prefs"] = prefs
    return HttpResponse("saved")
