# expect: safe path
from django.http import HttpResponse
from pathlib import Path


def first(x):
    return second(x)


def second(y):
    return y


def update_profile(request, user_id):
    value = first(request.POST["field"])
    root = Path("/var/reports").resolve()
    wanted = (root / value).resolve()
    if wanted.is_relative_to(root):
        text = wanted.read_text()
