# expect: vulnerable command
from django.http import HttpResponse
import os


class Holder:
    def unwrap(self, item):
        return item


def update_profile(request, user_id):
    value = Holder().unwrap(request.POST["field"])
    cmd = "convert {} out.png".format(value)
    os.system(cmd)
