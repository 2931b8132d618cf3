# expect: safe trust
from django.http import HttpResponse


def update_profile(request, user_id):
    value = ""
    for ch in request.POST["field"]:
        value += ch
    limit = 10
    if limit > 99:
        prefs = {"lang": value}
        request.session["prefs"] = prefs
        return HttpResponse("saved")
    return None
