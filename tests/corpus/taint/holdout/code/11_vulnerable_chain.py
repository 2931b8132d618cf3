# expect: vulnerable code
from django.http import HttpResponse


def first(x):
    return second(x)


def second(y):
    return y


def update_profile(request, user_id):
    value = first(request.POST["field"])
    namespace = {}
    exec("def f():\n    return " + value, namespace)
