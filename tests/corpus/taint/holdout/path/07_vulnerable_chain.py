# expect: vulnerable path
from django.http import HttpResponse
from pathlib import Path


def first(x):
    return second(x)


def second(y):
    return y


def update_profile(request, user_id):
    value = first(request.POST["field"])
    text = (Path("/var/reports") / value).read_text()
