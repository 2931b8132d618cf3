# expect: vulnerable xss
from django.http import HttpResponse
from django.utils.safestring import mark_safe


def update_profile(request, user_id):
    pieces = [request.POST["field"]]
    value = "".join(pieces)
    return HttpResponse(mark_safe(value))
