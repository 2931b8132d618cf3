# expect: vulnerable xss
from django.http import HttpResponse
from django.utils.safestring import mark_safe


class Holder:
    def unwrap(self, item):
        return item


def update_profile(request, user_id):
    value = Holder().unwrap(request.POST["field"])
    return HttpResponse(mark_safe(value))
